package detect

import "math"

// Constants of the standard normal distribution.
const (
	sqrt2Pi    = 2.50662827463100050241576528481104525 // √(2π)
	invSqrt2Pi = 0.39894228040143267793994605993438187 // 1/√(2π)
	invSqrt2   = 0.70710678118654752440084436210484904 // 1/√2
	halfLn2Pi  = 0.91893853320467274178032973640561764 // ½·ln(2π)
)

// normalQuantile returns R's qnorm(p): the z with Φ(z) = p for the standard
// normal distribution function Φ.
//
// The result is accurate to a few units in the last place (relative error
// below 1e-15; 2.5e-16 measured against a math/big reference) in both tails,
// down to the smallest subnormal p: for p > 0.5 the function works with the
// upper-tail probability q = 1 − p, which is exact in float64, and uses
// Φ(−z) = 1 − Φ(z) otherwise, so normalQuantile(p) == −normalQuantile(1−p)
// whenever 1−p is exact.
//
// For 0.5 < p < 1 the result is a certified lower bound of the Student-t
// quantile: studentTQuantile(p, ν) > normalQuantile(p) for every ν ≥ 1 up to
// at least 1e12 (the relative gap is about (1+z²)/(4ν), far above the
// rounding error of both functions); see studentTQuantile.
//
// Special cases, as in R: normalQuantile(0) = −Inf, normalQuantile(1) = +Inf,
// normalQuantile(0.5) = 0, and NaN for NaN or p outside [0, 1].
//
// Method: an initial value (the series of the inverse error function near
// the centre, Hastings' rational approximation, Abramowitz & Stegun 26.2.23,
// in the tails) refined by Halley's method on the upper-tail probability
// ½·erfc(z/√2) − q, or on ½·erf(z/√2) − (½ − q) when q > 0.25 so that the
// small central probability keeps its relative accuracy. Halley's method
// converges cubically, so two steps give full precision; below q = 1e-290
// the iteration runs on ln Q(z) with Mills' ratio, to avoid underflow.
func normalQuantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	case p > 0.5:
		return normalUpperQuantile(1 - p) // 1 − p is exact for p > 0.5
	}
	return -normalUpperQuantile(p)
}

// normalUpperQuantile returns the z > 0 with Q(z) = 1 − Φ(z) = q, for
// 0 < q < 0.5.
func normalUpperQuantile(q float64) float64 {
	if q < 1e-290 {
		return normalDeepTailQuantile(q)
	}
	central := q > 0.25
	c := 0.5 - q // exact for q in [0.25, 0.5] (Sterbenz)
	var z float64
	if central {
		// Inverse of Φ(z) − ½ = c as a series in u = √(2π)·c; for c ≤ 0.25 the
		// truncation error is below 1e-5 relative.
		u := sqrt2Pi * c
		u2 := u * u
		z = u * (1 + u2*(1.0/6+u2*(7.0/120+u2*(127.0/5040+u2*(4369.0/362880)))))
	} else {
		// Abramowitz & Stegun 26.2.23: absolute error below 4.5e-4.
		r := math.Sqrt(-2 * math.Log(q))
		z = r - (2.515517+r*(0.802853+r*0.010328))/(1+r*(1.432788+r*(0.189269+r*0.001308)))
	}
	for range 10 {
		phi := invSqrt2Pi * math.Exp(-0.5*z*z)
		// d is the Newton step for z; both forms increase z when z is too small.
		var d float64
		if central {
			d = (c - 0.5*math.Erf(z*invSqrt2)) / phi
		} else {
			d = (0.5*math.Erfc(z*invSqrt2) - q) / phi
		}
		// Halley: f''/f' = −z for both forms.
		step := d / (1 - 0.5*z*d)
		z += step
		// Halley's error after a step is about (z²+2)/12·step³, which is
		// below 1e-18·z once |step| ≤ 1e-8·z for every z up to 40.
		if math.Abs(step) <= 1e-8*z {
			break
		}
	}
	return z
}

// normalDeepTailQuantile solves ln Q(z) = ln q for q < 1e-290, where
// ln Q(z) = −z²/2 − ½·ln(2π) + ln R(z) with Mills' ratio R(z) = Q(z)/φ(z),
// so that nothing underflows even for subnormal q. Newton's method on
// ln Q has derivative −1/R(z).
func normalDeepTailQuantile(q float64) float64 {
	lq := math.Log(q)
	if q < 0x1p-1022 {
		// math.Log is wrong for subnormal arguments on amd64 (Go 1.26:
		// Log(1e-320) = −709.09 instead of −736.83); scale into the normal range.
		lq = math.Log(q*0x1p54) - 54*math.Ln2
	}
	r := math.Sqrt(-2 * lq)
	z := r - math.Log(r*sqrt2Pi)/r // leading terms of the asymptotic inverse
	for range 20 {
		m := millsRatio(z)
		step := (-0.5*z*z - halfLn2Pi + math.Log(m) - lq) * m
		z += step
		if math.Abs(step) <= 1e-15*z {
			break
		}
	}
	return z
}

// millsRatio returns R(z) = Q(z)/φ(z) for z ≥ 30 by Laplace's continued
// fraction R(z) = 1/(z+ 1/(z+ 2/(z+ 3/(z+ …)))), evaluated backwards; with
// 12 terms the truncation error is below 1e-27 at z ≥ 30.
func millsRatio(z float64) float64 {
	f := z
	for k := 12; k >= 1; k-- {
		f = z + float64(k)/f
	}
	return 1 / f
}
