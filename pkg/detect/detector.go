package detect

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// Detector runs S-H-ESD and keeps its scratch buffers between calls, so that
// repeated calls on series of similar length do not allocate. A Detector is
// not safe for concurrent use; the zero value is ready to use.
type Detector struct {
	stl STL
	esd esd

	// Per window.
	rows     []int32 // the window's rows, in row order
	y        []float64
	yt       []int64
	seasonal []float64
	trend    []float64
	resid    []float64
	sorted   []float64
	mark     []int32 // element → 1-based step that flagged it, 0 if none
	win      windowTask
	detectFn func() // d.detectResidual, bound once

	// Per call.
	expected []float64 // row → expected value from the first window holding it
	hasExp   []bool
	found    []Anomaly // one window's anomalies
	maxima   []float64
	seen     map[int64]struct{}
}

// errInf is R's error when the series holds ±Inf (stl() refuses it).
var errInf = errors.New("NA/NaN/Inf in foreign function call (arg 1)")

const (
	day  = int64(24 * time.Hour)
	week = 7 * day
)

// Ts is R's AnomalyDetectionTs(x, max_anoms, direction, alpha, only_last,
// threshold, e_value = TRUE, longterm, piecewise_median_period_weeks) on
// rows (times[i], values[i]). Times are Unix nanoseconds, in the order R
// would get them (R never sorts: windows, only_last and STL follow the row
// order; the input is expected to be ascending). A NaN value is R's NA:
// allowed as a leading or trailing run of a window only.
//
// The anomalies are appended to dst in R's order (window order, then row
// order). Each carries its own expected value; R pairs expected values with
// anomalies in time order even where the anomalies are not in time order
// (longterm), which Ts does not copy.
//
// The period is p.Period when set, else derived from the step between the
// two largest timestamps (see Params.Period).
func (d *Detector) Ts(dst []Anomaly, times []int64, values []float64, p Params) ([]Anomaly, error) {
	d.hasExp = d.hasExp[:0]
	if len(times) != len(values) {
		return dst, &ParamError{Param: "x", Msg: "times and values differ in length"}
	}
	n := len(values)
	if err := checkTsParams(p, n); err != nil {
		return dst, err
	}
	step, err := lastStep(times)
	if err != nil {
		return dst, err
	}
	np, err := periodObs(p.Period, step)
	if err != nil {
		return dst, err
	}
	daily := step >= day

	k := p.MaxAnoms
	if n > 0 && k < 1/float64(n) {
		k = 1 / float64(n)
	}
	onlyLast := p.OnlyLast
	if daily && onlyLast == OnlyLastHour {
		onlyLast = OnlyLastDay
	}

	d.startCall(n)
	thresh, dropAll, err := d.tsThreshold(times, values, p.Threshold)
	if err != nil {
		return dst, err
	}

	// Windows (spec §4.2): one with all rows, or starts every rowsPer rows
	// and extents of span by time.
	rowsPer, span := n, int64(0)
	if p.Longterm {
		w := int64(p.PiecewiseMedianPeriodWeeks)
		span = 7 * w * day
		if daily {
			span += day
		}
		rowsPer = int(math.Round(float64(span) / float64(step)))
		if rowsPer < 1 {
			rowsPer = 1
		}
	}
	sorted := ascending(times)
	start := len(dst)
	for s := 0; s < n || s == 0; s += rowsPer {
		if p.Longterm {
			d.tsWindow(times, s, span, sorted)
		} else {
			d.rows = appendRange(d.rows[:0], 0, n)
		}
		if err := d.window(times, values, np, k, p.Alpha, p.Direction); err != nil {
			return dst[:start], err
		}
		d.found = filterThreshold(d.found, thresh, dropAll)
		dst = d.merge(dst, start, false)
		if !p.Longterm {
			break
		}
	}

	if onlyLast != OnlyLastNone && n > 0 {
		tLast := times[n-1]
		from := tLast - day
		if onlyLast == OnlyLastHour {
			from = tLast - int64(time.Hour)
		}
		var f int64
		for _, t := range times {
			if t > from {
				f = t
				break
			}
		}
		out := dst[:start]
		for _, a := range dst[start:] {
			if a.Time >= f {
				out = append(out, a)
			}
		}
		dst = out
	}
	return dst, nil
}

