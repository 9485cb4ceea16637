//go:build goexperiment.simd && amd64

// This file, stl_vec4.go and stl_vecew.go are the vector fast path of STL:
// the LOESS fits of the trend and low-pass smoothers, four at a time, and
// the element-wise steps, four values at a time. They exist only in builds
// with GOEXPERIMENT=simd on amd64 (Go 1.26's experimental simd/archsimd
// package), which `make build` and the Dockerfile use. A plain `go build`
// compiles stl_novec.go instead and runs the scalar code everywhere: the
// same results, bit for bit, only slower. With GOEXPERIMENT=simd the vector
// path runs on CPUs with AVX2 and the scalar one on others (checked once,
// at start-up).
//
// Each vector lane computes a different fit (or value) with exactly the
// scalar operation sequence: the same sums in the same order, the same
// divisions, a separate multiply and add where the scalar code has them
// (never a fused multiply-add), so that every lane's result has the bits
// of the scalar code's (and of R's).

package detect

import (
	"math"
	"simd/archsimd"
)

// vecLanes is the number of lanes of the vector kernels on this CPU, 0 if
// it lacks AVX2.
var vecLanes = func() int {
	if archsimd.X86.AVX2() {
		return 4
	}
	return 0
}()

// vzeroupper clears the upper halves of the vector registers. Go's scalar
// floating-point code uses legacy SSE encodings, which on Intel CPUs run
// with a false dependency on the whole register (serialising, for example,
// independent divisions) while the upper halves are dirty. The vector
// kernels leave them dirty, and so does the runtime's asynchronous
// preemption in GOEXPERIMENT=simd builds (it restores the full vector
// registers), so the scalar work items start with this.
func vzeroupper() {
	if vecLanes > 0 {
		archsimd.ClearAVXUpperBits()
	}
}

// vecMaxLanes bounds the lanes of a vecStep.
const vecMaxLanes = 4

// vecPlan groups the fits of a smoothPlan for the vector kernels: a step
// computes one fit per lane, side by side over rows j = 0..wl−1 of their
// windows.
//
// The interior fits of a series (the longest run with one kernel and
// windows a constant stride apart) are cut into lanes blocks of
// consecutive fits, block l in lane l; step t computes fit t of every
// block. Since the windows of a block advance by the stride, the data of
// step t are rows t·stride… of one region whose column l is the series
// from the window of block l's first fit: a few copies per value and pass
// (fill), after which the kernels load each row with one vector load. The
// other fits (at the ends of the series, whose windows and kernels differ)
// fill steps of four consecutive fits whose kernels load each lane's
// window where it is and transpose four rows at a time in registers.
//
// The kernels of the lanes are stored interleaved (row j holds the lanes'
// kernel values at j), one block for each combination that occurs, for the
// fits with robustness weights (kern) and without (norm, the normalised
// kernels).
type vecPlan struct {
	lanes, wl int
	steps     []vecStep

	// The region of the interior fits: row p of column l is x[base[l]+p]
	// for p < rows (padding past the end of the series).
	base         [vecMaxLanes]int
	rows, stride int
	xy, xr       []float64 // the region's copy of y and of ρ, rows·lanes values

	kern, norm []float64          // kernel blocks, wl·lanes values each
	kcomb      [][vecMaxLanes]int // the smoothPlan kernels (offsets) of each block
}

// vecStep is one step: the fits of its lanes (−1: idle lane), their
// windows' first positions a and abscissae a + 1 (EST's j of row 0,
// 1-based), the offset of their kernel blocks, c̄ and β of the fits
// without robustness weights (β = 0 where EST skips the linear term), and
// the first row of its data in the region (−1: at the ends of the series,
// loaded from the series).
type vecStep struct {
	fit      [vecMaxLanes]int32
	a        [vecMaxLanes]int
	jb       [vecMaxLanes]float64
	cb, beta [vecMaxLanes]float64
	kern     int
	row      int
}

// on reports whether the vector kernels run this plan's fits.
func (v *vecPlan) on() bool { return v.lanes > 0 && len(v.steps) > 0 }

