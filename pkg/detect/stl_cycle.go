package detect

import "sync/atomic"

// This file implements the cycle-subseries smoothing (shesd.md §9.4) and
// the low-pass filter (§9.5) of STL.
//
// With s.window = "periodic" the seasonal smoother has span ns = 10n + 1,
// degree 0 and jump n + 1, far beyond the k ≤ n/2 values of a subseries, so
// SMOOTH fits only the first and the last point of each subseries, both
// over the whole subseries, and interpolates between them; two more fits
// extend the subseries by one value at each end. All four fits share the
// window [1, k] and differ only in their tricube kernels. The subseries of
// the phases are processed side by side, one cycle (row) at a time, so the
// sums of different phases overlap and memory is read in order.

// cyclePlan holds the kernels of the four fits for the (at most two)
// subseries lengths of a series.
type cyclePlan struct {
	n, np int
	grp   [2]cycleGroup // phases with k = ⌊n/np⌋ + 1, then those with k = ⌊n/np⌋
	ngrp  int
	items []cycleItem // the work items: runs of at most cyclePhases phases
}

// cycleItem is a run of phases p0 ≤ p < p1 of group g.
type cycleItem struct{ g, p0, p1 int }

// cyclePhases is the number of phases of a work item.
const cyclePhases = 64

// cycleGroup is a run of phases whose subseries have the same length k.
type cycleGroup struct {
	p0, p1 int // phases p0 ≤ p < p1 (0-based)
	k      int
	// kern[f] are the kernels of the fits at x0 = 1, k, 0, k + 1 (f = 0..3),
	// k values each; same[f] is the first f' ≤ f with an identical kernel,
	// whose results fit f then reuses.
	kern [4][]float64
	same [4]int
}

func (p *cyclePlan) build(n, np, ns int) {
	p.n, p.np = n, np
	q, r := n/np, n%np
	p.ngrp = 0
	if r > 0 {
		p.grp[p.ngrp].build(0, r, q+1, ns)
		p.ngrp++
	}
	p.grp[p.ngrp].build(r, np, q, ns)
	p.ngrp++
	p.items = p.items[:0]
	for gi := 0; gi < p.ngrp; gi++ {
		g := &p.grp[gi]
		for p0 := g.p0; p0 < g.p1; p0 += cyclePhases {
			p.items = append(p.items, cycleItem{gi, p0, min(p0+cyclePhases, g.p1)})
		}
	}
}

