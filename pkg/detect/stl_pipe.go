package detect

import "math"

// pipeSlot is the state of one fit in the weighted pipeline.
type pipeSlot struct {
	f        *smoothFit
	live     bool
	A, cb, b float64
}

// fitWeighted computes fits of EST with robustness weights rho (§9.2,
// degree 1), taking them one at a time from the open phase of par, and
// stores them in ys (the input y where EST fails).
//
// EST needs four passes over a window, each a sum that must run in order:
// the weights' total A; the normalised weights and their centre c̄; the
// spread c; the fitted value. The passes of one fit depend on each other,
// so the four passes of four fits run in one loop, fit t in pass 1 while
// fit t−1 is in pass 2 and so on: the four sums are independent and overlap
// in the CPU, and each keeps its own order. The division of pass 2 hides
// behind the other three. w holds the weights of the four fits in flight
// (wl values each); jf[i] = i + 1.
func (p *smoothPlan) fitWeighted(ys, y, rho, jf []float64, w *[4][]float64, par *stlPar, helper bool) {
	if len(p.fits) == 0 {
		return
	}
	wl := p.wl
	lim := 0.001 * p.rng
	// Slots of the fits in flight; a slot without a fit (live false)
	// computes on some valid window and its results are dropped.
	var sl [4]pipeSlot
	for i := range sl {
		sl[i].f = &p.fits[0]
	}
	for t := 0; ; t++ {
		s1, s2, s3, s4 := &sl[t&3], &sl[(t-1)&3], &sl[(t-2)&3], &sl[(t-3)&3]
		if fi := par.take(helper); fi >= 0 {
			s1.f, s1.live = &p.fits[fi], true
		} else {
			s1.live = false
			if !s2.live && !s3.live && !s4.live {
				return
			}
		}
		f1, f2, f3, f4 := s1.f, s2.f, s3.f, s4.f
		K1 := p.kern[f1.k:][:wl]
		R1 := rho[f1.a:][:wl]
		W1 := w[t&3][:wl]
		W2 := w[(t-1)&3][:wl]
		W3 := w[(t-2)&3][:wl]
		W4 := w[(t-3)&3][:wl]
		Y4 := y[f4.a:][:wl]
		A2, cb3, cb4, b4 := s2.A, s3.cb, s4.cb, s4.b
		J2, J3, J4 := jf[f2.a:][:wl], jf[f3.a:][:wl], jf[f4.a:][:wl]
		var A1, cb2, c3, ys4 float64
		// While the pipeline fills or drains, loops without the idle
		// passes (pass k of a fit is the same arithmetic in every loop).
		switch {
		case s1.live && s2.live && s3.live && s4.live:
			A1, cb2, c3, ys4 = pass1234(W1, R1, K1, W2, J2, A2, W3, J3, cb3, W4, J4, Y4, cb4, b4)
		case s1.live && !s2.live:
			A1 = pass1(W1, R1, K1)
		case s1.live && s2.live && !s3.live:
			A1, cb2 = pass12(W1, R1, K1, W2, J2, A2)
		case s1.live && s2.live && s3.live:
			A1, cb2, c3 = pass123(W1, R1, K1, W2, J2, A2, W3, J3, cb3)
		case s2.live && s3.live && s4.live:
			cb2, c3, ys4 = pass234(W2, J2, A2, W3, J3, cb3, W4, J4, Y4, cb4, b4)
		case !s2.live && s3.live && s4.live:
			c3, ys4 = pass34(W3, J3, cb3, W4, J4, Y4, cb4, b4)
		case !s3.live && s4.live:
			ys4 = pass4(W4, J4, Y4, cb4, b4)
		default: // fewer than four fits: run all passes, drop the idle ones
			A1, cb2, c3, ys4 = pass1234(W1, R1, K1, W2, J2, A2, W3, J3, cb3, W4, J4, Y4, cb4, b4)
		}
		s1.A = A1
		s2.cb = cb2
		// β of fit t−2; β = 0 leaves the weights unchanged, as EST does
		// when it skips the linear term.
		s3.b = 0
		if f3.lin {
			if math.Sqrt(c3) > lim {
				s3.b = (f3.x0 - cb3) / c3
			}
		}
		if s4.live {
			if !(s4.A > 0) {
				ys4 = y[f4.i]
			}
			ys[f4.i] = ys4
		}
	}
}

