package detect

import (
	"errors"
	"math"
)

// errSTLLength reports output slices whose length differs from the input's:
// a programming error of the caller, not a property of the data.
var errSTLLength = errors.New("stl: seasonal and trend must have the length of y")

// STL holds scratch buffers for repeated decompositions; the zero value is
// ready; not safe for concurrent use.
//
// An STL also keeps, for the last series length and period, the parts of
// the computation that depend on positions only (kernel weights, the final
// weights of the fits without robustness weights), so repeated calls with
// the same length and period do less work. It holds about 100 bytes per
// value of the longest series it has served (125 with the vector
// kernels), plus kernels and stored weights that depend on the period (at
// most about 3 MB; the vector kernels add their interleaved copies, about
// 1 MB for a period of 1,440 and 7 MB for 10,080). An STL must not be
// copied after first use.
type STL struct {
	n, np int // configuration the plans below were built for; 0 = none
	cfg   stlSettings

	low, trend smoothPlan // §9.5 low-pass SMOOTH and §9.6 trend SMOOTH
	cyc        cyclePlan  // §9.4 cycle-subseries smoothing

	// Per-pass buffers, all 0-based.
	rho  []float64 // robustness weights (all 1 in the first pass)
	d    []float64 // y − T, then y − S
	c    []float64 // cycle-subseries output, n + 2·np values
	ma   []float64 // first moving average, n + np + 1 values
	mb   []float64 // second moving average, n + 2 values
	l0   []float64 // third moving average, n values
	l    []float64 // low-pass output, n values
	e    []float64 // |y − (T + S)|, partially sorted by psort
	jf   []float64 // jf[i] = float64(i + 1), the abscissae of EST
	cycv []float64 // per-phase fitted values of the 4 fits, 4·np
	cyca []float64 // their weight totals, 4·np
	cycd []float64 // per-phase interpolation slopes, np

	wbuf [4][]float64 // weights of the fits in flight in fitWeighted
	// The fits of the trend (with and without robustness weights) and of
	// the low-pass filter grouped for the vector kernels (stl_vec.go).
	vt, vl vecPlan
	// The low-pass fits again, without region, for the helper to start on
	// while the moving averages run (stl_pass.go).
	vls   vecPlan
	vbuf  [2][]float64 // weights of the steps in flight in vecPlan.fitWeighted
	noVec bool         // for tests: run the scalar code even where the vector kernels could
	vec   bool         // the vector kernels run (GOEXPERIMENT=simd, AVX2, not noVec)
	par   stlPar       // the optional helper goroutine
	psb   psortBuf
	first firstSplit

	// The series of the running call.
	y, S, T []float64
	// then runs when the seasonal is final (decompose), seasonalDone
	// records that it is.
	then         func()
	seasonalDone bool
}

// stlSettings are the parameters of §9.1 for a series of n values with
// period np.
type stlSettings struct {
	ns, nt, nl             int // spans (seasonal, trend, low-pass)
	nsjump, ntjump, nljump int
}

// newSTLSettings computes §9.1: ns = 10n + 1, nt = nextodd(⌈1.5·np /
// (1 − 1.5/ns)⌉), nl = nextodd(np), jumps ⌈span/10⌉, then the Fortran
// driver's clamping (spans at least 3 and odd).
func newSTLSettings(n, np int) stlSettings {
	ns := 10*n + 1
	nt := nextOdd(math.Ceil(1.5 * float64(np) / (1 - 1.5/float64(ns))))
	nl := nextOdd(float64(np))
	s := stlSettings{
		ns:     oddAtLeast3(ns),
		nt:     oddAtLeast3(nt),
		nl:     oddAtLeast3(nl),
		nsjump: ceilDiv10(ns),
		ntjump: ceilDiv10(nt),
		nljump: ceilDiv10(nl),
	}
	return s
}

