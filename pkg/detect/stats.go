package detect

import (
	"math"
	"slices"
)

// madConstant is the consistency constant of R's mad(): the MAD of a normal
// sample times 1.4826 estimates its standard deviation.
const madConstant = 1.4826

// Median returns the median of x as R's median() computes it: the middle
// element of the sorted values for an odd count, the mean (a+b)/2 of the two
// middle elements for an even count. It returns NaN for an empty x or when x
// contains NaN (R's NA). x is not modified.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := make([]float64, len(x))
	copy(s, x)
	return medianInPlace(s)
}

// medianInPlace returns the median of x, reordering x.
func medianInPlace(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	slices.Sort(x)
	return medianSorted(x)
}

// medianSorted returns the median of ascending values.
func medianSorted(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MAD returns R's mad(x): 1.4826 × median(|x − median(x)|). It returns NaN
// for an empty x or when x contains NaN.
func MAD(x []float64) float64 {
	m := Median(x)
	if math.IsNaN(m) {
		return m
	}
	d := make([]float64, len(x))
	for i, v := range x {
		d[i] = math.Abs(v - m)
	}
	return madConstant * medianInPlace(d)
}

// Quantile7 returns the type-7 quantile (R's default quantile()) at
// probability p of x: with the values sorted, idx = 1 + (n−1)·p,
// lo = ⌊idx⌋, hi = ⌈idx⌉ and h = idx − lo, it is x[lo] when h = 0 or
// x[lo] = x[hi], else (1−h)·x[lo] + h·x[hi]. It returns NaN for an empty x
// or when x contains NaN (R fails on NA there; callers report that). x is
// not modified.
func Quantile7(p float64, x []float64) float64 {
	s := make([]float64, len(x))
	copy(s, x)
	return quantile7InPlace(p, s)
}

func quantile7InPlace(p float64, x []float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	slices.Sort(x)
	idx := 1 + float64(n-1)*p
	lo := math.Floor(idx)
	hi := math.Ceil(idx)
	q := x[int(lo)-1]
	if idx > lo && x[int(hi)-1] != q {
		h := idx - lo
		q = float64((1-h)*q) + float64(h*x[int(hi)-1])
	}
	return q
}
