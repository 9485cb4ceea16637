package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/anomalyd/anomalyd/pkg/detect"
)

// detectFlags are the flags of `anomalyd detect`, named after the
// TICKscript options and R's parameters.
type detectFlags struct {
	period         time.Duration
	maxAnoms       float64
	alpha          float64
	direction      string
	threshold      string
	longterm       bool
	weeks          int
	onlyLast       string
	periodPoints   int
	longtermPeriod int
	format         string
	plot           string
}

func newDetectCmd() *cobra.Command {
	f := detectFlags{}
	def := detect.DefaultParams()
	cmd := &cobra.Command{
		Use:   "detect FILE|-",
		Short: "Run S-H-ESD on a CSV file (offline backtest)",
		Long: `Run the daemon's detector on a CSV file to try parameters before deploying
them. The file has a header and rows of timestamp,value (timestamps as
"2006-01-02 15:04:05" UTC, RFC 3339 or epoch seconds); "-" reads stdin.

By default this is R's AnomalyDetectionTs: the period comes from the step
between the two last timestamps (1440 observations for minutely data, 24 for
hourly, 7 for daily; one day of observations for other steps), or from
--period. With --period-points it is R's AnomalyDetectionVec: the period is a
number of observations, a timestamp column is optional and only carried to
the output.

Output (--format json): {"anomalies":[{"index":I,"time":T,"value":V,
"expected":E,"score":S}]}, index being the 0-based data row of the input.`,
		Example: `  anomalyd detect examples/cpu-minutely.csv --max-anoms 0.02 --direction both
  anomalyd detect data.csv --period-points 150 --format csv --plot anomalies.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDetect(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.period, "period", 0, "seasonal cycle (default: from the data's step, see above)")
	fl.Float64Var(&f.maxAnoms, "max-anoms", def.MaxAnoms, "upper bound on the share of anomalies, at most 0.49")
	fl.Float64Var(&f.alpha, "alpha", def.Alpha, "significance level of the ESD test")
	fl.StringVar(&f.direction, "direction", def.Direction.String(), "pos, neg or both")
	fl.StringVar(&f.threshold, "threshold", "none", "none, med_max, p95 or p99: keep anomalies at or above this statistic of the daily maxima")
	fl.BoolVar(&f.longterm, "longterm", false, "analyse in windows of --piecewise-median-period-weeks weeks")
	fl.IntVar(&f.weeks, "piecewise-median-period-weeks", def.PiecewiseMedianPeriodWeeks, "window length in weeks for --longterm")
	fl.StringVar(&f.onlyLast, "only-last", "", "report only anomalies of the last day or hr (period with --period-points)")
	fl.IntVar(&f.periodPoints, "period-points", 0, "period in observations: R's AnomalyDetectionVec")
	fl.IntVar(&f.longtermPeriod, "longterm-period", 0, "with --period-points: window length in observations")
	fl.StringVar(&f.format, "format", "json", "json or csv")
	fl.StringVar(&f.plot, "plot", "", "also draw the series, expected values and anomalies to FILE.png or FILE.svg")
	return cmd
}

func runDetect(cmd *cobra.Command, path string, f detectFlags) error {
	if f.format != "json" && f.format != "csv" {
		return fmt.Errorf("--format %q: want json or csv", f.format)
	}
	dir, err := detect.ParseDirection(f.direction)
	if err != nil {
		return fmt.Errorf("--direction: %w", err)
	}
	th, err := detect.ParseThreshold(f.threshold)
	if err != nil {
		return fmt.Errorf("--threshold: %w", err)
	}
	vec := f.periodPoints != 0
	if !vec && (f.longtermPeriod != 0 || f.onlyLast == "period") {
		return fmt.Errorf("--longterm-period and --only-last period need --period-points")
	}
	if vec && (f.period != 0 || f.longterm || f.onlyLast == "day" || f.onlyLast == "hr") {
		return fmt.Errorf("--period-points (observations) excludes --period, --longterm and --only-last day|hr; use --longterm-period and --only-last period")
	}
	if vec && f.periodPoints < 0 {
		return fmt.Errorf("--period-points %d: must be positive", f.periodPoints)
	}

	in, closeIn, err := openInput(cmd, path)
	if err != nil {
		return err
	}
	s, err := readSeries(in, vec)
	closeIn()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}

	var d detect.Detector
	var anoms []detect.Anomaly
	if vec {
		p := detect.VecParams{Period: f.periodPoints, MaxAnoms: f.maxAnoms, Alpha: f.alpha, Direction: dir,
			Threshold: th, LongtermPeriod: f.longtermPeriod}
		switch f.onlyLast {
		case "":
		case "period":
			p.OnlyLast = true
		default:
			return fmt.Errorf("--only-last %q: want period with --period-points", f.onlyLast)
		}
		anoms, err = d.Vec(nil, s.values, p)
	} else {
		ol, perr := detect.ParseOnlyLast(f.onlyLast)
		if perr != nil {
			return fmt.Errorf("--only-last: %w", perr)
		}
		p := detect.Params{Period: f.period, MaxAnoms: f.maxAnoms, Alpha: f.alpha, Direction: dir, Threshold: th,
			Longterm: f.longterm, PiecewiseMedianPeriodWeeks: f.weeks, OnlyLast: ol}
		anoms, err = d.Ts(nil, s.times, s.values, p)
	}
	if err != nil {
		return err
	}
	if f.plot != "" {
		if err := plotSeries(f.plot, s, d.ExpectedValues(nil), anoms, plotTitle(f, len(anoms), len(s.values))); err != nil {
			return fmt.Errorf("--plot: %w", err)
		}
	}
	out := cmd.OutOrStdout()
	if f.format == "csv" {
		return writeCSV(out, s, anoms)
	}
	return writeJSON(out, s, anoms)
}

func openInput(cmd *cobra.Command, path string) (io.Reader, func(), error) {
	if path == "-" {
		return cmd.InOrStdin(), func() {}, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return fh, func() { fh.Close() }, nil
}

// anomalyOut is one anomaly as `detect` prints it.
type anomalyOut struct {
	Index    int     `json:"index"`
	Time     string  `json:"time,omitempty"`
	Value    float64 `json:"value"`
	Expected float64 `json:"expected"`
	Score    float64 `json:"score"`
}

func toOut(s *series, a detect.Anomaly) anomalyOut {
	o := anomalyOut{Index: a.Index, Value: a.Value, Expected: a.Expected, Score: a.Score}
	switch {
	case s.times != nil:
		o.Time = time.Unix(0, s.times[a.Index]).UTC().Format(time.RFC3339Nano)
	case s.stamps != nil:
		o.Time = s.stamps[a.Index]
	}
	return o
}

func writeJSON(w io.Writer, s *series, anoms []detect.Anomaly) error {
	out := struct {
		Anomalies []anomalyOut `json:"anomalies"`
	}{Anomalies: make([]anomalyOut, 0, len(anoms))}
	for _, a := range anoms {
		out.Anomalies = append(out.Anomalies, toOut(s, a))
	}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}

func writeCSV(w io.Writer, s *series, anoms []detect.Anomaly) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"index", "time", "value", "expected", "score"}); err != nil {
		return err
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, a := range anoms {
		o := toOut(s, a)
		if err := cw.Write([]string{strconv.Itoa(o.Index), o.Time, num(o.Value), num(o.Expected), num(o.Score)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func plotTitle(f detectFlags, found, rows int) string {
	pct := 0.0
	if rows > 0 {
		pct = 100 * float64(found) / float64(rows)
	}
	t := fmt.Sprintf("%d anomalies (%.2f%%): max_anoms=%g alpha=%g direction=%s", found, pct, f.maxAnoms, f.alpha, f.direction)
	if f.threshold != "none" {
		t += " threshold=" + f.threshold
	}
	if f.longterm {
		t += " longterm"
	}
	if f.periodPoints != 0 {
		t += " period=" + strconv.Itoa(f.periodPoints) + " obs"
	} else if f.period != 0 {
		t += " period=" + f.period.String()
	}
	return t
}
