package detect

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
}

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

// cycleSubseries writes the cycle-subseries smoothing of d with robustness
// weights rho into c (n + 2·np values, §9.4).
func (s *STL) cycleSubseries(c, d, rho []float64) {
	p := &s.cyc
	np := p.np
	for gi := 0; gi < p.ngrp; gi++ {
		g := &p.grp[gi]
		k, p0, p1 := g.k, g.p0, g.p1
		P := p1 - p0
		// v[f][p−p0] is the value of fit f for phase p; tot the weights'
		// total A.
		var v, tot [4][]float64
		for f := range v {
			v[f] = s.cycv[f*np : f*np+P]
			tot[f] = s.cyca[f*np : f*np+P]
		}
		for f := 0; f < 4; f++ {
			if e := g.same[f]; e != f {
				copy(v[f], v[e])
				copy(tot[f], tot[e])
			} else {
				estRows(v[f], tot[f], g.kern[f], d, rho, np, p0)
			}
			for q, t := range tot[f] {
				if !(t > 0) {
					v[f][q] = fallback(f, q, k, np, p0, d, v)
				}
			}
		}
		// SMOOTH's fallback for v_1 and v_k is the data value; the
		// extensions fall back to v_1 and v_k (§9.4 steps 3–4).
		v1, vk, v0, vk1 := v[0], v[1], v[2], v[3]
		copy(c[p0:p1], v0)
		copy(c[np+p0:np+p1], v1)
		copy(c[k*np+p0:k*np+p1], vk)
		copy(c[(k+1)*np+p0:(k+1)*np+p1], vk1)
		if k >= 3 {
			// Interpolation between v_1 and v_k, g = k − 1 (§9.3 step 3).
			delta := s.cycd[:P]
			fg := float64(k - 1)
			for q := range delta {
				delta[q] = (vk[q] - v1[q]) / fg
			}
			for i := 2; i < k; i++ {
				row := c[i*np+p0 : i*np+p1]
				fi := float64(i - 1)
				for q := range row {
					row[q] = v1[q] + float64(delta[q]*fi)
				}
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
func estRows(out, tot, kern, d, rho []float64, np, p0 int) {
	P := len(out)
	clear(tot)
	for i, K := range kern {
		r := rho[i*np+p0 : i*np+p0+P]
		t := tot[:len(r)]
		for q := range r {
			t[q] += float64(r[q] * K)
		}
	}
	clear(out)
	for i, K := range kern {
		r := rho[i*np+p0 : i*np+p0+P]
		u := d[i*np+p0 : i*np+p0+P]
		t := tot[:len(r)]
		o := out[:len(r)]
		for q := range r {
			o[q] += float64(float64(float64(r[q]*K)/t[q]) * u[q])
		}
	}
}

// lowPass writes the low-pass filter of c (n + 2·np values) into l (n
// values): moving averages of lengths np, np and 3, then SMOOTH with span
// nl, degree 1 and no weights (§9.5).
func (s *STL) lowPass(l, c []float64) {
	n, np := s.n, s.np
	ma := s.ma[:n+np+1]
	mb := s.mb[:n+2]
	l0 := s.l0[:n]
	movingAverage(ma, c, np)
	movingAverage(mb, ma, np)
	movingAverage(l0, mb, 3)
	s.low.smoothUnweighted(l, l0)
}

// movingAverage writes the len(z) − k + 1 moving averages of length k of z
// into out with R's running sum: s = z_1 + … + z_k, then s = s − z_{j−1} +
// z_{j+k−1} (§9.5).
func movingAverage(out, z []float64, k int) {
	fk := float64(k)
	v := 0.0
	for _, x := range z[:k] {
		v += x
	}
	out[0] = v / fk
	sub := z[:len(out)-1]
	add := z[k : k+len(sub)]
	o := out[1 : 1+len(sub)]
	for j := range sub {
		v = v - sub[j] + add[j]
		o[j] = v / fk
	}
}
