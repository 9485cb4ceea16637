//go:build goexperiment.simd && amd64

package detect

import "simd/archsimd"

// The AVX2 kernels: four lanes of float64.

type f64x4 = archsimd.Float64x4

func load4(s []float64, o int) f64x4 { return archsimd.LoadFloat64x4((*[4]float64)(s[o : o+4])) }

func store4(x f64x4, s []float64, o int) { x.Store((*[4]float64)(s[o : o+4])) }

// transpose4 returns the columns of the 4×4 matrix with rows r0..r3.
func transpose4(r0, r1, r2, r3 f64x4) (c0, c1, c2, c3 f64x4) {
	t0 := r0.SelectFromPairGrouped(0, 2, r1) // r0[0] r1[0] r0[2] r1[2]
	t1 := r0.SelectFromPairGrouped(1, 3, r1) // r0[1] r1[1] r0[3] r1[3]
	t2 := r2.SelectFromPairGrouped(0, 2, r3)
	t3 := r2.SelectFromPairGrouped(1, 3, r3)
	return t0.Select128FromPair(0, 2, t2), t1.Select128FromPair(0, 2, t3),
		t0.Select128FromPair(1, 3, t2), t1.Select128FromPair(1, 3, t3)
}

// rows4 loads rows j..j+3 of the lanes' windows starting at a: lane l of
// row q is x[a[l]+j+q].
func rows4(x []float64, a *[4]int, j int) (f64x4, f64x4, f64x4, f64x4) {
	return transpose4(load4(x, a[0]+j), load4(x, a[1]+j), load4(x, a[2]+j), load4(x, a[3]+j))
}

// row1 loads row j of the lanes' windows starting at a.
func row1(x []float64, a *[4]int, j int) f64x4 {
	r := [4]float64{x[a[0]+j], x[a[1]+j], x[a[2]+j], x[a[3]+j]}
	return archsimd.LoadFloat64x4(&r)
}

// The stages of EST (degree 1, with robustness weights) for one row j of
// four fits side by side, each lane with the scalar operations of
// pass1234 in their order (o = 4j, the row's offset in the interleaved
// weights):
//
//	stage 1: w = ρ·K (stored in W1), A = Σ w
//	stage 2: v = w/A (stored over w), c̄ = Σ v·j
//	stage 3: c = Σ v·(j − c̄)²
//	stage 4: Σ (v·(β·(j − c̄) + 1))·y
//
// The abscissae J = a + 1 + j advance by one a row, exactly.

func stage1(A1, r f64x4, K1, W1 []float64, o int) f64x4 {
	w := r.Mul(load4(K1, o))
	store4(w, W1, o)
	return A1.Add(w)
}

func stage2(cb2, J2, A2 f64x4, W2 []float64, o int) f64x4 {
	v := load4(W2, o).Div(A2)
	store4(v, W2, o)
	return cb2.Add(v.Mul(J2))
}

func stage3(c3, J3, cb3 f64x4, W3 []float64, o int) f64x4 {
	d := J3.Sub(cb3)
	return c3.Add(load4(W3, o).Mul(d.Mul(d)))
}

func stage4(ys4, J4, cb4, b4, one, y f64x4, W4 []float64, o int) f64x4 {
	d := J4.Sub(cb4)
	return ys4.Add(load4(W4, o).Mul(b4.Mul(d).Add(one)).Mul(y))
}

// sweepA4 runs stages 1 and 3 (those whose flags are set) over the n rows
// of the windows: stage 1 for a step (kernels K1, weights into W1) whose ρ
// rows are R (interleaved, if region) or whose lanes' windows start at a1
// in R, stage 3 for the previous step (W3, abscissae of row 0 jb3, centres
// cb3). It returns A1 and c3.
func sweepA4(n int, on1, on3, region bool, R []float64, a1 *[4]int, K1, W1, W3 []float64, pjb3, pcb3 *[4]float64) (A1, c3 [4]float64) {
	switch {
	case on1 && on3 && region:
		return sweepA13IL(n, R, K1, W1, W3, pjb3, pcb3)
	case on1 && on3 && oneWindow(a1):
		return sweepA13S(n, R[a1[0]:], K1, W1, W3, pjb3, pcb3)
	case on1 && on3:
		return sweepA13x4(n, R, a1, K1, W1, W3, pjb3, pcb3)
	case on1 && region:
		A1 = sweep1IL(n, R, K1, W1)
	case on1 && oneWindow(a1):
		A1 = sweep1S(n, R[a1[0]:], K1, W1)
	case on1:
		A1 = sweep1x4(n, R, a1, K1, W1)
	case on3:
		c3 = sweep3x4(n, W3, pjb3, pcb3)
	}
	return
}

