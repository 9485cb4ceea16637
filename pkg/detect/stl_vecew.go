//go:build goexperiment.simd && amd64

package detect

import (
	"math/bits"
	"simd/archsimd"
	"sync/atomic"
)

// Element-wise steps of STL with four values a vector. Each processes the
// longest prefix whose length is a multiple of four, with the scalar
// operations of its caller per element, and returns that length; the
// caller does the rest.

// absMask clears the sign bit, as math.Abs does.
const absMask = 1<<63 - 1

func abs4(x f64x4) f64x4 {
	return x.AsUint64x4().And(archsimd.BroadcastUint64x4(absMask)).AsFloat64x4()
}

// weights4 is weightsChunk: ρ from e = |y − (T + S)| and cm, and d = y − T.
func weights4(rho, d, y, T, S []float64, cm, c1, c9 float64) int {
	n := len(y) &^ 3
	y = y[:n]
	rho, d, T, S = rho[:len(y)], d[:len(y)], T[:len(y)], S[:len(y)]
	cmv, c1v, c9v := archsimd.BroadcastFloat64x4(cm), archsimd.BroadcastFloat64x4(c1), archsimd.BroadcastFloat64x4(c9)
	one := archsimd.BroadcastFloat64x4(1)
	for i := 0; i+4 <= len(y); i += 4 {
		v, t := load4(y, i), load4(T, i)
		r := abs4(v.Sub(t.Add(load4(S, i))))
		u := r.Div(cmv)
		u = one.Sub(u.Mul(u))
		w := u.Mul(u).Masked(r.LessEqual(c9v))
		store4(one.Merge(w, r.LessEqual(c1v)), rho, i)
		store4(v.Sub(t), d, i)
	}
	vzeroupper()
	return n
}

// residual4 is residualChunk: e = |y − (T + S)|; nan reports a NaN.
func residual4(e, y, T, S []float64) (n int, nan bool) {
	n = len(y) &^ 3
	y = y[:n]
	e, T, S = e[:len(y)], T[:len(y)], S[:len(y)]
	var bad archsimd.Mask64x4
	for i := 0; i+4 <= len(y); i += 4 {
		r := abs4(load4(y, i).Sub(load4(T, i).Add(load4(S, i))))
		store4(r, e, i)
		bad = bad.Or(r.IsNaN())
	}
	nan = bad.ToBits() != 0
	vzeroupper()
	return n, nan
}

// seasonal4 is the low-pass step S = c − l, d = y − S.
func seasonal4(S, d, y, c, l []float64) int {
	n := len(S) &^ 3
	S = S[:n]
	d, y, c, l = d[:len(S)], y[:len(S)], c[:len(S)], l[:len(S)]
	for i := 0; i+4 <= len(S); i += 4 {
		v := load4(c, i).Sub(load4(l, i))
		store4(v, S, i)
		store4(load4(y, i).Sub(v), d, i)
	}
	vzeroupper()
	return n
}

// line4 is the linear interpolation of SMOOTH: dst[q] = y0 + δ·(k0 + q).
func line4(dst []float64, y0, delta float64, k0 int) int {
	n := len(dst) &^ 3
	dst = dst[:n]
	y0v, dv := archsimd.BroadcastFloat64x4(y0), archsimd.BroadcastFloat64x4(delta)
	k := archsimd.LoadFloat64x4(&[4]float64{0, 1, 2, 3}).Add(archsimd.BroadcastFloat64x4(float64(k0)))
	four := archsimd.BroadcastFloat64x4(4)
	for i := 0; i+4 <= len(dst); i += 4 {
		store4(y0v.Add(dv.Mul(k)), dst, i)
		k = k.Add(four)
	}
	vzeroupper()
	return n
}

// estTot4 adds r·K to t (the weight totals of estRows).
func estTot4(t, r []float64, K float64) int {
	n := len(t) &^ 3
	t = t[:n]
	r = r[:len(t)]
	Kv := archsimd.BroadcastFloat64x4(K)
	for i := 0; i+4 <= len(t); i += 4 {
		store4(load4(t, i).Add(load4(r, i).Mul(Kv)), t, i)
	}
	vzeroupper()
	return n
}

