package detect

import (
	"fmt"
	"math"
	"math/big"
	"testing"
)

// relErr returns |got − want|/|want|, or |got| if want is 0.
func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestNormalQuantile_Special(t *testing.T) {
	for _, tc := range []struct {
		p, want float64
	}{
		{math.NaN(), math.NaN()},
		{-0.1, math.NaN()},
		{1.1, math.NaN()},
		{math.Inf(1), math.NaN()},
		{0, math.Inf(-1)},
		{1, math.Inf(1)},
		{0.5, 0},
	} {
		got := normalQuantile(tc.p)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("normalQuantile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	// Subnormal tail probabilities keep full accuracy (the deep-tail
	// iteration works with ln q). Values: mpmath, 40 digits.
	for _, tc := range []struct{ p, want float64 }{
		{1e-310, -37.663060331949524},
		{1e-320, -38.269125343032651},
		{5e-324, -38.467405617144346},
	} {
		if got := normalQuantile(tc.p); relErr(got, tc.want) > 1e-15 {
			t.Errorf("normalQuantile(%g) = %.17g, want %.17g", tc.p, got, tc.want)
		}
	}
}

func TestNormalQuantile_KnownValues(t *testing.T) {
	// qnorm(0.975) as R prints it (spec brief); the others are the exact
	// quantiles of the float64 p, rounded to 17 digits (mpmath, 50 digits).
	for _, tc := range []struct {
		p, want, tol float64
	}{
		{0.975, 1.959963984540054, 1e-15},
		{0.025, -1.959963984540054, 1e-15},
		{0.95, 1.6448536269514723, 1e-15},
		{0.995, 2.5758293035489005, 1e-15},
		{0.999, 3.0902323061678133, 1e-15},
		{0.75, 0.67448975019608174, 1e-15},
		{0.8413447460685429, 0.99999999999999991, 1e-15}, // R's pnorm(1)
	} {
		if got := normalQuantile(tc.p); relErr(got, tc.want) > tc.tol {
			t.Errorf("normalQuantile(%v) = %.17g, want %.17g (rel %.2g)", tc.p, got, tc.want, relErr(got, tc.want))
		}
	}
}

func TestNormalQuantile_Symmetry(t *testing.T) {
	// For p = k/2^20 both p and 1−p are exact, so the two calls see the same
	// tail probability and must agree to the bit.
	for k := 1; k < 1<<20; k += 997 {
		p := float64(k) / (1 << 20)
		if a, b := normalQuantile(p), normalQuantile(1-p); a != -b {
			t.Fatalf("normalQuantile(%v) = %v, normalQuantile(1-p) = %v", p, a, b)
		}
	}
}

// TestNormalQuantile_HighPrecision checks z = normalQuantile(p) against the
// upper tail Q(z) = ½·erfc(z/√2) evaluated with math/big to about 90 digits:
// the relative error of z is (Q(z) − q)/(φ(z)·z) to first order.
func TestNormalQuantile_HighPrecision(t *testing.T) {
	ps := []float64{0.5 + 0x1p-40, 0.5000001, 0.51, 0.6, 0.7, 0.75, 0.7500001}
	for _, q := range []float64{0.2499999, 0.2, 0.1, 0.05, 0.025, 1e-2, 1e-3, 1e-4, 1e-5,
		1e-6, 2.5e-7, 1e-7, 1e-8, 5e-9, 1e-10, 1e-12, 1e-14} {
		ps = append(ps, 1-q)
	}
	for _, q := range []float64{1e-16, 1e-20, 1e-30, 1e-50, 1e-100, 1e-150, 1e-200,
		1e-250, 1e-280, 1e-290, 1e-291, 1e-295, 1e-300} {
		ps = append(ps, q) // lower tail: z < 0 with Φ(z) = q
	}
	worst := 0.0
	for _, p := range ps {
		z := normalQuantile(p)
		q := 1 - p // exact for p > 0.5
		if p < 0.5 {
			q, z = p, -z
		}
		ref := bigNormalUpper(z, 300)
		diff, _ := new(big.Float).Sub(ref, big.NewFloat(q)).Float64()
		phi := invSqrt2Pi * math.Exp(-0.5*z*z)
		rel := math.Abs(diff / phi / z)
		worst = max(worst, rel)
		if rel > 1e-15 {
			t.Errorf("p = %v: z = %.17g, relative error %.3g", p, z, rel)
		}
	}
	t.Logf("max relative error %.3g over %d values", worst, len(ps))
}

// bigNormalUpper returns Q(z) = ½·erfc(z/√2) for z > 0 to about prec bits:
// by the series erf(x) = (2/√π)·e^(−x²)·Σ 2^n·x^(2n+1)/(1·3·…·(2n+1)) for
// x ≤ 3, by Laplace's continued fraction
// erfc(x) = e^(−x²)/√π · 1/(x+ ½/(x+ 1/(x+ (3/2)/(x+ …)))) above.
func bigNormalUpper(z float64, prec uint) *big.Float {
	return bigNormalUpperBy(z, prec, z/math.Sqrt2 <= 3)
}

// bigNormalUpperBy is bigNormalUpper with the method chosen by the caller.
func bigNormalUpperBy(z float64, prec uint, series bool) *big.Float {
	nf := func(v float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(v) }
	x := nf(z)
	x.Quo(x, new(big.Float).SetPrec(prec).Sqrt(nf(2)))
	x2 := new(big.Float).SetPrec(prec).Mul(x, x)
	ex2 := bigExp(new(big.Float).Neg(x2), prec)
	sqrtPi := new(big.Float).SetPrec(prec).Sqrt(bigPi(prec))
	res := new(big.Float).SetPrec(prec)
	if series {
		term := new(big.Float).SetPrec(prec).Set(x)
		sum := new(big.Float).SetPrec(prec).Set(x)
		twoX2 := new(big.Float).SetPrec(prec).Mul(x2, nf(2))
		eps := new(big.Float).SetMantExp(nf(1), -int(prec))
		for n := 1; ; n++ {
			term.Mul(term, twoX2)
			term.Quo(term, nf(float64(2*n+1)))
			sum.Add(sum, term)
			if new(big.Float).Quo(term, sum).Cmp(eps) < 0 {
				break
			}
		}
		sum.Mul(sum, ex2)
		sum.Mul(sum, nf(2))
		sum.Quo(sum, sqrtPi) // erf(x)
		res.Sub(nf(1), sum)  // erfc(x)
		return res.Quo(res, nf(2))
	}
	f := new(big.Float).SetPrec(prec).Set(x)
	tmp := new(big.Float).SetPrec(prec)
	for k := 4000; k >= 1; k-- {
		tmp.Quo(nf(float64(k)/2), f)
		f.Add(x, tmp)
	}
	res.Quo(ex2, f)
	res.Quo(res, sqrtPi)
	return res.Quo(res, nf(2))
}

// TestBigNormalUpper_Consistency cross-checks the two methods of the
// reference where they meet and a little beyond.
func TestBigNormalUpper_Consistency(t *testing.T) {
	for _, z := range []float64{3.5, 3 * math.Sqrt2, 5} {
		a := bigNormalUpperBy(z, 300, true)
		b := bigNormalUpperBy(z, 300, false)
		d := new(big.Float).Sub(a, b)
		d.Quo(d, a)
		if d.Sign() != 0 && d.MantExp(nil) > -200 {
			t.Errorf("z = %v: series and continued fraction differ by %.3g relative", z, d)
		}
	}
}

// bigExp returns e^x to about prec bits: e^x = (e^(x/2^k))^(2^k) with
// |x/2^k| < 2^-8 and a Taylor series.
func bigExp(x *big.Float, prec uint) *big.Float {
	p := prec + 64
	r := new(big.Float).SetPrec(p).Set(x)
	k := 0
	limit := big.NewFloat(0x1p-8)
	for new(big.Float).Abs(r).Cmp(limit) > 0 {
		r.Quo(r, big.NewFloat(2))
		k++
	}
	sum := new(big.Float).SetPrec(p).SetInt64(1)
	term := new(big.Float).SetPrec(p).SetInt64(1)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(p))
	for n := 1; ; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetInt64(int64(n)))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	for range k {
		sum.Mul(sum, sum)
	}
	return sum.SetPrec(prec)
}

