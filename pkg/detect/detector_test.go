package detect

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// hourly returns n hourly rows of a daily sine with a little noise.
func hourly(n int, seed uint64) (times []int64, values []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		times = append(times, epoch+int64(i)*int64(time.Hour))
		values = append(values, 100+10*math.Sin(2*math.Pi*float64(i)/24)+rng.NormFloat64())
	}
	return times, values
}

func hasRow(anoms []Anomaly, row int) bool {
	for _, a := range anoms {
		if a.Index == row {
			return true
		}
	}
	return false
}

// Edge cases of spec §11, each with R's outcome.
func TestTs_EdgeCases(t *testing.T) {
	def := DefaultParams()
	both := def
	both.Direction, both.MaxAnoms = Both, 0.02

	t.Run("47 hourly rows: fewer than two periods", func(t *testing.T) {
		tm, v := hourly(47, 1)
		if _, err := Ts(tm, v, def); !errors.Is(err, ErrTooFewPeriods) || err.Error() != "Anom detection needs at least 2 periods worth of data" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("48 hourly rows: STL needs more than two periods", func(t *testing.T) {
		tm, v := hourly(48, 1)
		if _, err := Ts(tm, v, def); !errors.Is(err, ErrNotPeriodic) || err.Error() != "series is not periodic or has less than two periods" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("49 hourly rows work", func(t *testing.T) {
		tm, v := hourly(49, 1)
		v[30] += 50
		got, err := Ts(tm, v, def)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].Index != 30 {
			t.Fatalf("got %+v, want the spike at row 30 first", got)
		}
	})
	t.Run("max_anoms 0 with 49 rows: K = trunc(49 × 1/49) = 0", func(t *testing.T) {
		tm, v := hourly(49, 1)
		p := def
		p.MaxAnoms = 0
		_, err := Ts(tm, v, p)
		var oe *ObservationsError
		if !errors.As(err, &oe) || oe.Count != 49 || !errors.Is(err, ErrTooFewObservations) {
			t.Fatalf("err = %v", err)
		}
		want := "With longterm=TRUE, AnomalyDetection splits the data into 2 week periods by default. You have 49 observations in a period, which is too few. Set a higher piecewise_median_period_weeks."
		if err.Error() != want {
			t.Fatalf("err = %q", err)
		}
	})
	t.Run("interior NA", func(t *testing.T) {
		tm, v := hourly(100, 2)
		v[50] = math.NaN()
		if _, err := Ts(tm, v, def); !errors.Is(err, ErrInteriorNA) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("leading and trailing NAs are dropped but counted", func(t *testing.T) {
		tm, v := hourly(100, 2)
		v[0], v[1], v[99] = math.NaN(), math.NaN(), math.NaN()
		v[60] += 40
		got, err := Ts(tm, v, both)
		if err != nil {
			t.Fatal(err)
		}
		if !hasRow(got, 60) || hasRow(got, 0) || hasRow(got, 1) || hasRow(got, 99) {
			t.Fatalf("got %+v, want row 60 and no missing row", got)
		}
	})
	t.Run("constant series: MAD 0 stops the loop", func(t *testing.T) {
		tm := make([]int64, 1000)
		v := make([]float64, 1000)
		for i := range tm {
			tm[i] = epoch + int64(i)*int64(time.Hour)
			v[i] = 3
		}
		got, err := Ts(tm, v, def)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("duplicated last timestamp: no period", func(t *testing.T) {
		tm, v := hourly(100, 3)
		tm[99] = tm[98]
		if _, err := Ts(tm, v, def); !errors.Is(err, ErrNoPeriod) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("rows sharing a timestamp are removed together, reported once", func(t *testing.T) {
		tm, v := hourly(200, 4)
		tm[101] = tm[100] // two rows at one time
		v[100], v[101] = 300, 290
		got, err := Ts(tm, v, both)
		if err != nil {
			t.Fatal(err)
		}
		if !hasRow(got, 100) || hasRow(got, 101) {
			t.Fatalf("got %+v, want row 100 and not its twin 101", got)
		}
	})
	t.Run("parameter errors in R's words", func(t *testing.T) {
		tm, v := hourly(100, 5)
		for _, c := range []struct {
			p    Params
			want string
		}{
			{Params{MaxAnoms: 0.5, Alpha: 0.05}, "max_anoms must be less than 50% of the data points (max_anoms = 50  data_points = 100 )."},
			{Params{MaxAnoms: -0.1, Alpha: 0.05}, "max_anoms must be positive."},
			{Params{MaxAnoms: 0.1, Direction: 9}, "direction options are: pos | neg | both."},
			{Params{MaxAnoms: 0.1, OnlyLast: 9}, "only_last must be either 'day' or 'hr'"},
			{Params{MaxAnoms: 0.1, Threshold: 9}, "threshold options are: None | med_max | p95 | p99."},
			{Params{MaxAnoms: 0.1, Longterm: true, PiecewiseMedianPeriodWeeks: 1}, "piecewise_median_period_weeks must be at greater than 2 weeks"},
		} {
			_, err := Ts(tm, v, c.p)
			if err == nil || err.Error() != c.want || !errors.Is(err, ErrParam) {
				t.Errorf("%+v: err %v, want %q", c.p, err, c.want)
			}
		}
	})
	t.Run("max_anoms message prints large counts like R", func(t *testing.T) {
		err := checkMaxAnoms(0.5, 200000)
		if err == nil || err.Error() != "max_anoms must be less than 50% of the data points (max_anoms = 1e+05  data_points = 200000 )." {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestTs_LongtermOverlap: 8 weeks and 3 days of hourly data make five
// windows, the last one overlapping the fourth. Anomalies are unique by
// time, and each carries its own expected value (R pairs them in time
// order, which shifts them when the order is not chronological).
func TestTs_LongtermOverlap(t *testing.T) {
	n := (8*7 + 3) * 24
	tm, v := hourly(n, 6)
	for _, i := range []int{100, 500, 900, 1300, n - 20} {
		v[i] += 60
	}
	p := DefaultParams()
	p.Longterm = true
	p.Direction = Both
	p.MaxAnoms = 0.02
	var d Detector
	got, err := d.Ts(nil, tm, v, p)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	exp := d.ExpectedValues(nil)
	for _, a := range got {
		if seen[a.Time] {
			t.Fatalf("time %v reported twice", a.Time)
		}
		seen[a.Time] = true
		if a.Expected != exp[a.Index] || a.Value != v[a.Index] || a.Time != tm[a.Index] {
			t.Fatalf("anomaly %+v: row %d has value %v expected %v", a, a.Index, v[a.Index], exp[a.Index])
		}
	}
	for _, i := range []int{100, 500, 900, 1300, n - 20} {
		if !seen[tm[i]] {
			t.Errorf("spike at row %d not found", i)
		}
	}
}

// TestVec_ConstantWithSpike: more than half the residuals equal makes the
// MAD 0, so even a huge spike is not reported (spec §11.3).
func TestVec_ConstantWithSpike(t *testing.T) {
	v := make([]float64, 1000)
	for i := range v {
		v[i] = 1
	}
	v[500] = 50
	got, err := Vec(v, VecParams{Period: 14, MaxAnoms: 0.1, Alpha: 0.05, Direction: Both})
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestVec_Errors(t *testing.T) {
	v := make([]float64, 100)
	if _, err := Vec(v, VecParams{MaxAnoms: 0.1}); err != ErrVecPeriod {
		t.Errorf("no period: %v", err)
	}
	if _, err := Vec(v, VecParams{Period: 10, MaxAnoms: 0.6}); err == nil || !errors.Is(err, ErrParam) {
		t.Errorf("max_anoms 0.6: %v", err)
	}
}

// TestDetector_Reuse: a Detector reused on the same size does not allocate
// (the daemon runs one per group and batch).
func TestDetector_Reuse(t *testing.T) {
	tm, v := hourly(24*14, 7)
	v[100] += 50
	p := DefaultParams()
	var d Detector
	dst := make([]Anomaly, 0, 64)
	if _, err := d.Ts(dst, tm, v, p); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := d.Ts(dst, tm, v, p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per reused call", allocs)
	}
}

// FuzzTs: whatever the series, Ts returns anomalies with finite fields or
// an error, and never panics.
func FuzzTs(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 4, 5}, uint8(3), uint8(10), false)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 255}, uint8(2), uint8(49), true)
	f.Fuzz(func(t *testing.T, raw []byte, period, maxAnoms uint8, longterm bool) {
		n := len(raw)
		tm := make([]int64, n)
		v := make([]float64, n)
		for i, b := range raw {
			tm[i] = epoch + int64(i)*int64(time.Hour)
			switch b {
			case 255:
				v[i] = math.NaN()
			default:
				v[i] = float64(b)
			}
		}
		p := Params{Period: time.Duration(period%50) * time.Hour, MaxAnoms: float64(maxAnoms%50) / 100,
			Alpha: 0.05, Direction: Both, Longterm: longterm, PiecewiseMedianPeriodWeeks: 2}
		got, err := Ts(tm, v, p)
		if err != nil {
			return
		}
		for _, a := range got {
			if math.IsNaN(a.Value) || math.IsNaN(a.Expected) || math.IsNaN(a.Score) || math.IsInf(a.Score, 0) {
				t.Fatalf("non-finite anomaly %+v", a)
			}
		}
	})
}