// nSteps returns the number of steps, the work items of the weighted fits.
func (v *vecPlan) nSteps() int { return len(v.steps) }

// build groups the fits of p for lanes lanes (0: the vector path is off);
// weighted says whether the fits with robustness weights run too.
func (v *vecPlan) build(p *smoothPlan, lanes int, weighted bool) {
	v.buildSteps(p, lanes, weighted, true)
}

// buildSteps is build; without region, every step takes four consecutive
// fits and loads their windows from the series itself, so that a step
// can run as soon as the series is final up to lineNeed, and no region
// needs filling.
func (v *vecPlan) buildSteps(p *smoothPlan, lanes int, weighted, region bool) {
	v.lanes, v.wl = lanes, p.wl
	v.steps, v.kern, v.norm, v.kcomb = v.steps[:0], v.kern[:0], v.norm[:0], v.kcomb[:0]
	v.rows, v.stride = 0, 0
	if lanes == 0 || len(p.fits) == 0 {
		v.lanes = 0
		return
	}
	L := lanes
	f0, f1, stride := p.uniformRun()
	// The fits past the last whole block of the run join the other fits
	// where the last step of those has idle lanes for them: a step fewer
	// (13 → 12 for the trend of a week of minutes).
	if r, e := (f1-f0)%L, (len(p.fits)-(f1-f0))%L; r > 0 && e > 0 && r+e <= L {
		f1 -= r
	}
	if f1-f0 < 2*L || !region {
		f0, f1 = 0, 0
	}
	if f1 > f0 {
		N := f1 - f0
		M := (N + L - 1) / L
		v.stride, v.rows = stride, (M-1)*stride+p.wl
		for l := 0; l < L; l++ {
			v.base[l] = p.fits[f0+min(l*M, N-1)].a
		}
		for t := 0; t < M; t++ {
			var grp [vecMaxLanes]int
			for l := range grp {
				grp[l] = -1
				if l*M+t < N {
					grp[l] = f0 + l*M + t
				}
			}
			// Idle lanes (past the end of a short last block) take
			// lane 0's window, which the series holds.
			st := v.newStep(p, grp, f0+t, weighted)
			st.row = t * stride
		}
	}
	// The other fits, four consecutive ones a step.
	grp := [vecMaxLanes]int{-1, -1, -1, -1}
	ng := 0
	for fi := range p.fits {
		if f0 <= fi && fi < f1 {
			continue
		}
		grp[ng] = fi
		ng++
		if ng == L {
			v.newStep(p, grp, grp[0], weighted).row = -1
			grp, ng = [vecMaxLanes]int{-1, -1, -1, -1}, 0
		}
	}
	if ng > 0 {
		v.newStep(p, grp, grp[0], weighted).row = -1
	}
	if v.rows > 0 {
		v.xy = grow(v.xy, v.rows*L)
		if weighted {
			v.xr = grow(v.xr, v.rows*L)
		}
	}
}

// newStep appends the step of the fits grp (−1: idle lane, which takes the
// window and kernel of fit idle) and returns it.
func (v *vecPlan) newStep(p *smoothPlan, grp [vecMaxLanes]int, idle int, weighted bool) *vecStep {
	var st vecStep
	var comb [vecMaxLanes]int
	for l := 0; l < v.lanes; l++ {
		fi := grp[l]
		st.fit[l] = int32(fi)
		if fi < 0 {
			fi = idle
		}
		f := &p.fits[fi]
		st.a[l] = f.a
		st.jb[l] = float64(f.a + 1)
		if grp[l] >= 0 {
			st.cb[l], st.beta[l] = f.cb, f.beta
		}
		comb[l] = f.k
	}
	st.kern = v.kernelBlocks(p, comb, weighted)
	v.steps = append(v.steps, st)
	return &v.steps[len(v.steps)-1]
}