// bigAtanSmall returns atan(x) for |x| ≤ 1/2 by its Taylor series.
func bigAtanSmall(x *big.Float, prec uint) *big.Float {
	x2 := new(big.Float).SetPrec(prec).Mul(x, x)
	term := new(big.Float).SetPrec(prec).Set(x)
	sum := new(big.Float).SetPrec(prec).Set(x)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(prec))
	tmp := new(big.Float).SetPrec(prec)
	for n := 1; ; n++ {
		term.Mul(term, x2)
		term.Neg(term)
		tmp.Quo(term, new(big.Float).SetInt64(int64(2*n+1)))
		sum.Add(sum, tmp)
		if new(big.Float).Abs(tmp).Cmp(eps) < 0 {
			break
		}
	}
	return sum
}

// bigPi returns π by Machin's formula π = 16·atan(1/5) − 4·atan(1/239).
func bigPi(prec uint) *big.Float {
	p := prec + 32
	a := bigAtanSmall(new(big.Float).SetPrec(p).Quo(big.NewFloat(1), big.NewFloat(5)), p)
	b := bigAtanSmall(new(big.Float).SetPrec(p).Quo(big.NewFloat(1), big.NewFloat(239)), p)
	a.Mul(a, big.NewFloat(16))
	b.Mul(b, big.NewFloat(4))
	return a.Sub(a, b).SetPrec(prec)
}