// nextOdd is R's nextodd: round half to even, then add 1 if even.
func nextOdd(v float64) int {
	r := int(math.RoundToEven(v))
	if r%2 == 0 {
		r++
	}
	return r
}

func oddAtLeast3(v int) int {
	v = max(v, 3)
	if v%2 == 0 {
		v++
	}
	return v
}

// ceilDiv10 is R's ceiling(v/10) for positive v.
func ceilDiv10(v int) int { return (v + 9) / 10 }

// Decompose writes R's seasonal and trend components of y (period =
// observations per cycle) into seasonal and trend, which must have len(y).
// It returns ErrNotPeriodic if period < 2 or len(y) <= 2*period. y must not
// contain NaN/Inf (the caller guarantees it).
//
// The result is, bit for bit, what R computes with
//
//	stl(ts(y, frequency = period), s.window = "periodic", robust = TRUE)
//
// that is the STL procedure of Cleveland, Cleveland, McRae and Terpenning
// (1990) as netlib's Fortran implements it, in the configuration of
// shesd.md §9:
//
//   - spans ns = 10n + 1 (seasonal, degree 0), nt = nextodd(⌈1.5·period /
//     (1 − 1.5/ns)⌉) (trend, degree 1), nl = nextodd(period) (low-pass,
//     degree 1), and jumps ⌈span/10⌉: each LOESS smoother fits tricube-
//     weighted local lines at every jump-th point and interpolates linearly
//     in between;
//   - one pass: D = y − T; the cycle-subseries of D (one per phase) are
//     smoothed and extended by one cycle at each end (C); C is low-pass
//     filtered by moving averages of lengths period, period, 3 and a LOESS
//     (L); S = C − L; T = LOESS(y − S);
//   - 16 passes: the first without weights, then 15 with robustness weights
//     ρ = B(|y − T − S| / (6·m)), B(u) = (1 − u²)², where m is the
//     "median" that the Fortran partial sort leaves in the middle (for even
//     n not always the true median; shesd.md §9.7–§9.8);
//   - finally every seasonal value is replaced by the mean over its phase
//     ((i mod period)), correctly rounded as R's long-double mean; the trend
//     is not recomputed.
//
// Every floating-point operation of the Fortran code is performed in the
// same order (no FMA), so the results are identical to R's, not merely
// close. Builds with GOEXPERIMENT=simd (as `make build` does) compute four
// fits or four values at a time with AVX2 where the CPU has it, each with
// the same operations in the same order: the same bits (stl_vec.go).
//
// seasonal and trend must not overlap y or each other; if their lengths
// differ from len(y), Decompose returns a non-nil error other than
// ErrNotPeriodic. On error they are left unchanged. If y contains NaN or
// ±Inf anyway, or values so large that the fit overflows, Decompose returns
// nil with seasonal and trend set to NaN everywhere; it never panics or
// loops forever on such input.
//
// Decompose does not allocate once the STL has served a series at least as
// long with the same period. When GOMAXPROCS > 1 and the series is long
// enough, one helper goroutine shares the work; the results do not depend
// on it (every sum keeps its order). Between calls the helper waits a
// little and then parks; it exits a second after the last call, until when
// it keeps the STL reachable. If the helper's thread is held up (a busy
// machine), the call and the next few run without it.
func (s *STL) Decompose(seasonal, trend, y []float64, period int) error {
	return s.decompose(seasonal, trend, y, period, nil)
}

// decompose is Decompose; then, if not nil, runs once on the calling
// goroutine as soon as seasonal holds its final values (it must not read
// trend), before decompose returns nil. Meanwhile the helper, if it serves
// the call, computes the last pass's trend fits, which the detection does
// not need until it sets expected values.
func (s *STL) decompose(seasonal, trend, y []float64, period int, then func()) error {
	n := len(y)
	if period < 2 || period >= (n+1)/2 { // n ≤ 2·period, without overflow
		return ErrNotPeriodic
	}
	if len(seasonal) != n || len(trend) != n {
		return errSTLLength
	}
	for _, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nanResult(seasonal, trend, then)
		}
	}
	s.prepare(n, period)
	s.parStart(n * (s.cfg.nt + s.cfg.nl) / 8)
	defer s.parEnd()
	s.S, s.T, s.y, s.then = seasonal, trend, y, then
	s.seasonalDone = false
	defer func() { s.S, s.T, s.y, s.then = nil, nil, nil, nil }()
	if !s.passes() {
		return nanResult(seasonal, trend, then)
	}
	if !s.seasonalDone { // not finished during the last pass
		s.finishSeasonal()
	}
	return nil
}

