package detect

import "math"

// studentTQuantile returns R's qt(p, ν): the t with P(T ≤ t) = p for
// Student's t distribution with ν > 0 degrees of freedom (ν need not be an
// integer).
//
// The ESD test (spec §5.6 step 6) calls it with p = 1 − α/(n−s+1) or
// p = 1 − α/(2(n−s+1)) computed in float64 and ν = n − s − 1. The function
// works from the upper-tail probability q = 1 − p, which is exact in float64
// for p > 0.5 (spec §10.4: using α/(…) directly instead changes t in the 12th
// digit). For p < 0.5 it returns −studentTQuantile(1−p, ν) with q = p.
//
// Accuracy: relative error below 2e-15 (typically a few units in the last
// place) for ν ≥ 1 and upper-tail probabilities q from 0.5 down to 1e-10,
// checked against math/big references up to ν = 10⁶; it stays near 1e-15 far
// beyond (q = 1e-300, ν = 1e12). The error of computing x^(ν/2) = e^(−νT/2)
// grows like ε·|ln q|/ν, which matters only for ν < 1 and tiny q (5e-14 at
// ν = 0.01). Results that exceed the float64 range are +Inf.
//
// Heavier tails: for 0.5 < p < 1 and every ν > 0,
// studentTQuantile(p, ν) > normalQuantile(p). Proof: T = Z/√(V/ν) with
// V ~ χ²_ν independent of Z, so for t > 0 P(T ≤ t) = E[Φ(t·√(V/ν))] <
// Φ(t·√(E[V]/ν)) = Φ(t) by Jensen, w ↦ Φ(t·√w) being strictly concave and
// E[V] = ν; a smaller distribution function means a larger quantile. The
// relative gap is about (1+z²)/(4ν) for large ν (z = normalQuantile(p)), at
// least 2.5e-7 for ν ≤ 1e6, so the strict inequality also holds for the
// computed float64 values for every ν up to about 1e12 (checked on a grid in
// the tests). Callers may use normalQuantile(p) as a cheap lower bound.
//
// Special cases, as in R: NaN for NaN p or ν, for ν ≤ 0, and for p outside
// [0, 1]; −Inf for p = 0, +Inf for p = 1, 0 for p = 0.5; for ν > 1e20
// (including +Inf) the normal quantile, as R's qt does.
//
// Method: with x = ν/(ν+t²), the upper tail is Q(t) = ½·I_x(ν/2, ½), where I
// is the regularized incomplete beta function. For ν ≥ 30 and
// T = ln(1+t²/ν) ≤ 2, Q is computed from the large-parameter expansion
//
//	Q(t) = ½·ρ(a)·Σ_k d_k·Γ(2k+½, a'T)/(√π·a'^(2k)),  a = ν/2, a' = a − ¼,
//
// obtained by substituting x = e^(−s) in the beta integral, writing
// e^(−as)(1−e^(−s))^(−1/2) = e^(−a's)·s^(−1/2)·(sinh(s/2)/(s/2))^(−1/2) and
// expanding the last factor as Σ d_k s^(2k) (an expansion in incomplete gamma
// functions for large a and small b, as in DiDonato & Morris 1992 and Temme
// 1996). ρ(a) = Γ(a+½)/(Γ(a)·√a') comes from its asymptotic series in 1/a'
// (see gammaHalfRatioScaled) instead of a difference of log-gamma values, so
// nothing cancels for large ν. Otherwise I is computed from its
// continued fraction (DLMF 8.17.22) on the side where it converges fast.
// Near the centre (q > 0.25) the central probability P(0 < T ≤ t) is used
// instead of Q, so that it keeps its relative accuracy. The equation is then
// solved by Halley's method on ln Q (or ln P) as a function of ln t, from the
// initial value √(ν·expm1(z²/(ν−½))) (the leading term of the expansion) or
// the Pareto-like tail t ≈ √ν·(ν·B(ν/2,½)·q)^(−1/ν), whichever is smaller,
// inside a bracket that the iterates keep updated.
//
// References: A. R. DiDonato, A. H. Morris (1992), "Algorithm 708:
// Significant digit computation of the incomplete beta function ratios", ACM
// TOMS 18(3), 360–373; N. M. Temme (1996), "Special Functions: An
// Introduction to the Classical Functions of Mathematical Physics", Wiley;
// NIST DLMF §8.17.
func studentTQuantile(p, nu float64) float64 {
	switch {
	case math.IsNaN(p) || math.IsNaN(nu) || nu <= 0 || p < 0 || p > 1:
		return math.NaN()
	case nu > 1e20:
		return normalQuantile(p)
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	case p == 0.5:
		return 0
	case p > 0.5:
		return studentTUpperQuantile(1-p, nu) // 1 − p is exact for p > 0.5
	}
	return -studentTUpperQuantile(p, nu)
}

