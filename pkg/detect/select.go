package detect

import (
	"math/bits"
	"slices"
)

// medianSelect returns the median of x (no NaN), reordering x, in expected
// O(n) time: a quickselect with median-of-three pivots that falls back to
// sorting when partitioning goes badly (introselect), so the worst case
// stays O(n log n). The value is the one medianSorted would return on
// the sorted x: selection finds the same order statistics.
func medianSelect(x []float64) float64 {
	n := len(x)
	k := n / 2
	hi := selectKth(x, k)
	if n%2 == 1 {
		return hi
	}
	// The lower middle element is the largest of x[:k].
	lo := x[0]
	for _, v := range x[1:k] {
		if v > lo {
			lo = v
		}
	}
	return (lo + hi) / 2
}

// selectKth rearranges x so that x[k] is the k-th smallest (0-based), every
// element before it ≤ x[k] and every element after it ≥ x[k], and returns
// x[k].
func selectKth(x []float64, k int) float64 {
	lo, hi := 0, len(x)-1
	budget := 2 * bits.Len(uint(len(x)))
	for hi > lo {
		if budget == 0 {
			slices.Sort(x[lo : hi+1])
			return x[k]
		}
		budget--
		// Median of three as the pivot, moved to x[lo].
		mid := int(uint(lo+hi) >> 1)
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		x[lo], x[mid] = x[mid], x[lo]
		p := x[lo]
		// Hoare partition around p.
		i, j := lo+1, hi
		for {
			for i <= j && x[i] < p {
				i++
			}
			for i <= j && x[j] > p {
				j--
			}
			if i >= j {
				break
			}
			x[i], x[j] = x[j], x[i]
			i++
			j--
		}
		x[lo], x[j] = x[j], x[lo]
		switch {
		case k < j:
			hi = j - 1
		case k > j:
			lo = j + 1
		default:
			return x[k]
		}
	}
	return x[k]
}