// bigAtan returns atan(x) for x ≥ 0: π/2 − atan(1/x) above 1, then the
// half-angle formula atan(x) = 2·atan(x/(1+√(1+x²))) down to the series.
func bigAtan(x *big.Float, prec uint) *big.Float {
	p := prec + 32
	one := big.NewFloat(1)
	if x.Cmp(one) > 0 {
		inv := new(big.Float).SetPrec(p).Quo(one, x)
		r := bigAtan(inv, p)
		half := bigPi(p)
		half.Quo(half, big.NewFloat(2))
		return half.Sub(half, r).SetPrec(prec)
	}
	r := new(big.Float).SetPrec(p).Set(x)
	for range 4 { // atan(1) → atan(tan(π/64)) ≈ 0.049
		s := new(big.Float).SetPrec(p).Mul(r, r)
		s.Add(s, one)
		s.Sqrt(s)
		s.Add(s, one)
		r.Quo(r, s)
	}
	a := bigAtanSmall(r, p)
	a.Mul(a, big.NewFloat(16))
	return a.SetPrec(prec)
}

func TestBigHelpers(t *testing.T) {
	// Cross-checks of the test's own high-precision helpers.
	const prec = 200
	pi, _ := bigPi(prec).Float64()
	if pi != math.Pi {
		t.Errorf("bigPi = %v", pi)
	}
	four := bigAtan(big.NewFloat(1), prec)
	four.Mul(four, big.NewFloat(4))
	d := new(big.Float).Sub(four, bigPi(prec))
	if d.Sign() != 0 && d.MantExp(nil) > -190 {
		t.Errorf("4·atan(1) − π = %g", d)
	}
	for _, v := range []float64{-700, -30, -1, -1e-5, 0.3, 5} {
		got, _ := bigExp(big.NewFloat(v), prec).Float64()
		if relErr(got, math.Exp(v)) > 1e-15 {
			t.Errorf("bigExp(%v) = %v, math.Exp = %v", v, got, math.Exp(v))
		}
	}
	for _, v := range []float64{0.01, 0.3, 1, 2, 1e6} {
		got, _ := bigAtan(big.NewFloat(v), prec).Float64()
		if relErr(got, math.Atan(v)) > 1e-15 {
			t.Errorf("bigAtan(%v) = %v, math.Atan = %v", v, got, math.Atan(v))
		}
	}
}

func BenchmarkNormalQuantile(b *testing.B) {
	for _, q := range []float64{0.3, 2.5e-7, 1e-300} {
		b.Run(fmt.Sprint(q), func(b *testing.B) {
			b.ReportAllocs()
			p := 1 - q
			if q < 1e-16 {
				p = q
			}
			for b.Loop() {
				normalQuantile(p)
			}
		})
	}
}
