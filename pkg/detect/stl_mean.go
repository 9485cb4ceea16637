package detect

import "math"

// periodicMean replaces every S_i by the mean of the values of its phase
// (i mod np, 0-based), as R's stl does for s.window = "periodic"
// (shesd.md §9.9). R's mean sums in long double and adds a correction
// pass; the mean here is the exact sum divided by the count, rounded once,
// which reproduces it. hi and lo are scratch space of np values; the
// phases are summed side by side, one cycle at a time, each in its order.
func periodicMean(S []float64, np int, hi, lo []float64) {
	n := len(S)
	hi, lo = hi[:np], lo[:np]
	clear(hi)
	clear(lo)
	for r := 0; r < n; r += np {
		row := S[r:min(r+np, n)]
		h, l := hi[:len(row)], lo[:len(row)]
		for c, x := range row {
			h[c], l[c] = ddAdd(h[c], l[c], x)
		}
	}
	full, rest := n/np, n%np
	for c := range hi {
		cnt := full
		if c < rest {
			cnt++
		}
		hi[c] = ddDivInt(hi[c], lo[c], cnt)
	}
	for r := 0; r < n; r += np {
		row := S[r:min(r+np, n)]
		copy(row, hi[:len(row)])
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
