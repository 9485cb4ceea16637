package detect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// These tests compare the vector kernels (GOEXPERIMENT=simd builds on CPUs
// with AVX2, stl_vec.go) with the scalar code bit for bit. In other builds
// there are no vector kernels and they are skipped.

func skipWithoutVec(t *testing.T) {
	t.Helper()
	if vecLanes == 0 {
		t.Skip("no vector kernels in this build (GOEXPERIMENT=simd on amd64 with AVX2)")
	}
}

// equalBitsErr returns an error naming the first index where got and want
// differ in their bits.
func equalBitsErr(what string, got, want []float64) error {
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			return fmt.Errorf("%s[%d] = %.17g, scalar %.17g", what, i, got[i], want[i])
		}
	}
	return nil
}

// TestSTL_VectorMatchesScalar decomposes random series with the vector
// kernels and with the scalar code: random periods and lengths (from the
// shortest admissible, n = 2·period + 1, odd and even), series with ties,
// heavy tails and constants, so that the number of fits of each smoother
// takes every remainder modulo the lane count, fits fail (all robustness
// weights zero), and PSORT takes both of its paths.
func TestSTL_VectorMatchesScalar(t *testing.T) {
	skipWithoutVec(t)
	rng := rand.New(rand.NewPCG(17, 4))
	periods := []int{2, 3, 4, 5, 7, 12, 24, 48, 144, 288, 1440}
	var vec STL                // reused: plans are rebuilt for each configuration
	scalar := STL{noVec: true} // the reference
	lanes := vecLanes
	remT, remL := make([]int, lanes), make([]int, lanes)
	cases := 60
	if testing.Short() {
		cases = 20
	}
	for c := 0; c < cases; c++ {
		np := periods[c%len(periods)]
		if c >= len(periods) {
			np = 2 + rng.IntN(60)
		}
		n := 2*np + 1 + c%2
		switch c % 4 {
		case 2:
			n += rng.IntN(3 * np)
		case 3:
			n += rng.IntN(12 * np)
		}
		if np == 1440 {
			n = min(n, 3*np+rng.IntN(np)) // keep -race fast
		}
		for k, ser := range testSeries(n, np, uint64(c)) {
			if n > 2000 && k != 1 && k != 2 {
				continue // long series: heavy tails and ties only
			}
			S, T := decompose(t, &vec, ser.y, np)
			wantS, wantT := decompose(t, &scalar, ser.y, np)
			if err := equalBitsErr("seasonal", S, wantS); err != nil {
				t.Fatalf("n=%d np=%d %s: %v", n, np, ser.name, err)
			}
			if err := equalBitsErr("trend", T, wantT); err != nil {
				t.Fatalf("n=%d np=%d %s: %v", n, np, ser.name, err)
			}
		}
		if !vec.vt.on() || !vec.vl.on() {
			t.Fatalf("n=%d np=%d: vector path off", n, np)
		}
		remT[len(vec.trend.fits)%lanes]++
		remL[len(vec.low.fits)%lanes]++
	}
	for r := 0; r < lanes; r++ {
		if remT[r] == 0 || remL[r] == 0 {
			t.Errorf("no case with a number of fits ≡ %d mod %d (trend %v, low-pass %v)", r, lanes, remT, remL)
		}
	}
}

// TestSTL_VectorHelper runs the vector kernels with the helper goroutine
// taking every work item, and sharing them with the caller.
func TestSTL_VectorHelper(t *testing.T) {
	skipWithoutVec(t)
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS ≥ 2")
	}
	for _, c := range []struct{ n, np int }{{500, 24}, {3001, 1440}, {10080, 1440}, {20000, 1440}} {
		y := synthSeasonal(c.n, c.np, 7)
		scalar := STL{noVec: true}
		scalar.par.skip = 1 << 30
		wantS, wantT := decompose(t, &scalar, y, c.np)
		for _, idle := range []bool{true, false} {
			var s STL
			s.par.forceHelper, s.par.callerIdle = true, idle
			S, T := decompose(t, &s, y, c.np)
			if err := equalBitsErr("seasonal", S, wantS); err != nil {
				t.Errorf("n=%d np=%d callerIdle=%v: %v", c.n, c.np, idle, err)
			}
			if err := equalBitsErr("trend", T, wantT); err != nil {
				t.Errorf("n=%d np=%d callerIdle=%v: %v", c.n, c.np, idle, err)
			}
		}
	}
}
