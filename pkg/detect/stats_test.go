package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Sanity values of spec §10.4, computed with R 4.2.2.
func TestStats_R(t *testing.T) {
	x := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"median", Median(x), 4},
		{"mad", MAD(x), 1.4825999999999999},
		{"p95", Quantile7(0.95, x), 7.5},
		{"p99", Quantile7(0.99, x), 8.7000000000000011},
		{"median even", Median([]float64{1, 2, 3, 4}), 2.5},
		{"median one", Median([]float64{7}), 7},
		{"quantile one", Quantile7(0.95, []float64{7}), 7},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, R %v", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(MAD(nil)) || !math.IsNaN(Median([]float64{1, math.NaN()})) {
		t.Error("empty input or NA must give NaN")
	}
	if x[0] != 3 || x[10] != 5 {
		t.Error("input was modified")
	}
}

func TestRadix_SortPairsStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r radixSorter
	for _, n := range []int{1, 2, 3, 10, 1000, 5000, 20000} {
		x := make([]float64, n)
		for i := range x {
			switch rng.IntN(6) {
			case 4:
				// Values that differ only in the low half of their keys,
				// with ties: long runs for the sort's second stage.
				x[i] = 1 + float64(rng.IntN(64))*0x1p-45
			case 5:
				x[i] = -3 - float64(rng.IntN(8))*0x1p-50
			case 0:
				x[i] = float64(rng.IntN(5)) - 2 // ties and zeros
			case 1:
				x[i] = rng.NormFloat64() * 1e-300
			case 2:
				x[i] = rng.NormFloat64() * 1e300
			default:
				x[i] = rng.NormFloat64()
			}
		}
		if n > 3 {
			x[0], x[1] = math.Inf(1), math.Inf(-1)
			x[2], x[3] = 0, math.Copysign(0, -1) // +0 before −0: equal keys
		}
		// Stable, so equal keys keep their index order.
		keys := make([]uint64, n)
		idx := make([]int32, n)
		for i, v := range x {
			keys[i], idx[i] = floatKey(v), int32(i)
		}
		r.sortPairs(keys, idx)
		for i, j := range idx {
			if keys[i] != floatKey(x[j]) {
				t.Fatalf("n=%d: key %d does not belong to index %d", n, i, j)
			}
		}
		seen := make([]bool, n)
		for _, i := range idx {
			if seen[i] {
				t.Fatalf("n=%d: index %d twice", n, i)
			}
			seen[i] = true
		}
		for i := 1; i < n; i++ {
			a, b := x[idx[i-1]], x[idx[i]]
			if a > b || a == b && idx[i-1] > idx[i] {
				t.Fatalf("n=%d: pairs out of order at %d", n, i)
			}
		}
	}
}