// The four passes of EST (degree 1, with robustness weights) over a
// window, for fitWeighted. Pass 1: w = ρ·K, A = Σ w. Pass 2: w = w/A,
// c̄ = Σ w·j. Pass 3: c = Σ w·(j − c̄)². Pass 4: Σ w·(β·(j − c̄) + 1)·y.
// pass1234 runs the four passes of four different fits in one loop; the
// others are the same loops without some of the passes, for filling and
// draining the pipeline.

func pass1234(W1, R1, K1, W2, J2 []float64, A2 float64, W3, J3 []float64, cb3 float64, W4, J4, Y4 []float64, cb4, b4 float64) (A1, cb2, c3, ys4 float64) {
	R1, K1, W2, J2, W3, J3, W4, J4, Y4 = R1[:len(W1)], K1[:len(W1)], W2[:len(W1)], J2[:len(W1)], W3[:len(W1)], J3[:len(W1)], W4[:len(W1)], J4[:len(W1)], Y4[:len(W1)]
	for j := range W1 {
		v1 := float64(R1[j] * K1[j])
		W1[j] = v1
		A1 += v1
		v2 := W2[j] / A2
		W2[j] = v2
		cb2 += float64(v2 * J2[j])
		d3 := J3[j] - cb3
		c3 += float64(W3[j] * float64(d3*d3))
		d4 := J4[j] - cb4
		ys4 += float64(float64(W4[j]*(float64(b4*d4)+1)) * Y4[j])
	}
	return
}

func pass1(W1, R1, K1 []float64) (A1 float64) {
	R1, K1 = R1[:len(W1)], K1[:len(W1)]
	for j := range W1 {
		v1 := float64(R1[j] * K1[j])
		W1[j] = v1
		A1 += v1
	}
	return
}

func pass12(W1, R1, K1, W2, J2 []float64, A2 float64) (A1, cb2 float64) {
	R1, K1, W2, J2 = R1[:len(W1)], K1[:len(W1)], W2[:len(W1)], J2[:len(W1)]
	for j := range W1 {
		v1 := float64(R1[j] * K1[j])
		W1[j] = v1
		A1 += v1
		v2 := W2[j] / A2
		W2[j] = v2
		cb2 += float64(v2 * J2[j])
	}
	return
}

func pass123(W1, R1, K1, W2, J2 []float64, A2 float64, W3, J3 []float64, cb3 float64) (A1, cb2, c3 float64) {
	R1, K1, W2, J2, W3, J3 = R1[:len(W1)], K1[:len(W1)], W2[:len(W1)], J2[:len(W1)], W3[:len(W1)], J3[:len(W1)]
	for j := range W1 {
		v1 := float64(R1[j] * K1[j])
		W1[j] = v1
		A1 += v1
		v2 := W2[j] / A2
		W2[j] = v2
		cb2 += float64(v2 * J2[j])
		d3 := J3[j] - cb3
		c3 += float64(W3[j] * float64(d3*d3))
	}
	return
}

func pass234(W2, J2 []float64, A2 float64, W3, J3 []float64, cb3 float64, W4, J4, Y4 []float64, cb4, b4 float64) (cb2, c3, ys4 float64) {
	J2, W3, J3, W4, J4, Y4 = J2[:len(W2)], W3[:len(W2)], J3[:len(W2)], W4[:len(W2)], J4[:len(W2)], Y4[:len(W2)]
	for j := range W2 {
		v2 := W2[j] / A2
		W2[j] = v2
		cb2 += float64(v2 * J2[j])
		d3 := J3[j] - cb3
		c3 += float64(W3[j] * float64(d3*d3))
		d4 := J4[j] - cb4
		ys4 += float64(float64(W4[j]*(float64(b4*d4)+1)) * Y4[j])
	}
	return
}

func pass34(W3, J3 []float64, cb3 float64, W4, J4, Y4 []float64, cb4, b4 float64) (c3, ys4 float64) {
	J3, W4, J4, Y4 = J3[:len(W3)], W4[:len(W3)], J4[:len(W3)], Y4[:len(W3)]
	for j := range W3 {
		d3 := J3[j] - cb3
		c3 += float64(W3[j] * float64(d3*d3))
		d4 := J4[j] - cb4
		ys4 += float64(float64(W4[j]*(float64(b4*d4)+1)) * Y4[j])
	}
	return
}

func pass4(W4, J4, Y4 []float64, cb4, b4 float64) (ys4 float64) {
	J4, Y4 = J4[:len(W4)], Y4[:len(W4)]
	for j := range W4 {
		d4 := J4[j] - cb4
		ys4 += float64(float64(W4[j]*(float64(b4*d4)+1)) * Y4[j])
	}
	return
}