const (
	asymMinNu = 30                                    // smallest ν for the large-ν expansion
	asymMaxT  = 2                                     // largest T = ln(1+t²/ν) for the large-ν expansion
	invSqrtPi = 0.56418958354775628694807945156077259 // 1/√π
)

// tailSeries holds d_k with (sinh(s/2)/(s/2))^(−1/2) = Σ d_k s^(2k), exact
// rationals rounded once by the compiler. They follow from
// ln(sinh(y)/y) = Σ_{k≥1} 2^(2k)·B_2k·y^(2k)/(2k·(2k)!) and the power series
// of exp; TestTailSeries recomputes them with math/big. |d_k| ≈ (2π)^(−2k).
var tailSeries = [...]float64{
	1,
	-1.0 / 48,
	1.0 / 2560,
	-61.0 / 7741440,
	1261.0 / 7431782400,
	-79.0 / 20761804800,
	66643.0 / 761775532277760,
	-16820653.0 / 8227175748599808000,
	3745813.0 / 77499283242221568000,
	-1975649524361.0 / 1714327544916556728238080000,
	19259487248923.0 / 696280725935339963469004800000,
	-15123863844107.0 / 22659911516154193096841625600000,
	288167880325503851.0 / 17816128830461072780460759711744000000,
	-1498614377274034373.0 / 3809412273567676652694882440183808000000,
	1558973307064628243.0 / 162433084747614215834207852754370560000000,
	-83016143282341043449949.0 / 353607729242810281474983779806510464368640000000,
	660397594006540221777041.0 / 114734618666126333412645151257076701868326912000000,
	-454125776023566736357573.0 / 3211619139474178111260791811585252607163105280000000,
	1291613539284482478881956930913.0 / 371167249050618680173257891093351068185094261707898880000000,
	-38204094244969759743598198613531.0 / 445400698860742416207909469312021281822113114049478656000000000,
	21696520688406642061759648019966017.0 / 10247572716745011602585223778582898917655666823417802260480000000000,
	-5943239273303219896317088101377237634601.0 / 113577084241469874604527486754578000057400695146263508733048913920000000000,
	163312409945122356307401437668938801445613.0 / 126131048345793290330045672864492302075579659556513226739755148902400000000000,
}

// studentT holds the ν-dependent constants of Student's t distribution.
type studentT struct {
	nu, a  float64 // ν and a = ν/2
	ap     float64 // a' = a − ¼, the scale of the large-ν expansion
	asym   bool    // ν ≥ asymMinNu: the expansion may be used
	rho    float64 // asym: ρ(a) = Γ(a+½)/(Γ(a)·√a')
	invB   float64 // 1/B(a, ½) = Γ(a+½)/(√π·Γ(a))
	dens0  float64 // the density at 0: 1/(√ν·B(a, ½))
	cfTail float64 // the continued fraction for I_x(a, ½) converges fast for x below this
	cfCent float64 // the continued fraction for I_y(½, a) converges fast for y below this
}

func newStudentT(nu float64) studentT {
	d := studentT{nu: nu, a: nu / 2, asym: nu >= asymMinNu}
	d.ap = d.a - 0.25
	var ratio float64 // Γ(a+½)/Γ(a)
	if d.asym {
		d.rho = gammaHalfRatioScaled(d.a)
		ratio = d.rho * math.Sqrt(d.ap)
	} else {
		ratio = gammaHalfRatio(d.a)
	}
	d.invB = ratio * invSqrtPi
	d.dens0 = d.invB / math.Sqrt(nu)
	d.cfTail = (d.a + 1) / (d.a + 2.5)
	d.cfCent = 1.5 / (d.a + 2.5)
	return d
}