// sweepB4 runs stages 2 and 4 (those whose flags are set) over the n rows:
// stage 2 for the step of sweepA4's stage 1 (W2, totals A2), stage 4 for
// the previous step (W4, centres cb4, slopes b4) whose y rows are Y
// (interleaved, if region) or whose lanes' windows start at a4 in Y. It
// returns c̄2 and ys4.
func sweepB4(n int, on2, on4, region bool, Y, W2 []float64, pA2, pjb2 *[4]float64, W4 []float64, a4 *[4]int, pjb4, pcb4, pb4 *[4]float64) (cb2, ys4 [4]float64) {
	switch {
	case on2 && on4 && region:
		return sweepB24IL(n, Y, W2, pA2, pjb2, W4, pjb4, pcb4, pb4)
	case on2 && on4 && oneWindow(a4):
		return sweepB24S(n, Y[a4[0]:], W2, pA2, pjb2, W4, pjb4, pcb4, pb4)
	case on2 && on4:
		return sweepB24x4(n, Y, W2, pA2, pjb2, W4, a4, pjb4, pcb4, pb4)
	case on2:
		cb2 = sweep2x4(n, W2, pA2, pjb2)
	case on4 && region:
		ys4 = sweep4IL(n, Y, W4, pjb4, pcb4, pb4)
	case on4 && oneWindow(a4):
		ys4 = sweep4S(n, Y[a4[0]:], W4, pjb4, pcb4, pb4)
	case on4:
		ys4 = sweep4x4(n, Y, W4, a4, pjb4, pcb4, pb4)
	}
	return
}

func sweepA13x4(n int, rho []float64, a1 *[4]int, K1, W1, W3 []float64, pjb3, pcb3 *[4]float64) (A1, c3 [4]float64) {
	J3, cb3 := archsimd.LoadFloat64x4(pjb3), archsimd.LoadFloat64x4(pcb3)
	one := archsimd.BroadcastFloat64x4(1)
	var sA1, sc3 f64x4
	K1, W1, W3 = K1[:4*n], W1[:4*n], W3[:4*n]
	j := 0
	for ; j+4 <= n; j += 4 {
		o := 4 * j
		r0, r1, r2, r3 := rows4(rho, a1, j)
		sA1 = stage1(sA1, r0, K1, W1, o)
		sc3 = stage3(sc3, J3, cb3, W3, o)
		J3 = J3.Add(one)
		sA1 = stage1(sA1, r1, K1, W1, o+4)
		sc3 = stage3(sc3, J3, cb3, W3, o+4)
		J3 = J3.Add(one)
		sA1 = stage1(sA1, r2, K1, W1, o+8)
		sc3 = stage3(sc3, J3, cb3, W3, o+8)
		J3 = J3.Add(one)
		sA1 = stage1(sA1, r3, K1, W1, o+12)
		sc3 = stage3(sc3, J3, cb3, W3, o+12)
		J3 = J3.Add(one)
	}
	for ; j < n; j++ {
		o := 4 * j
		sA1 = stage1(sA1, row1(rho, a1, j), K1, W1, o)
		sc3 = stage3(sc3, J3, cb3, W3, o)
		J3 = J3.Add(one)
	}
	sA1.Store(&A1)
	sc3.Store(&c3)
	return
}