func (g *cycleGroup) build(p0, p1, k, ns int) {
	g.p0, g.p1, g.k = p0, p1, k
	x0s := [4]int{1, k, 0, k + 1}
	for f, x := range x0s {
		x0 := float64(x)
		h := max(x0-1, float64(k)-x0)
		if ns > k {
			h += float64((ns - k) / 2)
		}
		g.kern[f] = appendKernel(g.kern[f][:0], x0, 1, k, h)
		g.same[f] = f
		for e := 0; e < f; e++ {
			if equalBits(g.kern[e], g.kern[f]) {
				g.same[f] = e
				break
			}
		}
	}
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cycleItem computes work item it of the cycle-subseries smoothing (§9.4)
// of s.d with weights s.rho into s.c (n + 2·np values): the four fits of
// each of its phases, the interpolation between the first and last, and
// the fallbacks where EST fails.
func (s *STL) cycleItem(it int) {
	p := &s.cyc
	item := p.items[it]
	g := &p.grp[item.g]
	np, k, p0, p1 := p.np, g.k, item.p0, item.p1
	if s.par.task.weights {
		for i := 0; i < k; i++ {
			s.weightsChunk(i*np+p0, i*np+p1)
		}
	}
	d, rho, c := s.d[:s.n], s.rho[:s.n], s.c[:s.n+2*np]
	// v[f][p−p0] is the value of fit f for phase p; tot its weights' total A.
	var v, tot [4][]float64
	for f := range v {
		v[f] = s.cycv[f*np+p0 : f*np+p1]
		tot[f] = s.cyca[f*np+p0 : f*np+p1]
	}
	for f := 0; f < 4; f++ {
		if e := g.same[f]; e != f {
			copy(v[f], v[e])
			copy(tot[f], tot[e])
		} else {
			estRows(v[f], tot[f], g.kern[f], d, rho, np, p0, s.vec)
		}
		for q, t := range tot[f] {
			if !(t > 0) {
				v[f][q] = fallback(f, q, k, np, p0, d, v)
			}
		}
	}
	v1, vk, v0, vk1 := v[0], v[1], v[2], v[3]
	copy(c[p0:p1], v0)
	copy(c[np+p0:np+p1], v1)
	copy(c[k*np+p0:k*np+p1], vk)
	copy(c[(k+1)*np+p0:(k+1)*np+p1], vk1)
	if k >= 3 {
		// Interpolation between v_1 and v_k, g = k − 1 (§9.3 step 3).
		delta := s.cycd[p0:p1]
		fg := float64(k - 1)
		for q := range delta {
			delta[q] = (vk[q] - v1[q]) / fg
		}
		for i := 2; i < k; i++ {
			row := c[i*np+p0 : i*np+p1]
			fi := float64(i - 1)
			q0 := 0
			if s.vec {
				q0 = axpy4(row, v1, delta, fi)
			}
			for q := q0; q < len(row); q++ {
				row[q] = v1[q] + float64(delta[q]*fi)
			}
		}
	}
}

// fallback is the value of fit f of phase p0+q when its EST fails (A ≤ 0).
func fallback(f, q, k, np, p0 int, d []float64, v [4][]float64) float64 {
	switch f {
	case 0:
		return d[p0+q]
	case 1:
		return d[(k-1)*np+p0+q]
	case 2:
		return v[0][q]
	default:
		return v[1][q]
	}
}

// estRows runs EST of degree 0 with kernel kern (k values) on the
// subseries of the phases p0 ≤ p < p0+len(out) of d, with weights rho: out
// gets Σ (ρ·K/A)·u, tot the total A = Σ ρ·K (§9.2 with d = 0).
func estRows(out, tot, kern, d, rho []float64, np, p0 int, vec bool) {
	P := len(out)
	clear(tot)
	for i, K := range kern {
		r := rho[i*np+p0 : i*np+p0+P]
		t := tot[:len(r)]
		k := 0
		if vec {
			k = estTot4(t, r, K)
		}
		for q := k; q < len(r); q++ {
			t[q] += float64(r[q] * K)
		}
	}
	clear(out)
	for i, K := range kern {
		r := rho[i*np+p0 : i*np+p0+P]
		u := d[i*np+p0 : i*np+p0+P]
		t := tot[:len(r)]
		o := out[:len(r)]
		k := 0
		if vec {
			k = estOut4(o, r, t, u, K)
		}
		for q := k; q < len(r); q++ {
			o[q] += float64(float64(float64(r[q]*K)/t[q]) * u[q])
		}
	}
}

// movingAverages computes the three moving averages of §9.5, each with R's
// running sum (s = z_1 + … + z_k, then s = s − z_{j−1} + z_{j+k−1}, divided
// by k): a = MA(c, np), b = MA(a, np), l0 = MA(b, 3). Each running sum is a
// chain of dependent additions; the three chains run in one loop, each as
// soon as its input is ready, so that they overlap. If progress is not nil,
// it is set to the number of final values at the front of l0 every
// maProgressStep values, so that another goroutine can use them early.
func movingAverages(a, b, l0, c []float64, np int, progress *atomic.Int64, vec bool) {
	n := len(l0)
	fk := float64(np)
	// a[0]; b's first sum starts with a[0].
	s1 := 0.0
	for _, x := range c[:np] {
		s1 += x
	}
	a[0] = s1 / fk
	s2 := a[0]
	// a[1..np−1], adding each to b's first sum.
	for t := 1; t < np; t++ {
		s1 = s1 - c[t-1] + c[t+np-1]
		a[t] = s1 / fk
		s2 += a[t]
	}
	b[0] = s2 / fk
	s3 := b[0]
	// a[np], a[np+1] with b[1], b[2], completing l0's first sum.
	for t := np; t < np+2; t++ {
		s1 = s1 - c[t-1] + c[t+np-1]
		a[t] = s1 / fk
		u := t - np + 1
		s2 = s2 - a[u-1] + a[t]
		b[u] = s2 / fk
		s3 += b[u]
	}
	l0[0] = s3 / 3
	// Steady state: a[t], b[t−np+1], l0[t−np−1] for t = np+2 … n+np.
	cOld := c[np+1 : n+np]
	cNew := c[2*np+1 : n+2*np]
	aOld := a[2 : n+1]
	bOld := b[0 : n-1]
	aT := a[np+2 : n+np+1]
	bU := b[3 : n+2]
	l0V := l0[1:n]
	start := 0
	if vec {
		start, s1, s2, s3 = maSteady2(fk, s1, s2, s3, cOld, cNew, aOld, bOld, aT, bU, l0V, progress)
		if progress != nil && start > 0 {
			progress.Store(int64(1 + start))
		}
	}
	for lo := start; lo < len(cOld); lo += maProgressStep {
		hi := min(lo+maProgressStep, len(cOld))
		cO, cN, aO, bO := cOld[lo:hi], cNew[lo:hi], aOld[lo:hi], bOld[lo:hi]
		aW, bW, lW := aT[lo:hi], bU[lo:hi], l0V[lo:hi]
		cN, aO, bO, aW, bW, lW = cN[:len(cO)], aO[:len(cO)], bO[:len(cO)], aW[:len(cO)], bW[:len(cO)], lW[:len(cO)]
		for i := range cO {
			s1 = s1 - cO[i] + cN[i]
			at := s1 / fk
			aW[i] = at
			s2 = s2 - aO[i] + at
			bu := s2 / fk
			bW[i] = bu
			s3 = s3 - bO[i] + bu
			lW[i] = s3 / 3
		}
		if progress != nil {
			progress.Store(int64(1 + hi)) // l0[0..hi] are final
		}
	}
}

// maProgressStep is how often movingAverages reports progress.
const maProgressStep = 512