// gammaHalfRatioScaled returns ρ(a) = Γ(a+½)/(Γ(a)·√a'), a' = a − ¼, for
// a ≥ 10. Expanding Stirling's series ln Γ(z) = (z−½)·ln z − z + ½·ln 2π +
// Σ B_2k/(2k(2k−1)·z^(2k−1)) (Abramowitz & Stegun 6.1.40) for z = a+½ and
// z = a in powers of 1/a' leaves only even powers, with the Euler numbers
// E_2k = 1, 5, 61, 1385, … as numerators:
//
//	ln ρ(a) = Σ_{k≥1} (−1)^(k+1)·E_2k/(k·2^(4k+2)·a'^(2k)) = 1/(64a'²) − 5/(2048a'⁴) + …
//
// The series is asymptotic; ten terms leave an error below 2e-19 for
// a' ≥ 9.75. Nothing cancels: this is the point of not taking a difference
// of log-gamma values, which for large a loses digits.
func gammaHalfRatioScaled(a float64) float64 {
	w := 1 / (a - 0.25)
	w2 := w * w
	g := w2 * (1.0/64 + w2*(-5.0/2048+w2*(61.0/49152+w2*(-1385.0/1048576+
		w2*(50521.0/20971520+w2*(-2702765.0/402653184+w2*(199360981.0/7516192768+
			w2*(-19391512145.0/137438953472+w2*(2404879675441.0/2473901162496+
				w2*(-74074237647505.0/8796093022208))))))))))
	// e^g for 0 < g < 1.7e-4: the omitted g⁵/120 is below 2e-21.
	return 1 + g*(1+g*(1.0/2+g*(1.0/6+g*(1.0/24))))
}

// gammaHalfRatio returns Γ(a+½)/Γ(a) for a > 0, shifting a up to at least
// 10 with Γ(z+1) = z·Γ(z) and using gammaHalfRatioScaled there.
func gammaHalfRatio(a float64) float64 {
	num, den := 1.0, 1.0
	for a < 10 {
		num *= a
		den *= a + 0.5
		a++
	}
	return gammaHalfRatioScaled(a) * math.Sqrt(a-0.25) * num / den
}

// prob returns, for t ≥ 0, the upper tail Q(t) = P(T > t) or, if central,
// P(0 < T ≤ t) = ½ − Q(t), each with its own relative accuracy, and the
// log-slope h = t·f(t)/pr = |d ln pr/d ln t|, with f the density. u must be
// t²/ν, y must be t²/(ν+t²) = u/(1+u).
//
// On the continued-fraction branches h needs no density, which would
// underflow far in the tail before pr does: with
// I_x(a,b) = x^a(1−x)^b/(a·B(a,b))·cf the factors cancel to h = ν/cf for
// Q = ½·I_x(a,½) and h = 1/cf for ½·I_y(½,a).
func (d *studentT) prob(t, u, y float64, central bool) (pr, h float64) {
	var T float64 // ln(1 + t²/ν) = −ln x
	if u < 1e300 {
		T = math.Log1p(u)
	} else {
		T = 2*math.Log(t) - math.Log(d.nu)
	}
	slope := func(pr float64) float64 { // from the density, for moderate t only
		return t * d.dens0 * math.Exp(-(d.a+0.5)*T) / pr
	}
	if !central && d.asym && T <= asymMaxT {
		q := d.expansionQ(T)
		return q, slope(q)
	}
	x := 1 / (1 + u)
	// x^a·(1−x)^½/B(a,½), the common factor of both continued fractions.
	pre := math.Exp(-d.a*T) * math.Sqrt(y) * d.invB
	if central && y < d.cfCent {
		cf := betaCF(y, 0.5, d.a)
		return pre * cf, 1 / cf
	}
	if x < d.cfTail {
		cf := betaCF(x, d.a, 0.5)
		q := pre * cf / d.nu
		if central {
			return 0.5 - q, slope(0.5 - q)
		}
		return q, d.nu / cf
	}
	c := pre * betaCF(y, 0.5, d.a)
	if central {
		return c, slope(c)
	}
	return 0.5 - c, slope(0.5 - c)
}

// expansionQ returns Q(t) for T = ln(1+t²/ν) from the large-ν expansion (see
// studentTQuantile). With K_m = Γ(m+½, z)/(√π·a'^m), z = a'·T, the
// recurrence Γ(s+1, z) = s·Γ(s, z) + z^s·e^(−z) becomes
// K_{m+1} = ((m+½)·K_m + E·T^m)/a' with E = √(z/π)·e^(−z) and
// K_0 = erfc(√z); all its terms are positive, so it is stable.
func (d *studentT) expansionQ(T float64) float64 {
	z := d.ap * T
	w := math.Sqrt(z)
	k := math.Erfc(w)
	e := w * invSqrtPi * math.Exp(-z)
	inv := 1 / d.ap
	sum := k
	tm := 1.0 // T^m
	for i := 1; i < len(tailSeries); i++ {
		m := float64(2*i - 2)
		k = ((m+0.5)*k + e*tm) * inv
		tm *= T
		k = ((m+1.5)*k + e*tm) * inv
		tm *= T
		term := tailSeries[i] * k
		sum += term
		if math.Abs(term) <= 1e-17*sum {
			break
		}
	}
	return 0.5 * d.rho * sum
}

