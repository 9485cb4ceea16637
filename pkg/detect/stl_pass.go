package detect

import (
	"math"
	"runtime"
	"sync/atomic"
)

// passes runs the 16 passes of §9.6–§9.7 on s.y, leaving the seasonal
// (before averaging) and trend in s.S and s.T. It reports false if the fit
// overflowed into NaN.
func (s *STL) passes() bool {
	n := s.n
	s.par.nan.Store(false)
	rho := s.rho[:n]
	for i := range rho {
		rho[i] = 1
	}
	d := s.d[:n]
	copy(d, s.y) // D = y − T with T = 0
	for pass := 0; pass < 16; pass++ {
		vzeroupper()
		if pass > 0 {
			// §9.7: ρ from e = |y − (T + S)|, computed with T; then
			// D = y − T for this pass.
			if s.par.nan.Load() {
				return false
			}
			e := s.e[:n]
			h1 := n/2 + 1
			h2 := n - h1 + 1
			ind := [2]int{h1 - 1, h2 - 1}
			s.psb.psort(e, ind[:], s.gatherFirst())
			s.par.task.cm = 3 * (e[h1-1] + e[h2-1])
		}
		// §9.6 step 2: C = cycle-subseries smoothing of D; from the second
		// pass on, each work item first computes ρ and D = y − T at its
		// positions.
		s.par.task.weights = pass > 0
		s.par.task.kind = taskCycle
		s.run(len(s.cyc.items))
		// Step 3: L = low-pass of C: moving averages, then SMOOTH. The
		// moving averages are one serial chain; meanwhile the helper
		// starts on the fits whose windows are complete.
		rhoFilled := false
		switch p := &s.par; {
		case s.vl.on() && s.vls.on() && p.useHelper():
			// While the caller runs the chain, the helper copies ρ
			// (final) into the trend's region, then computes the
			// low-pass fits whose windows are final, with the plan
			// without region (vls).
			p.task.kind, p.task.nfill = taskLowStream, 0
			if pass > 0 {
				p.task.nfill = s.vt.fillChunks()
				rhoFilled = p.task.nfill > 0
			}
			p.task.swap = true
			p.progress.Store(0)
			s.runAfter(p.task.nfill+s.vls.lineItems(), func() { s.lowMovingAverages(&p.progress) })
			p.task.swap = false
		case s.vl.on():
			s.lowMovingAverages(nil)
			s.par.task.plan, s.par.task.ys, s.par.task.in = &s.low, s.l[:n], s.l0[:n]
			s.fillRows(&s.vl, s.l0[:n], nil)
			p.task.kind, p.task.vec = taskDotFits, &s.vl
			s.run(s.vl.lineItems())
		case p.useHelper():
			s.par.task.plan, s.par.task.ys, s.par.task.in = &s.low, s.l[:n], s.l0[:n]
			p.task.kind, p.task.vec = taskDotFits, nil
			p.task.swap, p.task.stream = true, true
			p.progress.Store(0)
			s.runAfter((len(s.low.fits)+3)/4, func() { s.lowMovingAverages(&p.progress) })
			p.task.swap, p.task.stream = false, false
		default:
			s.par.task.plan, s.par.task.ys, s.par.task.in = &s.low, s.l[:n], s.l0[:n]
			p.task.kind, p.task.vec = taskDotFits, nil
			s.lowMovingAverages(nil)
			s.run((len(s.low.fits) + 3) / 4)
		}
		// Step 4 with the interpolation of L: S = C[np+i] − L, then
		// D = y − S.
		s.par.task.kind = taskLowInterp
		s.run(s.chunks(n))
		// Step 5: T = SMOOTH(y − S, nt, 1, ntjump, ρ), then e for the
		// next pass.
		if s.vt.on() {
			var rho []float64
			if pass > 0 && !rhoFilled {
				rho = s.rho[:n]
			}
			s.fillRows(&s.vt, s.d[:n], rho)
		}
		if pass == 0 {
			// Without robustness weights the fits are dot products with
			// the precomputed weights.
			s.par.task.kind = taskDotFits
			s.par.task.plan, s.par.task.ys, s.par.task.in = &s.trend, s.T, s.d[:n]
			if s.vt.on() {
				s.par.task.vec = &s.vt
				s.run(s.vt.lineItems())
			} else {
				s.par.task.vec = nil
				s.run((len(s.trend.fits) + 3) / 4)
			}
		} else if s.vt.on() {
			s.par.task.kind = taskVecTrendFits
			s.runTrend(pass, s.vt.nSteps())
		} else {
			s.par.task.kind = taskTrendFits
			s.runTrend(pass, len(s.trend.fits))
		}
		s.par.task.kind = taskTrendInterp
		s.par.task.last = pass == 15
		s.prepareFirst(pass < 15)
		s.run(s.chunks(n))
	}
	return !s.par.nan.Load()
}

