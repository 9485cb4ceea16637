package detect

import "math"

// This file implements SMOOTH (shesd.md §9.3) for the degree-1 smoothers of
// STL: the low-pass filter (no robustness weights) and the trend (with
// them). Everything that depends only on positions is computed once per
// series length in a smoothPlan; the per-pass work is then as small as the
// Fortran operation order allows.

// smoothPlan is SMOOTH(y[1..m], q, 1, jump, ·) with the positions resolved:
// which points are fitted, over which window, with which tricube kernel.
type smoothPlan struct {
	m, q, g int
	wl      int     // window length, the same for every fit: min(q, m)
	rng     float64 // EST's range = m − 1
	fits    []smoothFit
	kern    []float64 // the distinct kernels, wl values each

	// For the smoother without robustness weights: the normalised
	// kernels (as kern), whether their total is positive, and, if they
	// take little memory, the final EST weights of every fit (wl values
	// per fit, in fit order), so that a fit is a single dot product.
	norm   []float64
	kernOK []bool
	wts    []float64
	linIdx []int // scratch: the fits with a linear term

	vec bool // the vector kernels run: interpolate with them, store no weights
}

// maxStoredWeights is the number of final weights a plan stores at most
// (8 bytes each); beyond, the fits recompute them from c̄ and β.
const maxStoredWeights = 1 << 17

// smoothFit is one call of EST.
type smoothFit struct {
	x0  float64 // abscissa of the fitted point (1-based)
	i   int     // 0-based index of the fitted point
	a   int     // 0-based index of the window's first point
	k   int     // offset of the fit's kernel in kern
	lin bool    // h > 0: EST adds the linear term
	// Without robustness weights: EST succeeds (A > 0), its c̄ and β.
	ok       bool
	cb, beta float64
}

// build resolves the positions of SMOOTH(y[1..m], q, 1, jump) (§9.3 step 2,
// including the last point fitted with the window left over) and computes
// the kernels and what the fits without robustness weights need (jf[i] =
// i + 1, at least m values). It reuses the plan's storage.
func (p *smoothPlan) build(m, q, jump int, jf []float64) {
	p.m, p.q = m, q
	p.rng = float64(m) - 1
	p.fits = p.fits[:0]
	p.kern = p.kern[:0]
	p.wts = p.wts[:0]
	if m < 2 {
		// SMOOTH copies y_1; no fits.
		p.g, p.wl = 1, 1
		return
	}
	g := min(jump, m-1)
	p.g = g
	p.wl = min(q, m)
	a, b := 0, 0 // 1-based window of the last fit
	switch {
	case q >= m:
		a, b = 1, m
		for i := 1; i <= m; i += g {
			p.addFit(i, a, b)
		}
	case g == 1:
		half := (q + 1) / 2
		a, b = 1, q
		for i := 1; i <= m; i++ {
			if i > half && b != m {
				a++
				b++
			}
			p.addFit(i, a, b)
		}
	default:
		half := (q + 1) / 2
		for i := 1; i <= m; i += g {
			switch {
			case i < half:
				a, b = 1, q
			case i >= m-half+1:
				a, b = m-q+1, m
			default:
				a, b = i-half+1, i-half+q
			}
			p.addFit(i, a, b)
		}
	}
	if g != 1 {
		if last := ((m-1)/g)*g + 1; last != m {
			p.addFit(m, a, b) // the window left over from the last fit
		}
	}
	// The vector kernels recompute the weights (stl_vec.go, lineItem).
	p.buildWeights(len(p.fits)*p.wl <= maxStoredWeights && !p.vec, jf)
}

// addFit appends the fit of point i (1-based) over the window [a, b]
// (1-based), sharing the kernel of the previous fit when it is the same.
func (p *smoothPlan) addFit(i, a, b int) {
	x0 := float64(i)
	h := math.Max(x0-float64(a), float64(b)-x0)
	if p.q > p.m {
		h += float64((p.q - p.m) / 2)
	}
	f := smoothFit{x0: x0, i: i - 1, a: a - 1, lin: h > 0}
	if n := len(p.fits); n > 0 {
		prev := &p.fits[n-1]
		if prev.x0-float64(prev.a) == x0-float64(f.a) && p.kernH(prev) == h {
			f.k = prev.k
			p.fits = append(p.fits, f)
			return
		}
	}
	f.k = len(p.kern)
	p.kern = appendKernel(p.kern, x0, a, p.wl, h)
	p.fits = append(p.fits, f)
}

// kernH recomputes the h of an existing fit.
func (p *smoothPlan) kernH(f *smoothFit) float64 {
	h := math.Max(f.x0-float64(f.a+1), float64(f.a+p.wl)-f.x0)
	if p.q > p.m {
		h += float64((p.q - p.m) / 2)
	}
	return h
}