// betaCF returns the continued fraction of DLMF 8.17.22,
//
//	1/(1+ d₁/(1+ d₂/(1+ …))),  d_{2m} = m(b−m)x/((a+2m−1)(a+2m)),
//	d_{2m+1} = −(a+m)(a+b+m)x/((a+2m)(a+2m+1)),
//
// so that I_x(a, b) = x^a·(1−x)^b/(a·B(a, b))·betaCF(x, a, b). It is
// evaluated forwards by the modified Lentz method and converges fast for
// x < (a+1)/(a+b+2).
func betaCF(x, a, b float64) float64 {
	const tiny = 1e-300
	f, c, dd := 1.0, 1.0, 0.0
	for j := 1; j <= 5000; j++ {
		m := float64(j / 2)
		var dj float64
		if j%2 == 0 {
			dj = m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		} else {
			dj = -(a + m) * (a + b + m) * x / ((a + 2*m) * (a + 2*m + 1))
		}
		dd = 1 + dj*dd
		if math.Abs(dd) < tiny {
			dd = tiny
		}
		c = 1 + dj/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		dd = 1 / dd
		delta := c * dd
		f *= delta
		if math.Abs(delta-1) <= 3e-16 {
			break
		}
	}
	return 1 / f
}

// studentTUpperQuantile returns the t > 0 with Q(t) = q, for 0 < q < 0.5.
func studentTUpperQuantile(q, nu float64) float64 {
	d := newStudentT(nu)
	central := q > 0.25
	target := q
	if central {
		target = 0.5 - q // exact for q in [0.25, 0.5]
	}
	z := normalUpperQuantile(q)

	// Initial value: the smaller of the leading term of the large-ν
	// expansion, Q ≈ ½·erfc(√(a'T)), and, in the tails, the Pareto-like
	// tail Q ≈ x^a/(2a·B(a, ½)) with x ≈ ν/t².
	t := math.Inf(1)
	if nu > 1 {
		t = math.Sqrt(nu * math.Expm1(z*z/(nu-0.5)))
	}
	if central {
		if nu <= 1 {
			t = target / d.dens0 // a lower bound: the density decreases
		}
	} else if nu < asymMinNu {
		t = math.Min(t, math.Sqrt(nu)*math.Pow(q*2*d.a/d.invB, -1/nu))
	}

	if math.IsInf(t, 1) {
		return t // the Pareto-like tail is accurate there: t overflows
	}
	lo, hi := 0.0, math.Inf(1) // the root lies in (lo, hi)
	for range 100 {
		if math.IsInf(t, 1) {
			return t
		}
		u := t * t / nu
		y := 1 / (1 + 1/u)
		pr, h := d.prob(t, u, y, central)
		if pr <= 0 || math.IsNaN(pr) {
			// Only reachable far beyond the root (underflow): step back.
			hi = t
			t = nextBracketed(lo, hi)
			continue
		}
		g := math.Log(pr / target)
		if g == 0 {
			return t
		}
		// Too small t means g > 0 in the tail, g < 0 at the centre.
		var newton float64
		var kappa float64 // so that d²(ln P)/d(ln t)² = −h·kappa (tail), h·kappa (centre)
		if central {
			if g > 0 {
				hi = t
			} else {
				lo = t
			}
			newton = -g / h
			kappa = 1 - (nu+1)*y - h
		} else {
			if g > 0 {
				lo = t
			} else {
				hi = t
			}
			newton = g / h
			kappa = 1 - (nu+1)*y + h
		}
		step := newton
		halley := false
		if den := 1 + 0.5*newton*kappa; math.Abs(newton) < 0.5 && den > 0.5 {
			step = newton / den
			halley = true
		}
		next := t + t*math.Expm1(step)
		// Halley's error after a step is O(step³) with a constant of order 1
		// in ln t; Newton's is O(step²). Near the root the bracket is only as
		// good as the rounding noise of g, so a converged step wins over it.
		if (halley && math.Abs(step) <= 1e-7) || math.Abs(step) <= 1e-12 {
			return next
		}
		if !(next > lo && next < hi) {
			next = nextBracketed(lo, hi)
		}
		t = next
	}
	return t
}

// nextBracketed returns a point inside (lo, hi) when a Newton step left it:
// the geometric mean if both ends are known, otherwise a large factor away
// from the known end (the iteration may start 300 decades off for ν ≪ 1).
// Once lo reaches the largest float64 the root is beyond it: +Inf.
func nextBracketed(lo, hi float64) float64 {
	switch {
	case lo > 0 && !math.IsInf(hi, 1):
		return math.Sqrt(lo) * math.Sqrt(hi)
	case lo == math.MaxFloat64:
		return math.Inf(1)
	case lo > 0:
		return math.Min(lo*1e16, math.MaxFloat64)
	default:
		return hi / 16
	}
}