// kernelBlocks returns the offset of the interleaved blocks of the
// kernels comb (in kern if weighted, and in norm), appending them if new.
func (v *vecPlan) kernelBlocks(p *smoothPlan, comb [vecMaxLanes]int, weighted bool) int {
	wl, L := p.wl, v.lanes
	for b, c := range v.kcomb {
		if c == comb {
			return b * wl * L
		}
	}
	off := len(v.norm)
	v.norm = interleave(v.norm, p.norm, comb, wl, L)
	if weighted {
		v.kern = interleave(v.kern, p.kern, comb, wl, L)
	}
	v.kcomb = append(v.kcomb, comb)
	return off
}

// interleave appends the kernels of src at the offsets comb, interleaved.
func interleave(dst, src []float64, comb [vecMaxLanes]int, wl, L int) []float64 {
	off := len(dst)
	dst = append(dst, make([]float64, wl*L)...)
	blk := dst[off:]
	for l := 0; l < L; l++ {
		for j, x := range src[comb[l]:][:wl] {
			blk[j*L+l] = x
		}
	}
	return dst
}

// uniformRun returns the longest run f0 ≤ f < f1 of fits that share one
// kernel and whose windows start stride > 0 apart.
func (p *smoothPlan) uniformRun() (f0, f1, stride int) {
	fits := p.fits
	for i := 0; i+1 < len(fits); {
		s := fits[i+1].a - fits[i].a
		j := i + 1
		if s > 0 {
			for j < len(fits) && fits[j].k == fits[i].k && fits[j].a-fits[j-1].a == s {
				j++
			}
		}
		if j-i > f1-f0 {
			f0, f1, stride = i, j, s
		}
		i = max(j-1, i+1)
	}
	return f0, f1, stride
}

// fillChunks returns the number of work items of fill.
func (v *vecPlan) fillChunks() int { return (v.rows + chunkLen - 1) / chunkLen }

// fill copies rows it·chunkLen… of the region from y and from rho, each
// if not nil; rows past the end of the series get y = 0, ρ = 1.
func (v *vecPlan) fill(it int, y, rho []float64) {
	r0, r1 := it*chunkLen, min(it*chunkLen+chunkLen, v.rows)
	if y != nil {
		fillRegion(v.xy, y, &v.base, r0, r1, 0)
	}
	if rho != nil {
		fillRegion(v.xr, rho, &v.base, r0, r1, 1)
	}
}

// vecSlot is the state of a step in the weighted pipeline, per lane.
type vecSlot struct {
	st       *vecStep
	live     bool
	A, cb, b [vecMaxLanes]float64
}

// rowsOf returns where the kernels load step st's data: the region x (one
// vector a row) or, for steps at the ends of the series, the series y
// itself at the lanes' windows.
func (v *vecPlan) rowsOf(st *vecStep, x, y []float64) (src []float64, region bool) {
	if st.row >= 0 {
		return x[st.row*v.lanes:][:v.wl*v.lanes], true
	}
	return y, false
}