// appendKernel appends EST's tricube weights (§9.2 step 3, without
// robustness weights) for the window of wl points starting at a (1-based)
// around x0 with half-width h.
func appendKernel(dst []float64, x0 float64, a, wl int, h float64) []float64 {
	h9 := 0.999 * h
	h1 := 0.001 * h
	for j := a; j < a+wl; j++ {
		r := math.Abs(float64(j) - x0)
		w := 0.0
		if r <= h9 {
			if r <= h1 {
				w = 1
			} else {
				t := r / h
				t = t * t * t
				u := 1 - t
				w = u * u * u
			}
		}
		dst = append(dst, w)
	}
	return dst
}

// buildWeights computes what EST does without robustness weights (§9.2
// steps 3–6): the normalised kernels, and for every fit c̄ and β (β = 0
// where EST skips the linear term, which leaves the weights unchanged);
// if store, also every fit's final weights, so that the fit is the dot
// product Σ w_j·y_j (step 7) in the same order. jf[i] = i + 1.
func (p *smoothPlan) buildWeights(store bool, jf []float64) {
	wl := p.wl
	p.norm = append(p.norm[:0], p.kern...)
	p.kernOK = p.kernOK[:0]
	for k := 0; k < len(p.norm); k += wl {
		w := p.norm[k : k+wl]
		A := 0.0
		for _, v := range w {
			A += v
		}
		ok := A > 0
		p.kernOK = append(p.kernOK, ok)
		if ok {
			for j := range w {
				w[j] = w[j] / A
			}
		}
	}
	for fi := range p.fits {
		f := &p.fits[fi]
		f.ok = p.kernOK[f.k/wl]
		f.cb, f.beta = 0, 0
	}
	// c̄ = Σ w·j and c = Σ w·(j − c̄)² of the fits with a linear term,
	// four fits at a time so that their sums overlap.
	lin := p.linIdx[:0]
	for fi := range p.fits {
		if f := &p.fits[fi]; f.ok && f.lin {
			lin = append(lin, fi)
		}
	}
	p.linIdx = lin
	for q := 0; q < len(lin); q += 4 {
		var fs [4]*smoothFit
		for r := range fs {
			fs[r] = &p.fits[lin[min(q+r, len(lin)-1)]]
		}
		n0, n1, n2, n3 := p.norm[fs[0].k:][:wl], p.norm[fs[1].k:][:wl], p.norm[fs[2].k:][:wl], p.norm[fs[3].k:][:wl]
		j0, j1, j2, j3 := jf[fs[0].a:][:wl], jf[fs[1].a:][:wl], jf[fs[2].a:][:wl], jf[fs[3].a:][:wl]
		var cb0, cb1, cb2, cb3 float64
		for j := range n0 {
			cb0 += float64(n0[j] * j0[j])
			cb1 += float64(n1[j] * j1[j])
			cb2 += float64(n2[j] * j2[j])
			cb3 += float64(n3[j] * j3[j])
		}
		var c0, c1, c2, c3 float64
		for j := range n0 {
			d0, d1, d2, d3 := j0[j]-cb0, j1[j]-cb1, j2[j]-cb2, j3[j]-cb3
			c0 += float64(n0[j] * float64(d0*d0))
			c1 += float64(n1[j] * float64(d1*d1))
			c2 += float64(n2[j] * float64(d2*d2))
			c3 += float64(n3[j] * float64(d3*d3))
		}
		cbs, cs := [4]float64{cb0, cb1, cb2, cb3}, [4]float64{c0, c1, c2, c3}
		for r, f := range fs {
			f.cb = cbs[r]
			if math.Sqrt(cs[r]) > 0.001*p.rng {
				f.beta = (f.x0 - cbs[r]) / cs[r]
			}
		}
	}
	if !store {
		p.wts = p.wts[:0]
		return
	}
	if cap(p.wts) < len(p.fits)*wl {
		p.wts = make([]float64, len(p.fits)*wl)
	}
	p.wts = p.wts[:len(p.fits)*wl]
	for fi := range p.fits {
		f := &p.fits[fi]
		nk, jj := p.norm[f.k:][:wl], jf[f.a:][:wl]
		w := p.wts[fi*wl:][:wl]
		cb, beta := f.cb, f.beta
		for j, v := range nk {
			w[j] = v * (float64(beta*(jj[j]-cb)) + 1)
		}
	}
}