// runTrend runs the phase of n trend fits of pass. In the last pass of a
// call with then, the seasonal is final before its trend (the trend fits
// read y − S, not S): the caller averages it and runs then while the
// helper computes the fits, and takes whatever fits remain afterwards.
func (s *STL) runTrend(pass, n int) {
	if pass < 15 || s.then == nil || !s.par.useHelper() {
		s.run(n)
		return
	}
	s.runAfter(n, s.finishSeasonal)
}

// lowMovingAverages runs the moving averages of the low-pass step on C
// into l0 (movingAverages), reporting to progress if not nil.
func (s *STL) lowMovingAverages(progress *atomic.Int64) {
	n, np := s.n, s.np
	movingAverages(s.ma[:n+np+1], s.mb[:n+2], s.l0[:n], s.c[:n+2*np], np, progress, s.vec)
}

// firstSplit is PSORT's first split prepared while the residuals are
// computed: the residual phase applies the median-of-three swaps and lists
// each chunk's positions of values ≥ and ≤ the pivot, in parallel, which
// takes the longest serial scan out of PSORT.
type firstSplit struct {
	on     bool
	t      float64    // the pivot
	x      [3]int     // positions 0, (n−1)/2, n−1
	v      [3]float64 // their values after the swaps
	nb, ns []int      // per chunk: numbers of listed positions
	ps     psortFirst
}

// firstSplitMin is the length from which the first split is prepared.
const firstSplitMin = 4 * listPartitionMin

// prepareFirst computes the residuals at PSORT's three first positions and
// the pivot, for the residual phase to prepare the first split (if on).
func (s *STL) prepareFirst(on bool) {
	n := s.n
	f := &s.first
	f.on = on && n >= firstSplitMin
	if !f.on {
		return
	}
	f.x = [3]int{0, (n - 1) / 2, n - 1}
	var ev [3]float64
	for q, x := range f.x {
		s.trend.interpolateRange(s.T, x, x+1)
		ev[q] = math.Abs(s.y[x] - (s.T[x] + s.S[x]))
	}
	f.v[0], f.v[1], f.v[2], f.t = median3(ev[0], ev[1], ev[2])
	f.nb = growInts(f.nb, s.chunks(n))
	f.ns = growInts(f.ns, s.chunks(n))
}

// gatherFirst joins the chunks' lists of the prepared first split, or
// returns nil if none was prepared.
func (s *STL) gatherFirst() *psortFirst {
	f := &s.first
	if !f.on {
		return nil
	}
	big, small := s.psb.big[:s.n], s.psb.small[:s.n]
	nb, ns := 0, 0
	for c := range f.nb {
		lo := c * chunkLen
		nb += copy(big[nb:], big[lo:lo+f.nb[c]])
		ns += copy(small[ns:], small[lo:lo+f.ns[c]])
	}
	f.ps = psortFirst{t: f.t, big: big[:nb], small: small[:ns]}
	return &f.ps
}

func growInt32(buf []int32, n int) []int32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]int32, n, n+n/8)
}

func growInts(buf []int, n int) []int {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]int, n)
}

// chunkLen is the number of elements of an element-wise work item.
const chunkLen = 1024

func (s *STL) chunks(n int) int { return (n + chunkLen - 1) / chunkLen }

