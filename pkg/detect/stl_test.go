package detect

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// sharedData is the project's shared test data, relative to this package.
const sharedData = "../../../shared/data/twitter"

// openShared opens a file of the shared test data, skipping the test if
// the shared directory is not there.
func openShared(t testing.TB, rel string) *os.File {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared test data not found at %s (%v): these tests need the project's shared directory next to the repository", sharedData, err)
	}
	f, err := os.Open(filepath.Join(sharedData, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// parseColumns reads a CSV with a header and returns the named columns as
// float64 (parsed exactly: 17 significant digits round-trip).
func parseColumns(r io.Reader, names ...string) ([][]float64, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("empty csv")
	}
	idx := make([]int, len(names))
	for k, name := range names {
		idx[k] = slices.Index(recs[0], name)
		if idx[k] < 0 {
			return nil, fmt.Errorf("no column %q in %v", name, recs[0])
		}
	}
	cols := make([][]float64, len(names))
	for ri, rec := range recs[1:] {
		for k, i := range idx {
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				return nil, fmt.Errorf("row %d column %q: %w", ri+1, names[k], err)
			}
			cols[k] = append(cols[k], v)
		}
	}
	return cols, nil
}

// ulpDiff is the number of float64 values between a and b (0 if equal).
func ulpDiff(a, b float64) uint64 {
	if a == b {
		return 0
	}
	ord := func(x float64) int64 {
		u := int64(math.Float64bits(x))
		if u < 0 {
			u = math.MinInt64 - u
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return uint64(d)
}

// maxULP returns the largest ulp difference between got and want and its
// index.
func maxULP(got, want []float64) (uint64, int) {
	var m uint64
	at := -1
	for i := range got {
		if d := ulpDiff(got[i], want[i]); d > m {
			m, at = d, i
		}
	}
	return m, at
}

func decompose(t testing.TB, s *STL, y []float64, np int) (seasonal, trend []float64) {
	t.Helper()
	seasonal = make([]float64, len(y))
	trend = make([]float64, len(y))
	if err := s.Decompose(seasonal, trend, y, np); err != nil {
		t.Fatalf("Decompose(n=%d, np=%d): %v", len(y), np, err)
	}
	return seasonal, trend
}

// TestSTL_RReference compares with R 4.2.2's stl(x, s.window = "periodic",
// robust = TRUE) on Twitter's raw_data (14 398 minutely values, period
// 1440), as written by the reference run of shesd.md §12.
func TestSTL_RReference(t *testing.T) {
	raw, err := parseColumns(openShared(t, "raw_data.csv"), "count")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := parseColumns(openShared(t, "reference/raw_data__ts_both_0.02.decomp.csv"), "value", "seasonal", "trend")
	if err != nil {
		t.Fatal(err)
	}
	y, value, wantS, wantT := raw[0], ref[0], ref[1], ref[2]
	if len(y) != 14398 || !slices.Equal(y, value) {
		t.Fatalf("raw_data.csv (%d values) and the decomposition's value column (%d) differ", len(y), len(value))
	}
	var s STL
	gotS, gotT := decompose(t, &s, y, 1440)
	us, is := maxULP(gotS, wantS)
	ut, it := maxULP(gotT, wantT)
	t.Logf("max ulp difference from R: seasonal %d, trend %d", us, ut)
	if us != 0 {
		t.Errorf("seasonal[%d] = %.17g, R has %.17g (%d ulp)", is, gotS[is], wantS[is], us)
	}
	if ut != 0 {
		t.Errorf("trend[%d] = %.17g, R has %.17g (%d ulp)", it, gotT[it], wantT[it], ut)
	}
}

// TestSTL_Hourly checks invariants on Twitter's hourly example (period 24),
// for which no R decomposition is stored, and compares with the literal
// transcription of the specification.
func TestSTL_Hourly(t *testing.T) {
	cols, err := parseColumns(openShared(t, "extdata_data.csv"), "value")
	if err != nil {
		t.Fatal(err)
	}
	y := cols[0]
	const np = 24
	var s STL
	S, T := decompose(t, &s, y, np)
	for i := range y {
		if math.IsNaN(S[i]) || math.IsInf(S[i], 0) || math.IsNaN(T[i]) || math.IsInf(T[i], 0) {
			t.Fatalf("non-finite output at %d: S=%v T=%v", i, S[i], T[i])
		}
		if i+np < len(y) && S[i] != S[i+np] {
			t.Fatalf("seasonal not periodic: S[%d] = %v, S[%d] = %v", i, S[i], i+np, S[i+np])
		}
	}
	rs, rt := refSTL(y, np)
	if u, i := maxULP(S, rs); u != 0 {
		t.Errorf("seasonal[%d] differs from the literal STL by %d ulp", i, u)
	}
	if u, i := maxULP(T, rt); u != 0 {
		t.Errorf("trend[%d] differs from the literal STL by %d ulp", i, u)
	}
}

// testSeries returns series of several kinds: smooth seasonal with noise,
// heavy-tailed (many zero robustness weights), integers with ties, a
// constant, and a step.
func testSeries(n, np int, seed uint64) []namedSeries {
	rng := rand.New(rand.NewPCG(seed, 11))
	sine := make([]float64, n)
	cauchy := make([]float64, n)
	ints := make([]float64, n)
	constant := make([]float64, n)
	step := make([]float64, n)
	for i := range sine {
		ph := 2 * math.Pi * float64(i%np) / float64(np)
		sine[i] = 10 + 3*math.Sin(ph) + rng.NormFloat64()
		cauchy[i] = 5*math.Cos(ph) + math.Tan(math.Pi*(rng.Float64()-0.5))
		ints[i] = float64(rng.IntN(5))
		constant[i] = 7.25
		if i > n/2 {
			step[i] = 100
		}
		step[i] += float64(i % np)
	}
	return []namedSeries{{"sine", sine}, {"cauchy", cauchy}, {"ints", ints}, {"constant", constant}, {"step", step}}
}

type namedSeries struct {
	name string
	y    []float64
}

// TestSTL_MatchesLiteral compares the optimised STL with the literal
// transcription of shesd.md §9 (stl_ref_test.go) bit for bit, over periods
// and lengths that exercise every branch of SMOOTH: jump 1 (sliding
// window), span ≥ length, the extra fit of the last point, the smallest
// admissible length, odd and even n (PSORT's quirk).
func TestSTL_MatchesLiteral(t *testing.T) {
	cases := []struct{ n, np int }{
		{5, 2}, {6, 2}, {7, 2}, {11, 2}, {40, 2}, {41, 2},
		{7, 3}, {10, 3}, {31, 3},
		{15, 7}, {16, 7}, {50, 7}, {99, 7},
		{25, 12}, {60, 12}, {121, 12},
		{49, 24}, {50, 24}, {73, 24}, {200, 24}, {499, 24}, {1000, 24},
		{97, 48}, {500, 48},
		{577, 288}, {1500, 288},
		{2881, 1440}, {3000, 1440},
	}
	var s STL // one STL for all: also checks that plans are rebuilt correctly
	for ci, c := range cases {
		for k, ser := range testSeries(c.n, c.np, uint64(ci)) {
			if c.n >= 1000 && k != 1 && k != 4 {
				continue // long series: cauchy and step only, to keep -race fast
			}
			y := ser.y
			t.Run(fmt.Sprintf("n=%d/np=%d/%s", c.n, c.np, ser.name), func(t *testing.T) {
				S, T := decompose(t, &s, y, c.np)
				rs, rt := refSTL(y, c.np)
				for i := range y {
					if math.Float64bits(S[i]) != math.Float64bits(rs[i]) {
						t.Fatalf("seasonal[%d] = %.17g, literal %.17g", i, S[i], rs[i])
					}
					if math.Float64bits(T[i]) != math.Float64bits(rt[i]) {
						t.Fatalf("trend[%d] = %.17g, literal %.17g", i, T[i], rt[i])
					}
				}
			})
		}
	}
}

// TestSTL_Reuse decomposes series of different lengths and periods with one
// STL and checks every result against a fresh STL.
func TestSTL_Reuse(t *testing.T) {
	var shared STL
	for i, c := range []struct{ n, np int }{
		{2881, 1440}, {3000, 1440}, // a longer series than any before
		{1000, 24}, {300, 7}, {4100, 1440}, {3000, 24}, {4000, 1440},
	} {
		// The step series has an extreme PSORT pivot (long lists).
		step := testSeries(c.n, c.np, uint64(i))[4]
		for _, ser := range []namedSeries{step, {"synth", synthSeasonal(c.n, c.np, uint64(i))}} {
			var fresh STL
			S1, T1 := decompose(t, &shared, ser.y, c.np)
			S2, T2 := decompose(t, &fresh, ser.y, c.np)
			if !slices.Equal(S1, S2) || !slices.Equal(T1, T2) {
				t.Fatalf("case %d (n=%d, np=%d, %s): reused STL differs from a fresh one", i, c.n, c.np, ser.name)
			}
		}
	}
}

func TestSTLSettings(t *testing.T) {
	// The table of shesd.md §9.1; n only affects ns.
	for _, c := range []struct{ np, nt, nl, ntjump, nljump int }{
		{2, 5, 3, 1, 1},
		{7, 11, 7, 2, 1},
		{12, 19, 13, 2, 2},
		{24, 37, 25, 4, 3},
		{288, 433, 289, 44, 29},
		{1440, 2161, 1441, 217, 145},
	} {
		t.Run(fmt.Sprintf("np=%d", c.np), func(t *testing.T) {
			n := 10*c.np + 3
			got := newSTLSettings(n, c.np)
			want := stlSettings{
				ns: 10*n + 1, nt: c.nt, nl: c.nl,
				nsjump: n + 1, ntjump: c.ntjump, nljump: c.nljump,
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	// raw_data (shesd.md §12): windows s/t/l = 143 981 / 2 161 / 1 441,
	// jumps 14 399 / 217 / 145.
	if got := newSTLSettings(14398, 1440); got != (stlSettings{143981, 2161, 1441, 14399, 217, 145}) {
		t.Errorf("raw_data settings %+v", got)
	}
}

func TestSTL_Errors(t *testing.T) {
	var s STL
	for _, c := range []struct{ n, np int }{
		{10, 1}, {10, 0}, {10, -3}, {4, 2}, {48, 24}, {2880, 1440}, {0, 2},
	} {
		y := make([]float64, c.n)
		S, T := make([]float64, c.n), make([]float64, c.n)
		if err := s.Decompose(S, T, y, c.np); !errors.Is(err, ErrNotPeriodic) {
			t.Errorf("n=%d np=%d: err = %v, want ErrNotPeriodic", c.n, c.np, err)
		}
	}
	y := make([]float64, 49)
	if err := s.Decompose(make([]float64, 48), make([]float64, 49), y, 24); err == nil {
		t.Error("short seasonal accepted")
	}
}

// TestSTL_SmallN decomposes the shortest admissible series, n = 2·np + 1.
func TestSTL_SmallN(t *testing.T) {
	var s STL
	for _, np := range []int{2, 3, 7, 24, 1440} {
		y := synthSeasonal(2*np+1, np, 5)
		S, T := decompose(t, &s, y, np)
		rs, rt := refSTL(y, np)
		if !slices.Equal(S, rs) || !slices.Equal(T, rt) {
			t.Errorf("np=%d: differs from the literal STL", np)
		}
	}
}

func TestSTL_NonFinite(t *testing.T) {
	var s STL
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		y := synthSeasonal(100, 7, 1)
		y[37] = bad
		S, T := make([]float64, 100), make([]float64, 100)
		if err := s.Decompose(S, T, y, 7); err != nil {
			t.Fatal(err)
		}
		for i := range S {
			if !math.IsNaN(S[i]) || !math.IsNaN(T[i]) {
				t.Fatalf("y has %v: S[%d] = %v, T[%d] = %v, want NaN", bad, i, S[i], i, T[i])
			}
		}
	}
	// Finite values so large that the fit overflows.
	y := synthSeasonal(100, 7, 1)
	for i := range y {
		y[i] *= 1e306
		if i%2 == 0 {
			y[i] = -y[i]
		}
	}
	S, T := make([]float64, 100), make([]float64, 100)
	if err := s.Decompose(S, T, y, 7); err != nil {
		t.Fatal(err)
	}
	// The STL is still good for finite data afterwards.
	y = synthSeasonal(100, 7, 1)
	S, T = decompose(t, &s, y, 7)
	rs, rt := refSTL(y, 7)
	if !slices.Equal(S, rs) || !slices.Equal(T, rt) {
		t.Error("after non-finite input: result differs from the literal STL")
	}
}

func TestSTL_Allocs(t *testing.T) {
	const np = 1440
	y := synthSeasonal(10080, np, 2)
	S, T := make([]float64, len(y)), make([]float64, len(y))
	var s STL
	if err := s.Decompose(S, T, y, np); err != nil {
		t.Fatal(err)
	}
	// AllocsPerRun counts the allocations of every goroutine: let the
	// helper started by the warm-up park first (its first timer may grow
	// the runtime's timer heap once).
	time.Sleep(10 * time.Millisecond)
	for _, n := range []int{10080, 9000, 2881, 9991, 10079} {
		allocs := testing.AllocsPerRun(1, func() {
			if err := s.Decompose(S[:n], T[:n], y[:n], np); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("n=%d after warm-up with 10080: %v allocations per call", n, allocs)
		}
	}
}

func ExampleSTL_Decompose() {
	// Four weeks of a daily cycle (period 7) with one outlier.
	y := []float64{
		10, 12, 11, 13, 20, 22, 9,
		11, 12, 10, 14, 21, 23, 8,
		10, 13, 11, 13, 60, 22, 9,
		11, 12, 11, 14, 20, 21, 10,
	}
	seasonal := make([]float64, len(y))
	trend := make([]float64, len(y))
	var s STL
	if err := s.Decompose(seasonal, trend, y, 7); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("seasonal: %.3f\n", seasonal[:7])
	fmt.Printf("trend[0], trend[27]: %.3f %.3f\n", trend[0], trend[27])
	// Output:
	// seasonal: [-3.489 -1.810 -3.222 -0.587 6.184 7.968 -5.044]
	// trend[0], trend[27]: 13.667 14.271
}

// TestSmooth_MatchesLiteral checks the trend smoother (fitWeighted and
// interpolateRange) and the unweighted one (dotFits) against the literal
// SMOOTH of the specification, for spans, jumps and lengths that reach
// every branch of §9.3 and pipelines of one to many fits, with robustness
// weights that are often zero, so that some fits fail (A = 0) and fall
// back to the data.
func TestSmooth_MatchesLiteral(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	jf := make([]float64, 400)
	for i := range jf {
		jf[i] = float64(i + 1)
	}
	for _, c := range []struct{ m, q, jump int }{
		{5, 5, 1}, {6, 5, 1}, {20, 7, 1}, {9, 11, 2}, {30, 31, 3},
		{30, 7, 2}, {31, 7, 3}, {50, 11, 20}, {60, 13, 25}, {100, 37, 4},
		{300, 37, 4}, {301, 61, 7}, {400, 101, 11},
	} {
		for trial := 0; trial < 4; trial++ {
			y, rho, want, wantU := smoothCase(rng, c.m, c.q, c.jump, trial == 3)
			var p smoothPlan
			p.build(c.m, c.q, c.jump, jf)

			var w [4][]float64
			for i := range w {
				w[i] = make([]float64, p.wl)
			}
			var par stlPar
			par.items.Store(uint64(len(p.fits)))
			got := make([]float64, c.m)
			p.fitWeighted(got, y, rho, jf, &w, &par, false)
			p.interpolateRange(got, 0, c.m)
			gotU := make([]float64, c.m)
			p.dotFits(gotU, y, jf, 0, len(p.fits))
			p.interpolateRange(gotU, 0, c.m)
			gotL := make([]float64, c.m)
			p.lineFits(gotL, y, jf, 0, len(p.fits))
			p.interpolateRange(gotL, 0, c.m)
			if !slices.Equal(gotL, gotU) {
				t.Fatalf("m=%d q=%d jump=%d: lineFits differs from dotFits", c.m, c.q, c.jump)
			}
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("m=%d q=%d jump=%d trial %d: weighted ys[%d] = %v, literal %v", c.m, c.q, c.jump, trial, i, got[i], want[i])
				}
				if math.Float64bits(gotU[i]) != math.Float64bits(wantU[i]) {
					t.Fatalf("m=%d q=%d jump=%d: unweighted ys[%d] = %v, literal %v", c.m, c.q, c.jump, i, gotU[i], wantU[i])
				}
			}
		}
	}
}

// TestSTL_Helper runs decompositions in which the helper goroutine takes
// every work item, and in which caller and helper share them, and checks
// that the bits are those of a decomposition without helper.
func TestSTL_Helper(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS ≥ 2")
	}
	for _, c := range []struct{ n, np int }{{500, 24}, {3001, 1440}, {5000, 1440}, {14398, 1440}} {
		y := synthSeasonal(c.n, c.np, 3)
		var alone STL
		alone.par.skip = 1 << 30 // never use the helper
		wantS, wantT := decompose(t, &alone, y, c.np)
		for _, idle := range []bool{true, false} {
			var s STL
			s.par.forceHelper, s.par.callerIdle = true, idle
			S, T := decompose(t, &s, y, c.np)
			if !slices.Equal(S, wantS) || !slices.Equal(T, wantT) {
				t.Errorf("n=%d np=%d callerIdle=%v: differs from the decomposition without helper", c.n, c.np, idle)
			}
		}
	}
}

// TestPeriodicMean_CorrectlyRounded compares the phase means with the exact
// mean rounded once (big.Float), on values with cancellation and on many
// values per phase.
func TestPeriodicMean_CorrectlyRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		np := 1 + rng.IntN(30)
		n := np*(1+rng.IntN(40)) + rng.IntN(np)
		S := make([]float64, n)
		for i := range S {
			switch rng.IntN(3) {
			case 0:
				S[i] = rng.NormFloat64() * 1e3
			case 1:
				S[i] = math.Ldexp(rng.Float64(), rng.IntN(80)-40)
			default:
				S[i] = -math.Ldexp(1+rng.Float64(), 50) * float64(1-2*(i%2))
			}
		}
		want := make([]float64, n)
		for c := 0; c < np && c < n; c++ {
			sum := newRefExactSum()
			cnt := 0
			for i := c; i < n; i += np {
				sum.add(S[i])
				cnt++
			}
			m := sum.mean(cnt)
			for i := c; i < n; i += np {
				want[i] = m
			}
		}
		periodicMean(S, np, make([]float64, np), make([]float64, np))
		if u, i := maxULP(S, want); u != 0 {
			t.Fatalf("trial %d (n=%d, np=%d): mean of phase %d off by %d ulp", trial, n, np, i%np, u)
		}
	}
}

// smoothCase returns a random series of m values with robustness weights
// that are often 0 or 1 (with zeroRun, the first half all 0: long runs of
// failing fits), and what the literal SMOOTH (degree 1, span q, jump)
// gives for it with and without the weights.
func smoothCase(rng *rand.Rand, m, q, jump int, zeroRun bool) (y, rho, want, wantU []float64) {
	y = make([]float64, m)
	rho = make([]float64, m)
	for i := range y {
		y[i] = rng.NormFloat64() * 10
		switch rng.IntN(4) {
		case 0:
			rho[i] = 0
		case 1:
			rho[i] = 1
		default:
			rho[i] = rng.Float64()
		}
	}
	if zeroRun {
		clear(rho[:m/2])
	}
	y1 := append([]float64{0}, y...)
	r1 := append([]float64{0}, rho...)
	return y, rho, refSmooth(y1, m, q, 1, jump, r1)[1:], refSmooth(y1, m, q, 1, jump, nil)[1:]
}