// interpolateRange fills the points of lo ≤ j < hi that lie between fitted
// ones (§9.3 step 3); the fitted points must be set.
func (p *smoothPlan) interpolateRange(ys []float64, lo, hi int) {
	m, g := p.m, p.g
	if g == 1 {
		return
	}
	fg := float64(g)
	for i := lo / g * g; i < hi && i+g < m; i += g {
		y0 := ys[i]
		delta := (ys[i+g] - y0) / fg
		j0, j1 := max(i+1, lo), min(i+g, hi)
		if p.vec && j1 > j0 {
			j0 += line4(ys[j0:j1], y0, delta, j0-i)
		}
		for j := j0; j < j1; j++ {
			ys[j] = y0 + float64(delta*float64(j-i))
		}
	}
	last := ((m - 1) / g) * g
	if last != m-1 && last != m-2 && hi > last+1 {
		y0 := ys[last]
		delta := (ys[m-1] - y0) / float64(m-1-last)
		j0, j1 := max(last+1, lo), min(m-1, hi)
		if p.vec && j1 > j0 {
			j0 += line4(ys[j0:j1], y0, delta, j0-last)
		}
		for j := j0; j < j1; j++ {
			ys[j] = y0 + float64(delta*float64(j-last))
		}
	}
}

// dotFits computes the fits lo..hi−1 with the precomputed weights, four at
// a time so that their independent sums overlap in the pipeline (each sum
// keeps its own order).
func (p *smoothPlan) dotFits(ys, y, jf []float64, lo, hi int) {
	if len(p.wts) == 0 {
		p.lineFits(ys, y, jf, lo, hi)
		return
	}
	wl := p.wl
	fi := lo
	for ; fi+4 <= hi; fi += 4 {
		f0, f1, f2, f3 := &p.fits[fi], &p.fits[fi+1], &p.fits[fi+2], &p.fits[fi+3]
		w0 := p.wts[fi*wl : fi*wl+wl]
		w1 := p.wts[(fi+1)*wl : (fi+1)*wl+wl]
		w2 := p.wts[(fi+2)*wl : (fi+2)*wl+wl]
		w3 := p.wts[(fi+3)*wl : (fi+3)*wl+wl]
		y0 := y[f0.a : f0.a+wl]
		y1 := y[f1.a : f1.a+wl]
		y2 := y[f2.a : f2.a+wl]
		y3 := y[f3.a : f3.a+wl]
		var s0, s1, s2, s3 float64
		for j := range w0 {
			s0 += float64(w0[j] * y0[j])
			s1 += float64(w1[j] * y1[j])
			s2 += float64(w2[j] * y2[j])
			s3 += float64(w3[j] * y3[j])
		}
		p.store(ys, y, f0, s0)
		p.store(ys, y, f1, s1)
		p.store(ys, y, f2, s2)
		p.store(ys, y, f3, s3)
	}
	for ; fi < hi; fi++ {
		f := &p.fits[fi]
		w := p.wts[fi*wl : fi*wl+wl]
		yy := y[f.a : f.a+wl]
		s := 0.0
		for j := range w {
			s += float64(w[j] * yy[j])
		}
		p.store(ys, y, f, s)
	}
}

// lineFits computes the fits lo..hi−1 without robustness weights from the
// normalised kernels, c̄ and β: Σ (w_j·(β·(j − c̄) + 1))·y_j, two fits at a
// time so that their sums overlap.
func (p *smoothPlan) lineFits(ys, y, jf []float64, lo, hi int) {
	wl := p.wl
	fi := lo
	for ; fi+2 <= hi; fi += 2 {
		f0, f1 := &p.fits[fi], &p.fits[fi+1]
		n0, n1 := p.norm[f0.k:][:wl], p.norm[f1.k:][:wl]
		y0, y1 := y[f0.a:][:wl], y[f1.a:][:wl]
		j0, j1 := jf[f0.a:][:wl], jf[f1.a:][:wl]
		cb0, b0, cb1, b1 := f0.cb, f0.beta, f1.cb, f1.beta
		var s0, s1 float64
		for j := range n0 {
			s0 += float64(float64(n0[j]*(float64(b0*(j0[j]-cb0))+1)) * y0[j])
			s1 += float64(float64(n1[j]*(float64(b1*(j1[j]-cb1))+1)) * y1[j])
		}
		p.store(ys, y, f0, s0)
		p.store(ys, y, f1, s1)
	}
	for ; fi < hi; fi++ {
		f := &p.fits[fi]
		nk, yy, jj := p.norm[f.k:][:wl], y[f.a:][:wl], jf[f.a:][:wl]
		s := 0.0
		for j := range nk {
			s += float64(float64(nk[j]*(float64(f.beta*(jj[j]-f.cb))+1)) * yy[j])
		}
		p.store(ys, y, f, s)
	}
}

func (p *smoothPlan) store(ys, y []float64, f *smoothFit, v float64) {
	if !f.ok {
		v = y[f.i]
	}
	ys[f.i] = v
}