// Kinds of parallel work.
const (
	taskCycle        = iota // ρ, D = y − T and the cycle-subseries, by runs of phases
	taskDotFits             // unweighted fits (low-pass, first trend), four at a time
	taskLowInterp           // low-pass interpolation, S, D = y − S, element-wise
	taskTrendFits           // trend fits, one at a time through the pipeline
	taskTrendInterp         // trend interpolation and e, element-wise
	taskVecTrendFits        // trend fits by the vector kernels, a step at a time
	taskVecFill             // the region of a vecPlan, by chunks of rows
	taskLowStream           // ρ into the trend's region, then the low-pass fits (vls) as the moving averages progress
)

// fillRows copies y (and rho, if not nil) into the region of the
// vecPlan v, in parallel.
func (s *STL) fillRows(v *vecPlan, y, rho []float64) {
	if v.fillChunks() == 0 {
		return
	}
	s.par.task.kind, s.par.task.vec = taskVecFill, v
	s.par.task.in, s.par.task.rho = y, rho
	s.run(v.fillChunks())
}

// work takes items of the open phase until none is left.
func (s *STL) work(helper bool) {
	p := &s.par
	n := s.n
	vzeroupper()
	switch p.task.kind {
	case taskTrendFits:
		w := &s.wbuf
		if helper {
			w = &p.hw
		}
		s.trend.fitWeighted(s.T, s.d[:n], s.rho[:n], s.jf, w, p, helper)
		return
	case taskVecTrendFits:
		vb := &s.vbuf
		if helper {
			vb = &p.hvb
		}
		s.vt.fitWeighted(&s.trend, s.T, s.d[:n], s.rho[:n], vb, p, helper)
		return
	}
	for {
		it := p.take(helper)
		if it < 0 {
			return
		}
		lo, hi := it*chunkLen, min(it*chunkLen+chunkLen, n)
		switch p.task.kind {
		case taskCycle:
			s.cycleItem(it)
		case taskVecFill:
			p.task.vec.fill(it, p.task.in, p.task.rho)
		case taskLowStream:
			if it < p.task.nfill {
				s.vt.fill(it, nil, s.rho[:n])
				break
			}
			li := it - p.task.nfill
			if helper {
				need := int64(s.vls.lineNeed(li))
				for spins := 0; p.progress.Load() < need; spins++ {
					if spins&63 == 63 {
						runtime.Gosched()
					}
				}
			}
			s.vls.lineItem(&s.low, s.l[:n], s.l0[:n], li)
		case taskDotFits:
			t := &p.task
			if t.vec != nil {
				t.vec.lineItem(t.plan, t.ys, t.in, it)
				break
			}
			lo, hi := 4*it, min(4*it+4, len(t.plan.fits))
			if t.stream && helper {
				last := &t.plan.fits[hi-1]
				for spins := 0; p.progress.Load() < int64(last.a+t.plan.wl); spins++ {
					if spins&63 == 63 {
						runtime.Gosched()
					}
				}
			}
			t.plan.dotFits(t.ys, t.in, s.jf, lo, hi)
		case taskLowInterp:
			s.low.interpolateRange(s.l[:n], lo, hi)
			S, y, d, l := s.S[lo:hi], s.y[lo:hi], s.d[lo:hi], s.l[lo:hi]
			cs := s.c[s.np+lo : s.np+hi]
			k := 0
			if s.vec {
				k = seasonal4(S, d, y, cs, l)
			}
			for i := k; i < len(S); i++ {
				v := cs[i] - l[i]
				S[i] = v
				d[i] = y[i] - v
			}
		case taskTrendInterp:
			s.trend.interpolateRange(s.T, lo, hi)
			if !p.task.last {
				s.residualChunk(lo, hi)
				if f := &s.first; f.on {
					for q, x := range f.x {
						if lo <= x && x < hi {
							s.e[x] = f.v[q]
						}
					}
					f.nb[it], f.ns[it] = s.psb.compactChunk(s.e[:n], lo, hi, f.t)
				}
			}
		}
	}
}

func fillNaN(x []float64) {
	for i := range x {
		x[i] = math.NaN()
	}
}