func sweepB24x4(n int, y []float64, W2 []float64, pA2, pjb2 *[4]float64, W4 []float64, a4 *[4]int, pjb4, pcb4, pb4 *[4]float64) (cb2, ys4 [4]float64) {
	A2, J2 := archsimd.LoadFloat64x4(pA2), archsimd.LoadFloat64x4(pjb2)
	J4, cb4, b4 := archsimd.LoadFloat64x4(pjb4), archsimd.LoadFloat64x4(pcb4), archsimd.LoadFloat64x4(pb4)
	one := archsimd.BroadcastFloat64x4(1)
	var scb2, sys4 f64x4
	W2, W4 = W2[:4*n], W4[:4*n]
	j := 0
	for ; j+4 <= n; j += 4 {
		o := 4 * j
		y0, y1, y2, y3 := rows4(y, a4, j)
		scb2 = stage2(scb2, J2, A2, W2, o)
		sys4 = stage4(sys4, J4, cb4, b4, one, y0, W4, o)
		J2, J4 = J2.Add(one), J4.Add(one)
		scb2 = stage2(scb2, J2, A2, W2, o+4)
		sys4 = stage4(sys4, J4, cb4, b4, one, y1, W4, o+4)
		J2, J4 = J2.Add(one), J4.Add(one)
		scb2 = stage2(scb2, J2, A2, W2, o+8)
		sys4 = stage4(sys4, J4, cb4, b4, one, y2, W4, o+8)
		J2, J4 = J2.Add(one), J4.Add(one)
		scb2 = stage2(scb2, J2, A2, W2, o+12)
		sys4 = stage4(sys4, J4, cb4, b4, one, y3, W4, o+12)
		J2, J4 = J2.Add(one), J4.Add(one)
	}
	for ; j < n; j++ {
		o := 4 * j
		scb2 = stage2(scb2, J2, A2, W2, o)
		sys4 = stage4(sys4, J4, cb4, b4, one, row1(y, a4, j), W4, o)
		J2, J4 = J2.Add(one), J4.Add(one)
	}
	scb2.Store(&cb2)
	sys4.Store(&ys4)
	return
}

// The sweeps with one stage, while the pipeline fills or drains.

func sweep1x4(n int, rho []float64, a1 *[4]int, K1, W1 []float64) (A1 [4]float64) {
	var sA1 f64x4
	K1, W1 = K1[:4*n], W1[:4*n]
	j := 0
	for ; j+4 <= n; j += 4 {
		o := 4 * j
		r0, r1, r2, r3 := rows4(rho, a1, j)
		sA1 = stage1(sA1, r0, K1, W1, o)
		sA1 = stage1(sA1, r1, K1, W1, o+4)
		sA1 = stage1(sA1, r2, K1, W1, o+8)
		sA1 = stage1(sA1, r3, K1, W1, o+12)
	}
	for ; j < n; j++ {
		sA1 = stage1(sA1, row1(rho, a1, j), K1, W1, 4*j)
	}
	sA1.Store(&A1)
	return
}

func sweep2x4(n int, W2 []float64, pA2, pjb2 *[4]float64) (cb2 [4]float64) {
	A2, J2 := archsimd.LoadFloat64x4(pA2), archsimd.LoadFloat64x4(pjb2)
	one := archsimd.BroadcastFloat64x4(1)
	var scb2 f64x4
	W2 = W2[:4*n]
	for o := 0; o+4 <= len(W2); o += 4 {
		scb2 = stage2(scb2, J2, A2, W2, o)
		J2 = J2.Add(one)
	}
	scb2.Store(&cb2)
	return
}

func sweep3x4(n int, W3 []float64, pjb3, pcb3 *[4]float64) (c3 [4]float64) {
	J3, cb3 := archsimd.LoadFloat64x4(pjb3), archsimd.LoadFloat64x4(pcb3)
	one := archsimd.BroadcastFloat64x4(1)
	var sc3 f64x4
	W3 = W3[:4*n]
	for o := 0; o+4 <= len(W3); o += 4 {
		sc3 = stage3(sc3, J3, cb3, W3, o)
		J3 = J3.Add(one)
	}
	sc3.Store(&c3)
	return
}

