package detect

import (
	"errors"
	"math"
)

// window runs the detection of spec §5 on the rows in d.rows and leaves the
// anomalies, in row order, in d.found (Expected not yet set). times is nil
// for Vec. It also records, for every row of the window that has none yet,
// its expected value trunc(trend + seasonal).
func (d *Detector) window(times []int64, values []float64, np int, k, alpha float64, dir Direction) error {
	d.found = d.found[:0]
	rows := d.rows
	m := len(rows)
	if m < 2*np {
		return ErrTooFewPeriods
	}

	// Only a leading and a trailing run of missing values may be dropped.
	a, b := 0, m
	for a < m && math.IsNaN(values[rows[a]]) {
		a++
	}
	for b > a && math.IsNaN(values[rows[b-1]]) {
		b--
	}
	rows = rows[a:b]
	n := len(rows)
	d.y = resize(d.y, n)
	for i, r := range rows {
		v := values[r]
		if math.IsNaN(v) {
			return ErrInteriorNA
		}
		if math.IsInf(v, 0) {
			return errInf
		}
		d.y[i] = v
	}

	d.seasonal = resize(d.seasonal, n)
	d.trend = resize(d.trend, n)
	d.win = windowTask{rows: rows, times: times, k: k, alpha: alpha, dir: dir, m: m}
	if d.detectFn == nil {
		d.detectFn = d.detectResidual // bound once: a method value allocates
	}
	// The ESD runs as soon as the seasonal is final, while the STL helper
	// computes the last trend fits.
	if err := d.stl.decompose(d.seasonal, d.trend, d.y, np, d.detectFn); err != nil {
		return err
	}
	for i, r := range rows {
		if !d.hasExp[r] {
			d.hasExp[r] = true
			d.expected[r] = math.Trunc(d.trend[i] + d.seasonal[i])
		}
	}
	res, err := d.win.res, d.win.err
	d.win = windowTask{} // keep no reference to the caller's times
	if err != nil {
		return err
	}

	// The anomalous timestamps are those of the first numAnoms candidates;
	// every row of the window with one of them is reported (spec §6.1).
	d.mark = resize(d.mark, n)
	clear(d.mark)
	for s, el := range d.esd.cand[:res.numAnoms] {
		d.mark[el] = int32(s + 1)
		if d.esd.same != nil {
			for o := d.esd.same[el]; o != el; o = d.esd.same[o] {
				d.mark[o] = int32(s + 1)
			}
		}
	}
	for i, s := range d.mark {
		if s == 0 {
			continue
		}
		r := rows[i]
		an := Anomaly{Index: int(r), Value: values[r], Score: d.esd.score[s-1]}
		if times != nil {
			an.Time = times[r]
		}
		d.found = append(d.found, an)
	}
	return nil
}

// tsThreshold returns the threshold of Ts (spec §6.2): a statistic of the
// maxima of the UTC calendar days of all rows. dropAll reports a missing
// med_max threshold, which drops every anomaly.
func (d *Detector) tsThreshold(times []int64, values []float64, th Threshold) (thresh float64, dropAll bool, err error) {
	if th == ThresholdNone {
		return math.Inf(-1), false, nil
	}
	// Rows grouped by date; dates need not be contiguous or sorted.
	byDay := make(map[int64]int, 64)
	d.maxima = d.maxima[:0]
	for i, t := range times {
		date := t / day
		if t%day < 0 {
			date--
		}
		v := values[i]
		j, ok := byDay[date]
		if !ok {
			byDay[date] = len(d.maxima)
			d.maxima = append(d.maxima, v)
			continue
		}
		if math.IsNaN(v) || v > d.maxima[j] {
			if !math.IsNaN(d.maxima[j]) {
				d.maxima[j] = v
			}
		}
	}
	return d.thresholdOf(th)
}

// vecThreshold returns the threshold of Vec for the current window: a
// statistic of the maxima of blocks of Period positions of the window.
func (d *Detector) vecThreshold(values []float64, p VecParams) (thresh float64, dropAll bool, err error) {
	rows := d.rows
	if p.LongtermPeriod > 0 && len(rows) != p.LongtermPeriod {
		// R's tapply() fails on groups of another length than the data.
		return 0, false, errLengths
	}
	d.maxima = d.maxima[:0]
	for i, r := range rows {
		v := values[r]
		if i%p.Period == 0 {
			d.maxima = append(d.maxima, v)
			continue
		}
		j := len(d.maxima) - 1
		if math.IsNaN(v) || v > d.maxima[j] {
			if !math.IsNaN(d.maxima[j]) {
				d.maxima[j] = v
			}
		}
	}
	return d.thresholdOf(p.Threshold)
}

func (d *Detector) thresholdOf(th Threshold) (float64, bool, error) {
	for _, v := range d.maxima {
		if math.IsNaN(v) {
			if th == MedMax {
				return 0, true, nil
			}
			return 0, false, ErrThresholdNA
		}
	}
	switch th {
	case MedMax:
		return medianInPlace(d.maxima), false, nil
	case P95:
		return quantile7InPlace(0.95, d.maxima), false, nil
	default:
		return quantile7InPlace(0.99, d.maxima), false, nil
	}
}

// filterThreshold keeps the anomalies at or above thresh.
func filterThreshold(found []Anomaly, thresh float64, dropAll bool) []Anomaly {
	if dropAll {
		return found[:0]
	}
	out := found[:0]
	for _, a := range found {
		if a.Value >= thresh {
			out = append(out, a)
		}
	}
	return out
}

// errLengths is R's tapply() error for Vec thresholds on a longterm window
// shorter than longterm_period.
var errLengths = errors.New("arguments must have same length")

// windowTask is what detectResidual needs of the window being detected, and
// what it found.
type windowTask struct {
	rows     []int32 // the rows detected (leading and trailing NaN dropped)
	times    []int64
	k, alpha float64
	dir      Direction
	m        int // rows in the window, missing values included
	res      esdResult
	err      error
}

// detectResidual computes the residuals of the window (d.y, rows w.rows)
// from the final seasonal and runs the ESD on them (d.win holds its parameters and
// gets its result). It does not read the trend.
func (d *Detector) detectResidual() {
	w := &d.win
	n := len(d.y)
	d.sorted = resize(d.sorted, n)
	copy(d.sorted, d.y)
	med := medianSelect(d.sorted)
	d.resid = resize(d.resid, n)
	for i, y := range d.y {
		d.resid[i] = (y - d.seasonal[i]) - med
	}
	K := int(float64(w.m) * w.k)
	if K == 0 {
		w.err = &ObservationsError{Count: w.m}
		return
	}
	var ts []int64
	if w.times != nil {
		d.yt = resize(d.yt, n)
		for i, r := range w.rows {
			d.yt[i] = w.times[r]
		}
		ts = d.yt
	}
	w.res, w.err = d.esd.run(d.resid, ts, K, w.alpha, w.dir)
}