// nanResult is decompose's answer where the fit cannot be computed: NaN
// everywhere, then then.
func nanResult(seasonal, trend []float64, then func()) error {
	fillNaN(seasonal)
	fillNaN(trend)
	if then != nil {
		then()
	}
	return nil
}

// finishSeasonal replaces the seasonal by its phase means (the last step
// of §9.6) and runs the caller's then, if any.
func (s *STL) finishSeasonal() {
	vzeroupper()
	periodicMean(s.S, s.np, s.cycv, s.cyca)
	s.seasonalDone = true
	if s.then != nil {
		s.then()
	}
}

// prepare sizes the buffers and builds the plans for n values with period
// np, reusing what the previous call left when the configuration is the
// same.
func (s *STL) prepare(n, np int) {
	if s.n == n && s.np == np {
		return
	}
	s.n, s.np = n, np
	s.cfg = newSTLSettings(n, np)
	s.rho = grow(s.rho, n)
	s.d = grow(s.d, n)
	s.c = grow(s.c, n+2*np)
	s.ma = grow(s.ma, n+np+1)
	s.mb = grow(s.mb, n+2)
	s.l0 = grow(s.l0, n)
	s.l = grow(s.l, n)
	s.e = grow(s.e, n)
	s.psb.big = growInt32(s.psb.big, n)
	s.psb.small = growInt32(s.psb.small, n)
	s.cycv = grow(s.cycv, 4*np)
	s.cyca = grow(s.cyca, 4*np)
	s.cycd = grow(s.cycd, np)
	if len(s.jf) < n {
		s.jf = make([]float64, n+n/8)
		for i := range s.jf {
			s.jf[i] = float64(i + 1)
		}
	}
	lanes := vecLanes
	if s.noVec {
		lanes = 0
	}
	s.vec = lanes > 0
	s.low.vec, s.trend.vec = s.vec, s.vec
	s.low.build(n, s.cfg.nl, s.cfg.nljump, s.jf)
	s.trend.build(n, s.cfg.nt, s.cfg.ntjump, s.jf)
	s.cyc.build(n, np, s.cfg.ns)
	for i := range s.wbuf {
		s.wbuf[i] = grow(s.wbuf[i], s.trend.wl)
		s.par.hw[i] = grow(s.par.hw[i], s.trend.wl)
	}
	s.vt.build(&s.trend, lanes, true)
	s.vl.build(&s.low, lanes, false)
	s.vls.buildSteps(&s.low, lanes, false, false)
	if s.vt.on() {
		growPair(&s.vbuf, s.trend.wl*lanes)
		growPair(&s.par.hvb, s.trend.wl*lanes)
	}
}

// growPair sizes two buffers of n values, in one allocation with the
// second starting 1 KiB after the end of the first: the vector pipeline
// stores to one at the offset where it then loads from the other, which
// the CPU would delay if the two addresses agreed in their low 12 bits.
func growPair(p *[2][]float64, n int) {
	const skew = 128
	buf := p[0][:cap(p[0])]
	if len(buf) < 2*n+skew {
		buf = make([]float64, 2*n+skew)
	}
	p[0], p[1] = buf[:n], buf[n+skew:][:n]
}

// grow returns a slice of length n, reusing buf's storage when it is large
// enough.
func grow(buf []float64, n int) []float64 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float64, n, n+n/8)
}