func sweep4x4(n int, y, W4 []float64, a4 *[4]int, pjb4, pcb4, pb4 *[4]float64) (ys4 [4]float64) {
	J4, cb4, b4 := archsimd.LoadFloat64x4(pjb4), archsimd.LoadFloat64x4(pcb4), archsimd.LoadFloat64x4(pb4)
	one := archsimd.BroadcastFloat64x4(1)
	var sys4 f64x4
	W4 = W4[:4*n]
	j := 0
	for ; j+4 <= n; j += 4 {
		o := 4 * j
		y0, y1, y2, y3 := rows4(y, a4, j)
		sys4 = stage4(sys4, J4, cb4, b4, one, y0, W4, o)
		J4 = J4.Add(one)
		sys4 = stage4(sys4, J4, cb4, b4, one, y1, W4, o+4)
		J4 = J4.Add(one)
		sys4 = stage4(sys4, J4, cb4, b4, one, y2, W4, o+8)
		J4 = J4.Add(one)
		sys4 = stage4(sys4, J4, cb4, b4, one, y3, W4, o+12)
		J4 = J4.Add(one)
	}
	for ; j < n; j++ {
		sys4 = stage4(sys4, J4, cb4, b4, one, row1(y, a4, j), W4, 4*j)
		J4 = J4.Add(one)
	}
	sys4.Store(&ys4)
	return
}

// lineRow adds row (N, y) of a fit without robustness weights to the sum
// s: s + (N·(β·(J − c̄) + 1))·y, the operations of smoothPlan.lineFits.
func lineRow(s, J, cb, b, one, N, y f64x4) f64x4 {
	return s.Add(N.Mul(b.Mul(J.Sub(cb)).Add(one)).Mul(y))
}

// lineFits2x4 computes the fits of two steps A and B without robustness
// weights over their n rows (kernels NA, NB interleaved), in one loop so
// that their sums overlap.
func lineFits2x4(n int, y []float64, sA *vecStep, NA []float64, sB *vecStep, NB []float64) (ysA, ysB [4]float64) {
	JA, cbA, bA := archsimd.LoadFloat64x4(&sA.jb), archsimd.LoadFloat64x4(&sA.cb), archsimd.LoadFloat64x4(&sA.beta)
	JB, cbB, bB := archsimd.LoadFloat64x4(&sB.jb), archsimd.LoadFloat64x4(&sB.cb), archsimd.LoadFloat64x4(&sB.beta)
	one := archsimd.BroadcastFloat64x4(1)
	var tA, tB f64x4
	NA, NB = NA[:4*n], NB[:4*n]
	j := 0
	for ; j+4 <= n; j += 4 {
		o := 4 * j
		a0, a1, a2, a3 := rows4(y, &sA.a, j)
		b0, b1, b2, b3 := rows4(y, &sB.a, j)
		tA = lineRow(tA, JA, cbA, bA, one, load4(NA, o), a0)
		tB = lineRow(tB, JB, cbB, bB, one, load4(NB, o), b0)
		JA, JB = JA.Add(one), JB.Add(one)
		tA = lineRow(tA, JA, cbA, bA, one, load4(NA, o+4), a1)
		tB = lineRow(tB, JB, cbB, bB, one, load4(NB, o+4), b1)
		JA, JB = JA.Add(one), JB.Add(one)
		tA = lineRow(tA, JA, cbA, bA, one, load4(NA, o+8), a2)
		tB = lineRow(tB, JB, cbB, bB, one, load4(NB, o+8), b2)
		JA, JB = JA.Add(one), JB.Add(one)
		tA = lineRow(tA, JA, cbA, bA, one, load4(NA, o+12), a3)
		tB = lineRow(tB, JB, cbB, bB, one, load4(NB, o+12), b3)
		JA, JB = JA.Add(one), JB.Add(one)
	}
	for ; j < n; j++ {
		o := 4 * j
		tA = lineRow(tA, JA, cbA, bA, one, load4(NA, o), row1(y, &sA.a, j))
		tB = lineRow(tB, JB, cbB, bB, one, load4(NB, o), row1(y, &sB.a, j))
		JA, JB = JA.Add(one), JB.Add(one)
	}
	tA.Store(&ysA)
	tB.Store(&ysB)
	return
}

