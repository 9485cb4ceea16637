package detect

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// refCase is one reference JSON file of spec §12: one call of R's
// AnomalyDetectionTs or AnomalyDetectionVec and what it returned.
type refCase struct {
	Function string `json:"function"`
	Input    string `json:"input"`
	Params   struct {
		MaxAnoms       float64 `json:"max_anoms"`
		Direction      string  `json:"direction"`
		Alpha          float64 `json:"alpha"`
		OnlyLast       any     `json:"only_last"` // null, "day", "hr" (Ts) or a bool (Vec)
		Threshold      string  `json:"threshold"`
		EValue         bool    `json:"e_value"`
		Longterm       bool    `json:"longterm"`
		Weeks          int     `json:"piecewise_median_period_weeks"`
		Period         int     `json:"period"`
		LongtermPeriod *int    `json:"longterm_period"`
	} `json:"params"`
	Error     *string `json:"error"`
	Count     int     `json:"count"`
	Anomalies []struct {
		Timestamp string   `json:"timestamp"`
		Index     int      `json:"index"`
		Value     float64  `json:"value"`
		Expected  *float64 `json:"expected_value"`
	} `json:"anomalies"`
}

// loadSeries reads one of Twitter's CSV files: a header, then
// "YYYY-MM-DD hh:mm:ss",value rows (UTC).
func loadSeries(tb testing.TB, name string) (times []int64, values []float64) {
	tb.Helper()
	rows := readCSV(tb, name)
	vals := column(tb, append([][]string{{"t", "v"}}, rows[1:]...), "v")
	for _, r := range rows[1:] {
		t, err := time.Parse(time.DateTime, r[0])
		if err != nil {
			tb.Fatal(err)
		}
		times = append(times, t.UnixNano())
	}
	return times, vals
}

func refCases(tb testing.TB) map[string]refCase {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(refDir, "reference", "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Skip("reference data not present (it lives in ../shared beside the project)")
	}
	out := make(map[string]refCase)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var c refCase
		if err := json.Unmarshal(b, &c); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = c
	}
	return out
}

// TestReference runs every reference call of R's package and compares the
// anomalies: same rows, same order, same values, same expected values.
func TestReference(t *testing.T) {
	for name, c := range refCases(t) {
		t.Run(name, func(t *testing.T) {
			times, values := loadSeries(t, c.Input)
			dir, err := ParseDirection(c.Params.Direction)
			if err != nil {
				t.Fatal(err)
			}
			th, err := ParseThreshold(c.Params.Threshold)
			if err != nil {
				t.Fatal(err)
			}
			var got []Anomaly
			switch c.Function {
			case "AnomalyDetectionTs":
				p := Params{MaxAnoms: c.Params.MaxAnoms, Alpha: c.Params.Alpha, Direction: dir, Threshold: th,
					Longterm: c.Params.Longterm, PiecewiseMedianPeriodWeeks: c.Params.Weeks}
				if s, ok := c.Params.OnlyLast.(string); ok {
					if p.OnlyLast, err = ParseOnlyLast(s); err != nil {
						t.Fatal(err)
					}
				}
				got, err = Ts(times, values, p)
			case "AnomalyDetectionVec":
				p := VecParams{Period: c.Params.Period, MaxAnoms: c.Params.MaxAnoms, Alpha: c.Params.Alpha,
					Direction: dir, Threshold: th, OnlyLast: c.Params.OnlyLast == true}
				if c.Params.LongtermPeriod != nil {
					p.LongtermPeriod = *c.Params.LongtermPeriod
				}
				got, err = Vec(values, p)
			default:
				t.Fatalf("unknown function %q", c.Function)
			}
			if c.Error != nil {
				if err == nil || err.Error() != *c.Error {
					t.Fatalf("error %v, R: %q", err, *c.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.Count || len(c.Anomalies) != c.Count {
				t.Fatalf("%d anomalies, R %d", len(got), c.Count)
			}
			for i, w := range c.Anomalies {
				g := got[i]
				if c.Function == "AnomalyDetectionTs" {
					if ts := time.Unix(0, g.Time).UTC().Format(time.DateTime); ts != w.Timestamp {
						t.Fatalf("anomaly %d at %s, R %s", i, ts, w.Timestamp)
					}
				} else if g.Index+1 != w.Index {
					t.Fatalf("anomaly %d at index %d, R %d", i, g.Index+1, w.Index)
				}
				if g.Value != w.Value {
					t.Errorf("anomaly %d value %v, R %v", i, g.Value, w.Value)
				}
				if w.Expected != nil && g.Expected != *w.Expected {
					t.Errorf("anomaly %d expected %v, R %v", i, g.Expected, *w.Expected)
				}
				if math.IsNaN(g.Score) || g.Score <= 0 {
					t.Errorf("anomaly %d score %v", i, g.Score)
				}
			}
		})
	}
}
