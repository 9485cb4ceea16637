package agent

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// These tests run the real S-H-ESD (pkg/detect) and skip while it is a stub.

// seasonal is a daily cycle with small deterministic noise: 50 + 10·sin
// over a day, noise in [-0.5, 0.5).
func seasonal(step int64) func(i int) float64 {
	perDay := float64(24*hour) / float64(step)
	return func(i int) float64 {
		noise := float64((i*7919)%101)/101 - 0.5
		return 50 + 10*math.Sin(2*math.Pi*float64(i)/perDay) + noise
	}
}

func withSpikes(f func(int) float64, spikes []int, size float64) func(int) float64 {
	return func(i int) float64 {
		if slices.Contains(spikes, i) {
			return f(i) + size
		}
		return f(i)
	}
}

// TestSession_SeedScenario_RealDetector: 14 days of hourly data with 12
// clear spikes in one batch give 12 points, one per spike.
func TestSession_SeedScenario_RealDetector(t *testing.T) {
	realDetectorOrSkip(t)
	srv := newTestServer(t, DefaultConfig(), nil)
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	spikes := []int{30, 51, 77, 100, 130, 151, 175, 200, 222, 250, 280, 311}
	base := seasonal(hour)
	pts := hourly(t0, 14*24, withSpikes(base, spikes, 40))
	gtags := map[string]string{"host": "a"}
	c.batch("host=a", gtags, pts)
	got := drainPoints(t, c)
	if len(got) != len(spikes) {
		t.Fatalf("%d points, want %d: %v", len(got), len(spikes), got)
	}
	for k, p := range got {
		i := spikes[k]
		if p.Time != pts[i].t || p.FieldsDouble["value"] != pts[i].v {
			t.Errorf("point %d: time %d value %v, want %d %v", k, p.Time, p.FieldsDouble["value"], pts[i].t, pts[i].v)
		}
		if e := p.FieldsDouble["expected"]; math.Abs(e-base(i)) > 2 {
			t.Errorf("point %d: expected %v, want about %v", k, e, base(i))
		}
		if s := p.FieldsDouble["score"]; s < 3 {
			t.Errorf("point %d: score %v", k, s)
		}
		if p.Tags["host"] != "a" || !slices.Equal(p.Dimensions, []string{"host"}) || p.Name != "cpu" {
			t.Errorf("point %d: %v", k, p)
		}
	}
}

// TestSession_RestoredHistory_RealDetector: one day of data alone is too
// short for S-H-ESD; after a restore of 13 days it is judged against them.
func TestSession_RestoredHistory_RealDetector(t *testing.T) {
	realDetectorOrSkip(t)
	srv := newTestServer(t, DefaultConfig(), nil)
	opts := []*udfpb.Option{opt("field", str("value")), opt("period", dur(24*time.Hour))}
	base := seasonal(hour)
	series := hourly(t0, 14*24, withSpikes(base, []int{13*24 + 5}, 40))

	c := startSession(t, srv)
	c.initOK(opts...)
	c.batch("host=a", hostA, series[:13*24])
	blob := c.snapshot()
	c.closeWrite()
	c.expectClosed(10 * time.Second)

	fresh := startSession(t, srv)
	fresh.initOK(opts...)
	fresh.batch("host=a", hostA, series[13*24:])
	if got := drainPoints(t, fresh); len(got) != 0 {
		t.Fatalf("one day alone gave %d points", len(got))
	}

	c2 := startSession(t, srv)
	c2.initOK(opts...)
	if r := c2.restore(blob); !r.Success {
		t.Fatal(r)
	}
	c2.batch("host=a", hostA, series[13*24:])
	got := drainPoints(t, c2)
	if len(got) != 1 || got[0].Time != series[13*24+5].t {
		t.Fatalf("after restore: %v, want the spike at day 13 + 5h", got)
	}
}

// TestSession_KeepaliveDuringRealDetection: keepalives are answered within
// 100 ms while S-H-ESD runs on 40,320 minutely points (28 days). A reader
// that waited on the detection would answer none of them before it ends;
// on a loaded machine (this runs under -race, beside other packages) the
// scheduler can still delay a single answer, so the median is held to
// 100 ms and every answer to the detection's own length.
func TestSession_KeepaliveDuringRealDetection(t *testing.T) {
	realDetectorOrSkip(t)
	srv := newTestServer(t, DefaultConfig(), nil)
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")), opt("period", dur(24*time.Hour)), opt("history", dur(28*24*time.Hour)))
	const n = 40320
	base := seasonal(minute)
	pts := make([]pt, n)
	for i := range pts {
		pts[i] = pt{t: t0 + int64(i)*minute, v: base(i)}
	}
	pts[n-100].v += 50
	c.batch("", nil, pts)
	st := srv.Stats()
	for st.BatchesIn.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	var lat []time.Duration
	for i := int64(0); st.Detections.Load() == 0; i++ {
		d := c.keepalive(i)
		if st.Detections.Load() == 0 {
			lat = append(lat, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	detection := time.Since(start)
	if len(lat) < 3 {
		t.Fatalf("the detection took %s: too short to send keepalives during it (%d)", detection, len(lat))
	}
	slices.Sort(lat)
	median, worst := lat[len(lat)/2], lat[len(lat)-1]
	if median > 100*time.Millisecond || worst >= detection {
		t.Fatalf("keepalives during a %s detection: median %s, slowest %s", detection, median, worst)
	}
	t.Logf("%d keepalives during a %s detection: median %s, slowest %s", len(lat), detection, median, worst)
	got := drainPoints(t, c)
	if len(got) == 0 || got[len(got)-1].Time != pts[n-100].t {
		t.Fatalf("anomalies %d, want the spike last", len(got))
	}
}