// Vec is R's AnomalyDetectionVec(x, max_anoms, direction, alpha, period,
// only_last, threshold, e_value = TRUE, longterm_period): the 1-based
// position plays the role of the timestamp. Anomaly.Time is 0.
func (d *Detector) Vec(dst []Anomaly, values []float64, p VecParams) ([]Anomaly, error) {
	d.hasExp = d.hasExp[:0]
	n := len(values)
	if err := checkVecParams(p, n); err != nil {
		return dst, err
	}
	k := p.MaxAnoms
	if n > 0 && k < 1/float64(n) {
		k = 1 / float64(n)
	}
	d.startCall(n)
	start := len(dst)
	step := n
	if p.LongtermPeriod > 0 {
		step = p.LongtermPeriod
	}
	for s := 0; s < n || s == 0; s += step {
		switch {
		case p.LongtermPeriod <= 0:
			d.rows = appendRange(d.rows[:0], 0, n)
		case s+p.LongtermPeriod <= n:
			d.rows = appendRange(d.rows[:0], s, s+p.LongtermPeriod)
		default:
			d.rows = appendRange(d.rows[:0], max(0, n-p.LongtermPeriod), n)
		}
		if err := d.window(nil, values, p.Period, k, p.Alpha, p.Direction); err != nil {
			return dst[:start], err
		}
		if p.Threshold != ThresholdNone {
			thresh, dropAll, err := d.vecThreshold(values, p)
			if err != nil {
				return dst[:start], err
			}
			d.found = filterThreshold(d.found, thresh, dropAll)
		}
		dst = d.merge(dst, start, true)
		if p.LongtermPeriod <= 0 {
			break
		}
	}
	if p.OnlyLast {
		out := dst[:start]
		for _, a := range dst[start:] {
			if a.Index >= n-p.Period {
				out = append(out, a)
			}
		}
		dst = out
	}
	return dst, nil
}

// Ts runs Detector.Ts with a new Detector.
func Ts(times []int64, values []float64, p Params) ([]Anomaly, error) {
	var d Detector
	return d.Ts(nil, times, values, p)
}

// Vec runs Detector.Vec with a new Detector.
func Vec(values []float64, p VecParams) ([]Anomaly, error) {
	var d Detector
	return d.Vec(nil, values, p)
}

// checkTsParams checks p in R's order, with R's messages.
func checkTsParams(p Params, n int) error {
	if err := checkMaxAnoms(p.MaxAnoms, n); err != nil {
		return err
	}
	if p.MaxAnoms < 0 {
		return &ParamError{Param: "max_anoms", Msg: "max_anoms must be positive."}
	}
	if p.Direction > Both {
		return &ParamError{Param: "direction", Msg: "direction options are: pos | neg | both."}
	}
	if p.OnlyLast > OnlyLastHour {
		return &ParamError{Param: "only_last", Msg: "only_last must be either 'day' or 'hr'"}
	}
	if p.Threshold > P99 {
		return &ParamError{Param: "threshold", Msg: "threshold options are: None | med_max | p95 | p99."}
	}
	if p.Longterm && p.PiecewiseMedianPeriodWeeks < 2 || p.PiecewiseMedianPeriodWeeks < 0 {
		return &ParamError{Param: "piecewise_median_period_weeks", Msg: "piecewise_median_period_weeks must be at greater than 2 weeks"}
	}
	if p.Period < 0 {
		return &ParamError{Param: "period", Msg: "period must be positive"}
	}
	return nil
}

func checkVecParams(p VecParams, n int) error {
	if err := checkMaxAnoms(p.MaxAnoms, n); err != nil {
		return err
	}
	if p.Direction > Both {
		return &ParamError{Param: "direction", Msg: "direction options are: pos | neg | both."}
	}
	if p.Period <= 0 {
		return ErrVecPeriod
	}
	if p.Threshold > P99 {
		return &ParamError{Param: "threshold", Msg: "threshold options are: None | med_max | p95 | p99."}
	}
	if p.LongtermPeriod < 0 {
		return &ParamError{Param: "longterm_period", Msg: "longterm_period must be positive"}
	}
	return nil
}

// checkMaxAnoms is R's first parameter check, shared by Ts and Vec.
func checkMaxAnoms(k float64, n int) error {
	if math.IsNaN(k) {
		return &ParamError{Param: "max_anoms", Msg: ErrExhausted.Error()}
	}
	if k > 0.49 {
		return &ParamError{Param: "max_anoms", Msg: "max_anoms must be less than 50% of the data points (max_anoms = " +
			formatR(math.RoundToEven(k*float64(n))) + "  data_points = " + strconv.Itoa(n) + " )."}
	}
	return nil
}