// estOut4 adds ((r·K)/t)·u to o (the fitted values of estRows).
func estOut4(o, r, t, u []float64, K float64) int {
	n := len(o) &^ 3
	o = o[:n]
	r, t, u = r[:len(o)], t[:len(o)], u[:len(o)]
	Kv := archsimd.BroadcastFloat64x4(K)
	for i := 0; i+4 <= len(o); i += 4 {
		store4(load4(o, i).Add(load4(r, i).Mul(Kv).Div(load4(t, i)).Mul(load4(u, i))), o, i)
	}
	vzeroupper()
	return n
}

// axpy4 is dst = x + δ·f element-wise (the interpolated rows of the
// cycle-subseries).
func axpy4(dst, x, delta []float64, f float64) int {
	n := len(dst) &^ 3
	dst = dst[:n]
	x, delta = x[:len(dst)], delta[:len(dst)]
	fv := archsimd.BroadcastFloat64x4(f)
	for i := 0; i+4 <= len(dst); i += 4 {
		store4(load4(x, i).Add(load4(delta, i).Mul(fv)), dst, i)
	}
	vzeroupper()
	return n
}

// fillRegion sets dst[4p + l] = src[base[l] + p] for r0 ≤ p < r1, and pad
// where base[l] + p is past the end of src: the rows of a vecPlan's region,
// four rows at a time where it can.
func fillRegion(dst, src []float64, base *[4]int, r0, r1 int, pad float64) {
	lim := r1
	for _, b := range base {
		lim = min(lim, len(src)-b)
	}
	p := r0
	for ; p+4 <= lim; p += 4 {
		c0, c1, c2, c3 := rows4(src, base, p)
		store4(c0, dst, 4*p)
		store4(c1, dst, 4*p+4)
		store4(c2, dst, 4*p+8)
		store4(c3, dst, 4*p+12)
	}
	vzeroupper()
	for ; p < r1; p++ {
		for l, b := range base {
			v := pad
			if b+p < len(src) {
				v = src[b+p]
			}
			dst[4*p+l] = v
		}
	}
}

// lanesOf8[m] lists the set bits of the 8-bit mask m in increasing order,
// padded with zeros: the offsets list4 stores for a block of eight values,
// and (the first four entries, m < 16) for a block of four.
var lanesOf8 = func() (t [256][8]int32) {
	for m := range t {
		k := 0
		for l := int32(0); l < 8; l++ {
			if m>>l&1 != 0 {
				t[m][k] = l
				k++
			}
		}
	}
	return t
}()

// list4 is the listing loop of partitionLists and compactChunk four
// values at a time: for x ≤ p < x1 it appends p to big (at nb) if
// a[p] ≥ t and to small (at ns) if a[p] ≤ t, in increasing order. Each
// block of four stores four positions at once and advances by the number
// of values it lists, without the scalar loop's serial dependence of
// each store on the previous comparisons. It stops before a block could
// pass x1 or the end of big or small (the block stores four entries
// whatever it lists), and returns the first position not listed and the
// new nb, ns; the caller's scalar loop does the rest.
func list4(a []float64, x, x1 int, t float64, big, small []int32, nb, ns int) (int, int, int) {
	// Each position adds at most one entry to each list, so the lists
	// have room for eight (four) more while x stays below end8 (end).
	end := min(x1, x+len(big)-nb, x+len(small)-ns) - 4
	a = a[:max(end+4, x)]
	tv := archsimd.BroadcastFloat64x4(t)
	// Blocks of eight: one table load, add and store per list for two
	// vectors of values, which halves the loop's work per value.
	for end8 := end - 4; x <= end8; x += 8 {
		v0, v1 := load4(a, x), load4(a, x+4)
		mb := v0.GreaterEqual(tv).ToBits()&15 | (v1.GreaterEqual(tv).ToBits()&15)<<4
		ms := v0.LessEqual(tv).ToBits()&15 | (v1.LessEqual(tv).ToBits()&15)<<4
		xv := archsimd.BroadcastInt32x8(int32(x))
		archsimd.LoadInt32x8(&lanesOf8[mb]).Add(xv).Store((*[8]int32)(big[nb : nb+8]))
		archsimd.LoadInt32x8(&lanesOf8[ms]).Add(xv).Store((*[8]int32)(small[ns : ns+8]))
		nb += bits.OnesCount8(mb)
		ns += bits.OnesCount8(ms)
	}
	for ; x <= end; x += 4 {
		v := load4(a, x)
		mb := v.GreaterEqual(tv).ToBits() & 15
		ms := v.LessEqual(tv).ToBits() & 15
		xv := archsimd.BroadcastInt32x4(int32(x))
		archsimd.LoadInt32x4((*[4]int32)(lanesOf8[mb][:4])).Add(xv).Store((*[4]int32)(big[nb : nb+4]))
		archsimd.LoadInt32x4((*[4]int32)(lanesOf8[ms][:4])).Add(xv).Store((*[4]int32)(small[ns : ns+4]))
		nb += bits.OnesCount8(mb)
		ns += bits.OnesCount8(ms)
	}
	vzeroupper()
	return x, nb, ns
}