// fitWeighted computes the fits of p of EST with robustness weights (§9.2,
// degree 1) on y, with ρ and y in the region (filled) where the steps use
// it and rho, y elsewhere, taking the steps from the open phase of par,
// and stores them in ys (y where EST fails). It is the vector form of
// smoothPlan.fitWeighted with a pipeline of two steps: sweep A runs pass 1
// of step t (A) and pass 3 of step t − 1 (c), sweep B pass 2 of step t
// (the weights w/A and c̄) and pass 4 of step t − 1 (the fitted values).
// Each sweep has two independent sums; the division of pass 2 hides the
// rest of sweep B. vb holds the weights of the two steps in flight
// (wl·lanes values each).
func (v *vecPlan) fitWeighted(p *smoothPlan, ys, y, rho []float64, vb *[2][]float64, par *stlPar, helper bool) {
	wl, L := v.wl, v.lanes
	lim := 0.001 * p.rng
	// A slot without a step (live false) points at some step; the passes
	// it would run are skipped.
	var sl [2]vecSlot
	for i := range sl {
		sl[i].st = &v.steps[0]
	}
	for t := 0; ; t++ {
		cur, prev := &sl[t&1], &sl[(t-1)&1]
		if si := par.take(helper); si >= 0 {
			cur.st, cur.live = &v.steps[si], true
		} else {
			cur.live = false
			if !prev.live {
				break
			}
		}
		Wc, Wp := vb[t&1][:wl*L], vb[(t-1)&1][:wl*L]
		R, rgn := v.rowsOf(cur.st, v.xr, rho)
		A, c := sweepA4(wl, cur.live, prev.live, rgn, R, &cur.st.a, v.kern[cur.st.kern:][:wl*L], Wc,
			Wp, &prev.st.jb, &prev.cb)
		cur.A = A
		if prev.live {
			// β of the previous step; β = 0 leaves the weights unchanged,
			// as EST does when it skips the linear term.
			for l := 0; l < L; l++ {
				prev.b[l] = 0
				if fi := prev.st.fit[l]; fi >= 0 {
					f := &p.fits[fi]
					if f.lin && math.Sqrt(c[l]) > lim {
						prev.b[l] = (f.x0 - prev.cb[l]) / c[l]
					}
				}
			}
		}
		Y, rgn := v.rowsOf(prev.st, v.xy, y)
		cb, fit := sweepB4(wl, cur.live, prev.live, rgn, Y, Wc, &cur.A, &cur.st.jb,
			Wp, &prev.st.a, &prev.st.jb, &prev.cb, &prev.b)
		cur.cb = cb
		if prev.live {
			for l := 0; l < L; l++ {
				if fi := prev.st.fit[l]; fi >= 0 {
					f := &p.fits[fi]
					v := fit[l]
					if !(prev.A[l] > 0) {
						v = y[f.i]
					}
					ys[f.i] = v
				}
			}
		}
	}
	vzeroupper()
}

// lineNeed returns how many values at the front of the series work item
// it of the unweighted fits reads (for a plan without region).
func (v *vecPlan) lineNeed(it int) int {
	need := 0
	for _, si := range [2]int{2 * it, min(2*it+1, len(v.steps)-1)} {
		for l := 0; l < v.lanes; l++ {
			need = max(need, v.steps[si].a[l]+v.wl)
		}
	}
	return need
}

// lineItems returns the number of work items of the unweighted fits: two
// steps each, so that the kernel has two sums to overlap.
func (v *vecPlan) lineItems() int { return (len(v.steps) + 1) / 2 }

// lineItem computes the fits of work item it (steps 2·it and 2·it + 1) of
// SMOOTH without robustness weights on y (in the region where the steps
// use it) into ys, from the normalised kernels, c̄ and β:
// Σ (w·(β·(j − c̄) + 1))·y, as smoothPlan.lineFits does (y where EST
// fails). The scalar code's stored final weights (dotFits) give the same
// bits; stored interleaved, they made no measurable difference here (they
// come from beyond L2 at every pass), so the vector path stores none.
func (v *vecPlan) lineItem(p *smoothPlan, ys, y []float64, it int) {
	wl, L := v.wl, v.lanes
	iA, iB := 2*it, min(2*it+1, len(v.steps)-1)
	sA, sB := &v.steps[iA], &v.steps[iB]
	YA, rA := v.rowsOf(sA, v.xy, y)
	YB, rB := v.rowsOf(sB, v.xy, y)
	var ysA, ysB [4]float64
	if rA && rB {
		ysA, ysB = lineFits2IL(wl, YA, sA, v.norm[sA.kern:][:wl*L], YB, sB, v.norm[sB.kern:][:wl*L])
	} else {
		ysA, ysB = lineFits2x4(wl, y, sA, v.norm[sA.kern:][:wl*L], sB, v.norm[sB.kern:][:wl*L])
	}
	vzeroupper()
	for l := 0; l < L; l++ {
		if fi := sA.fit[l]; fi >= 0 {
			p.store(ys, y, &p.fits[fi], ysA[l])
		}
		if fi := sB.fit[l]; fi >= 0 && iB != iA {
			p.store(ys, y, &p.fits[fi], ysB[l])
		}
	}
}