// oneWindow reports whether the lanes' windows all start at a[0]: steps at
// the ends of the series, where the windows of several fits are clamped to
// the same first or last wl values and only their kernels differ.
func oneWindow(a *[4]int) bool { return a[1] == a[0] && a[2] == a[0] && a[3] == a[0] }

// The kernels of steps whose lanes share one window (oneWindow): row j of
// every lane is x[j], one broadcast instead of the transposes.

func sweepA13S(n int, rho, K1, W1, W3 []float64, pjb3, pcb3 *[4]float64) (A1, c3 [4]float64) {
	J3, cb3 := archsimd.LoadFloat64x4(pjb3), archsimd.LoadFloat64x4(pcb3)
	one := archsimd.BroadcastFloat64x4(1)
	var sA1, sc3 f64x4
	rho = rho[:n]
	K1, W1, W3 = K1[:4*len(rho)], W1[:4*len(rho)], W3[:4*len(rho)]
	for j, r := range rho {
		o := 4 * j
		sA1 = stage1(sA1, archsimd.BroadcastFloat64x4(r), K1, W1, o)
		sc3 = stage3(sc3, J3, cb3, W3, o)
		J3 = J3.Add(one)
	}
	sA1.Store(&A1)
	sc3.Store(&c3)
	return
}

func sweep1S(n int, rho, K1, W1 []float64) (A1 [4]float64) {
	var sA1 f64x4
	rho = rho[:n]
	K1, W1 = K1[:4*len(rho)], W1[:4*len(rho)]
	for j, r := range rho {
		sA1 = stage1(sA1, archsimd.BroadcastFloat64x4(r), K1, W1, 4*j)
	}
	sA1.Store(&A1)
	return
}

func sweepB24S(n int, y, W2 []float64, pA2, pjb2 *[4]float64, W4 []float64, pjb4, pcb4, pb4 *[4]float64) (cb2, ys4 [4]float64) {
	A2, J2 := archsimd.LoadFloat64x4(pA2), archsimd.LoadFloat64x4(pjb2)
	J4, cb4, b4 := archsimd.LoadFloat64x4(pjb4), archsimd.LoadFloat64x4(pcb4), archsimd.LoadFloat64x4(pb4)
	one := archsimd.BroadcastFloat64x4(1)
	var scb2, sys4 f64x4
	y = y[:n]
	W2, W4 = W2[:4*len(y)], W4[:4*len(y)]
	for j, v := range y {
		o := 4 * j
		scb2 = stage2(scb2, J2, A2, W2, o)
		sys4 = stage4(sys4, J4, cb4, b4, one, archsimd.BroadcastFloat64x4(v), W4, o)
		J2, J4 = J2.Add(one), J4.Add(one)
	}
	scb2.Store(&cb2)
	sys4.Store(&ys4)
	return
}

func sweep4S(n int, y, W4 []float64, pjb4, pcb4, pb4 *[4]float64) (ys4 [4]float64) {
	J4, cb4, b4 := archsimd.LoadFloat64x4(pjb4), archsimd.LoadFloat64x4(pcb4), archsimd.LoadFloat64x4(pb4)
	one := archsimd.BroadcastFloat64x4(1)
	var sys4 f64x4
	y = y[:n]
	W4 = W4[:4*len(y)]
	for j, v := range y {
		sys4 = stage4(sys4, J4, cb4, b4, one, archsimd.BroadcastFloat64x4(v), W4, 4*j)
		J4 = J4.Add(one)
	}
	sys4.Store(&ys4)
	return
}

// The kernels on the region's interleaved rows (one vector a row).