// formatR formats a double as R's as.character does for the values that
// occur here: up to 15 significant digits, in fixed notation unless
// scientific notation is shorter (R prints 1e+05 for 100000).
func formatR(x float64) string {
	fixed := strconv.FormatFloat(x, 'f', -1, 64)
	sci := strconv.FormatFloat(x, 'e', -1, 64)
	if len(fixed) <= len(sci) {
		return fixed
	}
	return sci
}

// lastStep returns t_max − t_2, the gap between the two largest elements of
// the timestamp multiset, which decides the granularity (spec §3.3).
func lastStep(times []int64) (int64, error) {
	if len(times) < 2 {
		return 0, ErrNoPeriod
	}
	t1, t2 := int64(math.MinInt64), int64(math.MinInt64)
	for _, t := range times {
		if t > t1 {
			t1, t2 = t, t1
		} else if t > t2 {
			t2 = t
		}
	}
	if t1 == t2 {
		return 0, ErrNoPeriod
	}
	return t1 - t2, nil
}

// periodObs returns the period in observations for a step (ns): the given
// period divided by the step, or by default R's 1440, 24 and 7 for steps of
// exactly a minute, an hour and a day, and one day (steps under a day) or
// one week of observations otherwise.
func periodObs(period time.Duration, step int64) (int, error) {
	if period == 0 {
		switch sec := math.RoundToEven(float64(step) / 1e9); sec {
		case 60:
			return 1440, nil
		case 3600:
			return 24, nil
		case 86400:
			return 7, nil
		}
		period = time.Duration(day)
		if step >= day {
			period = time.Duration(week)
		}
	}
	np := math.Round(float64(period) / float64(step))
	if np > math.MaxInt32 {
		return 0, &ParamError{Param: "period", Msg: "period " + period.String() + " holds too many observations"}
	}
	return int(np), nil
}

// ascending reports whether times never decrease.
func ascending(times []int64) bool {
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			return false
		}
	}
	return true
}

// tsWindow sets d.rows to the longterm window starting at row s (spec §4.2).
func (d *Detector) tsWindow(times []int64, s int, span int64, sorted bool) {
	n := len(times)
	tLast := times[n-1]
	ts := times[s]
	lo, hi := ts, ts+span // lo ≤ t < hi
	loIncl, hiIncl := true, false
	if ts+span > tLast {
		lo, hi = tLast-span, tLast // lo < t ≤ hi
		loIncl, hiIncl = false, true
	}
	in := func(t int64) bool {
		return (t > lo || loIncl && t == lo) && (t < hi || hiIncl && t == hi)
	}
	d.rows = d.rows[:0]
	if !sorted {
		for i, t := range times {
			if in(t) {
				d.rows = append(d.rows, int32(i))
			}
		}
		return
	}
	a := searchFirst(times, func(t int64) bool { return t > lo || loIncl && t == lo })
	b := searchFirst(times, func(t int64) bool { return !(t < hi || hiIncl && t == hi) })
	d.rows = appendRange(d.rows, a, b)
}

// searchFirst returns the first index of ascending times for which ok
// holds, ok being monotone.
func searchFirst(times []int64, ok func(int64) bool) int {
	lo, hi := 0, len(times)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ok(times[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func appendRange(dst []int32, a, b int) []int32 {
	for i := a; i < b; i++ {
		dst = append(dst, int32(i))
	}
	return dst
}

// startCall sizes the per-call scratch for n rows.
func (d *Detector) startCall(n int) {
	d.expected = resize(d.expected, n)
	d.hasExp = resize(d.hasExp, n)
	clear(d.hasExp)
	if d.seen == nil {
		d.seen = make(map[int64]struct{})
	}
	clear(d.seen)
}

// merge appends the window's anomalies whose timestamp is not already in
// dst[start:] (spec §6.3), each with the expected value of the first window
// that held its row. byIndex uses the position as the timestamp (Vec).
func (d *Detector) merge(dst []Anomaly, start int, byIndex bool) []Anomaly {
	for _, a := range d.found {
		key := a.Time
		if byIndex {
			key = int64(a.Index)
		}
		if _, dup := d.seen[key]; dup {
			continue
		}
		d.seen[key] = struct{}{}
		a.Expected = d.expected[a.Index]
		dst = append(dst, a)
	}
	return dst
}

// ExpectedValues appends to dst, for every row of the last Ts or Vec call,
// the expected value trunc(trend + seasonal) of the first window that
// analysed the row, or NaN where no window did (missing values, rows outside
// every window, or a call that failed before decomposing).
func (d *Detector) ExpectedValues(dst []float64) []float64 {
	for i, ok := range d.hasExp {
		if ok {
			dst = append(dst, d.expected[i])
		} else {
			dst = append(dst, math.NaN())
		}
	}
	return dst
}
