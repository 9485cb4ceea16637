//go:build goexperiment.simd && amd64

package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTranspose4 checks the loads of four rows of four lanes' windows, in
// every alignment.
func TestTranspose4(t *testing.T) {
	skipWithoutVec(t)
	x := make([]float64, 64)
	for i := range x {
		x[i] = float64(i)
	}
	a := [4]int{0, 17, 30, 41}
	for j := 0; j < 8; j++ {
		var got [4][4]float64
		r0, r1, r2, r3 := rows4(x, &a, j)
		r0.Store(&got[0])
		r1.Store(&got[1])
		r2.Store(&got[2])
		r3.Store(&got[3])
		r := row1(x, &a, j)
		var one [4]float64
		r.Store(&one)
		vzeroupper()
		for l := 0; l < 4; l++ {
			for q := 0; q < 4; q++ {
				if want := x[a[l]+j+q]; got[q][l] != want {
					t.Fatalf("j=%d: row %d lane %d = %v, want %v", j, q, l, got[q][l], want)
				}
			}
			if want := x[a[l]+j]; one[l] != want {
				t.Fatalf("j=%d: row1 lane %d = %v, want %v", j, l, one[l], want)
			}
		}
	}
}

// TestSmooth_VectorMatchesLiteral checks the vector trend smoother (with
// robustness weights, often zero, so that fits fail and fall back to the
// data) and the unweighted one against the literal SMOOTH, for spans,
// jumps and lengths that reach every branch of §9.3 and pipelines of one
// step to many.
func TestSmooth_VectorMatchesLiteral(t *testing.T) {
	skipWithoutVec(t)
	rng := rand.New(rand.NewPCG(9, 10))
	jf := make([]float64, 500)
	for i := range jf {
		jf[i] = float64(i + 1)
	}
	var regions, noRegions int
	for _, c := range []struct{ m, q, jump int }{
		{5, 5, 1}, {6, 5, 1}, {7, 3, 1}, {20, 7, 1}, {9, 11, 2}, {30, 31, 3},
		{30, 7, 2}, {31, 7, 3}, {50, 11, 20}, {60, 13, 25}, {100, 37, 4},
		{300, 37, 4}, {301, 61, 7}, {400, 101, 11}, {499, 433, 44},
	} {
		for trial := 0; trial < 4; trial++ {
			y, rho, want, wantU := smoothCase(rng, c.m, c.q, c.jump, trial == 3)
			var p smoothPlan
			p.build(c.m, c.q, c.jump, jf)

			var v vecPlan
			v.build(&p, vecLanes, true)
			for it := 0; it < v.fillChunks(); it++ {
				v.fill(it, y, rho)
			}
			if v.rows > 0 {
				regions++
			} else {
				noRegions++
			}
			var vb [2][]float64
			growPair(&vb, p.wl*vecLanes)
			var par stlPar
			par.items.Store(uint64(v.nSteps()))
			got := make([]float64, c.m)
			v.fitWeighted(&p, got, y, rho, &vb, &par, false)
			p.interpolateRange(got, 0, c.m)
			if err := equalBitsErr("weighted", got, want); err != nil {
				t.Fatalf("m=%d q=%d jump=%d trial %d: %v", c.m, c.q, c.jump, trial, err)
			}
			gotU := make([]float64, c.m)
			for it := 0; it < v.lineItems(); it++ {
				v.lineItem(&p, gotU, y, it)
			}
			p.interpolateRange(gotU, 0, c.m)
			if err := equalBitsErr("unweighted", gotU, wantU); err != nil {
				t.Fatalf("m=%d q=%d jump=%d: %v", c.m, c.q, c.jump, err)
			}
			// Without region (the low-pass fits streamed during the
			// moving averages): the same bits, each item reading only
			// the values lineNeed reports.
			var vs vecPlan
			vs.buildSteps(&p, vecLanes, false, false)
			if vs.rows != 0 {
				t.Fatalf("m=%d q=%d jump=%d: plan without region has %d rows", c.m, c.q, c.jump, vs.rows)
			}
			gotS := make([]float64, c.m)
			for it := 0; it < vs.lineItems(); it++ {
				need := vs.lineNeed(it)
				if need > c.m {
					t.Fatalf("m=%d q=%d jump=%d item %d: needs %d values", c.m, c.q, c.jump, it, need)
				}
				yn := append([]float64(nil), y[:need]...)
				for range c.m - need {
					yn = append(yn, math.NaN()) // not final yet
				}
				vs.lineItem(&p, gotS, yn, it)
			}
			p.interpolateRange(gotS, 0, c.m)
			if err := equalBitsErr("unweighted without region", gotS, wantU); err != nil {
				t.Fatalf("m=%d q=%d jump=%d: %v", c.m, c.q, c.jump, err)
			}
		}
	}
	if regions == 0 || noRegions == 0 {
		t.Errorf("plans with a region of interior fits: %d, without: %d; want both", regions, noRegions)
	}
}
