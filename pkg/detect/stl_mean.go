package detect

import "math"

// periodicMean replaces every S_i by the mean of the values of its phase
// (i mod np, 0-based), as R's stl does for s.window = "periodic"
// (shesd.md §9.9). R's mean sums in long double and adds a correction
// pass; the mean here is the exact sum divided by the count, rounded once,
// which reproduces it.
func periodicMean(S []float64, np int) {
	n := len(S)
	for c := 0; c < np && c < n; c++ {
		var hi, lo float64
		cnt := 0
		for i := c; i < n; i += np {
			hi, lo = ddAdd(hi, lo, S[i])
			cnt++
		}
		m := ddDivInt(hi, lo, cnt)
		for i := c; i < n; i += np {
			S[i] = m
		}
	}
}

// ddAdd adds x to the double-double hi + lo (Knuth's two-sum for the
// leading part; the rounding errors collect in lo).
func ddAdd(hi, lo, x float64) (float64, float64) {
	s := hi + x
	bp := s - hi
	err := (hi - (s - bp)) + (x - bp)
	lo += err
	// Renormalise so that |lo| stays below half an ulp of hi.
	s2 := s + lo
	lo = lo - (s2 - s)
	return s2, lo
}

// ddDivInt returns (hi + lo)/k rounded to float64: the quotient of hi, the
// exact remainder of that division (math.FMA computes hi − q·k without
// rounding), and a correction from the remainder plus lo.
func ddDivInt(hi, lo float64, k int) float64 {
	fk := float64(k)
	q := hi / fk
	if math.IsInf(q, 0) || math.IsNaN(q) {
		return (hi + lo) / fk
	}
	r := math.FMA(-q, fk, hi) + lo
	return q + r/fk
}
