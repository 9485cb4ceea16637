//go:build !(goexperiment.simd && amd64)

package detect

import "sync/atomic"

// Without GOEXPERIMENT=simd (or off amd64) there are no vector kernels:
// the scalar code computes everything (stl_vec.go describes the vector
// path, which gives the same bits). These stand-ins are never called with
// effect: vecLanes = 0 leaves every vecPlan off.

const vecLanes = 0

func vzeroupper() {}

type vecPlan struct{}

func (v *vecPlan) build(p *smoothPlan, lanes int, weighted bool) {}
func (v *vecPlan) buildSteps(p *smoothPlan, lanes int, weighted, region bool) {
}
func (v *vecPlan) lineNeed(it int) int           { return 0 }
func (v *vecPlan) on() bool                      { return false }
func (v *vecPlan) nSteps() int                   { return 0 }
func (v *vecPlan) lineItems() int                { return 0 }
func (v *vecPlan) fillChunks() int               { return 0 }
func (v *vecPlan) fill(it int, y, rho []float64) {}
func (v *vecPlan) lineItem(p *smoothPlan, ys, y []float64, it int) {
}
func (v *vecPlan) fitWeighted(p *smoothPlan, ys, y, rho []float64, vb *[2][]float64, par *stlPar, helper bool) {
}

func weights4(rho, d, y, T, S []float64, cm, c1, c9 float64) int { return 0 }
func residual4(e, y, T, S []float64) (int, bool)                 { return 0, false }
func seasonal4(S, d, y, c, l []float64) int                      { return 0 }
func line4(dst []float64, y0, delta float64, k0 int) int         { return 0 }
func estTot4(t, r []float64, K float64) int                      { return 0 }
func estOut4(o, r, t, u []float64, K float64) int                { return 0 }
func axpy4(dst, x, delta []float64, f float64) int               { return 0 }
func maSteady2(fk, s1, s2, s3 float64, cO, cN, aO, bO, aW, bW, lW []float64, progress *atomic.Int64) (int, float64, float64, float64) {
	return 0, s1, s2, s3
}
func list4(a []float64, x, x1 int, t float64, big, small []int32, nb, ns int) (int, int, int) {
	return x, nb, ns
}