func sweepA13IL(n int, R, K1, W1, W3 []float64, pjb3, pcb3 *[4]float64) (A1, c3 [4]float64) {
	J3, cb3 := archsimd.LoadFloat64x4(pjb3), archsimd.LoadFloat64x4(pcb3)
	one := archsimd.BroadcastFloat64x4(1)
	var sA1, sc3 f64x4
	R = R[:4*n]
	K1, W1, W3 = K1[:len(R)], W1[:len(R)], W3[:len(R)]
	for o := 0; o+4 <= len(R); o += 4 {
		sA1 = stage1(sA1, load4(R, o), K1, W1, o)
		sc3 = stage3(sc3, J3, cb3, W3, o)
		J3 = J3.Add(one)
	}
	sA1.Store(&A1)
	sc3.Store(&c3)
	return
}

func sweep1IL(n int, R, K1, W1 []float64) (A1 [4]float64) {
	var sA1 f64x4
	R = R[:4*n]
	K1, W1 = K1[:len(R)], W1[:len(R)]
	for o := 0; o+4 <= len(R); o += 4 {
		sA1 = stage1(sA1, load4(R, o), K1, W1, o)
	}
	sA1.Store(&A1)
	return
}

func sweepB24IL(n int, Y, W2 []float64, pA2, pjb2 *[4]float64, W4 []float64, pjb4, pcb4, pb4 *[4]float64) (cb2, ys4 [4]float64) {
	A2, J2 := archsimd.LoadFloat64x4(pA2), archsimd.LoadFloat64x4(pjb2)
	J4, cb4, b4 := archsimd.LoadFloat64x4(pjb4), archsimd.LoadFloat64x4(pcb4), archsimd.LoadFloat64x4(pb4)
	one := archsimd.BroadcastFloat64x4(1)
	var scb2, sys4 f64x4
	Y = Y[:4*n]
	W2, W4 = W2[:len(Y)], W4[:len(Y)]
	for o := 0; o+4 <= len(Y); o += 4 {
		scb2 = stage2(scb2, J2, A2, W2, o)
		sys4 = stage4(sys4, J4, cb4, b4, one, load4(Y, o), W4, o)
		J2, J4 = J2.Add(one), J4.Add(one)
	}
	scb2.Store(&cb2)
	sys4.Store(&ys4)
	return
}

func sweep4IL(n int, Y, W4 []float64, pjb4, pcb4, pb4 *[4]float64) (ys4 [4]float64) {
	J4, cb4, b4 := archsimd.LoadFloat64x4(pjb4), archsimd.LoadFloat64x4(pcb4), archsimd.LoadFloat64x4(pb4)
	one := archsimd.BroadcastFloat64x4(1)
	var sys4 f64x4
	Y = Y[:4*n]
	W4 = W4[:len(Y)]
	for o := 0; o+4 <= len(Y); o += 4 {
		sys4 = stage4(sys4, J4, cb4, b4, one, load4(Y, o), W4, o)
		J4 = J4.Add(one)
	}
	sys4.Store(&ys4)
	return
}

// lineFits2IL is lineFits2x4 on the region's rows YA, YB.
func lineFits2IL(n int, YA []float64, sA *vecStep, NA []float64, YB []float64, sB *vecStep, NB []float64) (ysA, ysB [4]float64) {
	JA, cbA, bA := archsimd.LoadFloat64x4(&sA.jb), archsimd.LoadFloat64x4(&sA.cb), archsimd.LoadFloat64x4(&sA.beta)
	JB, cbB, bB := archsimd.LoadFloat64x4(&sB.jb), archsimd.LoadFloat64x4(&sB.cb), archsimd.LoadFloat64x4(&sB.beta)
	one := archsimd.BroadcastFloat64x4(1)
	var tA, tB f64x4
	YA = YA[:4*n]
	NA, YB, NB = NA[:len(YA)], YB[:len(YA)], NB[:len(YA)]
	for o := 0; o+4 <= len(YA); o += 4 {
		tA = lineRow(tA, JA, cbA, bA, one, load4(NA, o), load4(YA, o))
		tB = lineRow(tB, JB, cbB, bB, one, load4(NB, o), load4(YB, o))
		JA, JB = JA.Add(one), JB.Add(one)
	}
	tA.Store(&ysA)
	tB.Store(&ysB)
	return
}