// maSteady2 runs the steady state of movingAverages (see there) over whole
// blocks of four values, with the divisions taken out of the loop's serial
// part: three scalar divisions a value (by np, np and 3) kept the divider
// busier than the three chains of additions. The running sums of a block
// are gathered into 128-bit vectors and divided two at a time while the
// next block's sums run; each chain works a block behind the one it reads,
// so that it reads quotients already divided, and the three chains run
// side by side. The sums and the quotients are the scalar code's, in its
// order. Only 128-bit vectors are used, which leave the scalar code around
// them free of the penalty of dirty upper register halves. It returns the
// number of values it completed and the three sums after them.
func maSteady2(fk, s1, s2, s3 float64, cO, cN, aO, bO, aW, bW, lW []float64, progress *atomic.Int64) (int, float64, float64, float64) {
	nb := len(cO) / 4
	if nb < 3 {
		return 0, s1, s2, s3
	}
	m := 4 * nb
	cO, cN, aO, bO, aW, bW, lW = cO[:m], cN[:m], aO[:m], bO[:m], aW[:m], bW[:m], lW[:m]
	vzeroupper()
	vk := archsimd.BroadcastFloat64x2(fk)
	v3 := archsimd.BroadcastFloat64x2(3)
	next := maProgressStep
	for i := 0; i < m; i += 4 {
		// a: the block at i.
		var a0, a1, a2 float64
		a0, a1, a2, s1 = slide4(s1, cO, cN, i)
		// b: the block before, whose a values are divided.
		j := i - 4
		var b0, b1, b2 float64
		if j >= 0 {
			b0, b1, b2, s2 = slide4(s2, aO, aW, j)
		}
		// l0: two blocks before.
		k := i - 8
		var l0, l1, l2 float64
		if k >= 0 {
			l0, l1, l2, s3 = slide4(s3, bO, bW, k)
		}
		quot4(aW, i, a0, a1, a2, s1, vk)
		if j >= 0 {
			quot4(bW, j, b0, b1, b2, s2, vk)
		}
		if k >= 0 {
			quot4(lW, k, l0, l1, l2, s3, v3)
			if progress != nil && k+4 >= next {
				progress.Store(int64(1 + k + 4)) // l0[0..k+4] are final
				next += maProgressStep
			}
		}
	}
	// Drain: b of the last block, l0 of the last two.
	for q := m - 4; q < m; q++ {
		s2 = s2 - aO[q] + aW[q]
		bW[q] = s2 / fk
	}
	for q := m - 8; q < m; q++ {
		s3 = s3 - bO[q] + bW[q]
		lW[q] = s3 / 3
	}
	return m, s1, s2, s3
}

// slide4 moves the running sum s four values on, s − out[i] + in[i] and so
// on, in R's order; it returns the four sums.
func slide4(s float64, out, in []float64, i int) (s0, s1, s2, s3 float64) {
	s0 = s - out[i] + in[i]
	s1 = s0 - out[i+1] + in[i+1]
	s2 = s1 - out[i+2] + in[i+2]
	s3 = s2 - out[i+3] + in[i+3]
	return
}

// quot4 stores x0/d … x3/d at x[i..i+3], two quotients an instruction.
func quot4(x []float64, i int, x0, x1, x2, x3 float64, d archsimd.Float64x2) {
	p := (*[4]float64)(x[i : i+4])
	var z archsimd.Float64x2
	z.SetElem(0, x0).SetElem(1, x1).Div(d).Store((*[2]float64)(p[:2]))
	z.SetElem(0, x2).SetElem(1, x3).Div(d).Store((*[2]float64)(p[2:]))
}
