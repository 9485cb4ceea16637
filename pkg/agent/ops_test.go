package agent

import (
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/anomalyd/anomalyd/pkg/detect"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// TestDetectConfig_SameMessagesAsInit: a bad daemon-wide default gets the
// reason Init gives for the same TICKscript option.
func TestDetectConfig_SameMessagesAsInit(t *testing.T) {
	for _, tc := range []struct {
		key    string
		set    func(c *DetectConfig)
		option *udfpb.Option
	}{
		{"period", func(c *DetectConfig) { c.Period = Duration(time.Millisecond) }, opt("period", dur(time.Millisecond))},
		{"history", func(c *DetectConfig) { c.History = Duration(time.Second) }, opt("history", dur(time.Second))},
		{"max_anoms", func(c *DetectConfig) { c.MaxAnoms = 0.7 }, opt("maxAnoms", dbl(0.7))},
		{"alpha", func(c *DetectConfig) { c.Alpha = 0 }, opt("alpha", dbl(0))},
		{"direction", func(c *DetectConfig) { c.Direction = "up" }, opt("direction", str("up"))},
		{"threshold", func(c *DetectConfig) { c.Threshold = "p50" }, opt("threshold", str("p50"))},
		{"piecewise_median_period_weeks", func(c *DetectConfig) { c.PiecewiseMedianPeriodWeeks = 1 }, opt("piecewiseMedianPeriodWeeks", intv(1))},
		{"emit", func(c *DetectConfig) { c.Emit = "some" }, opt("emit", str("some"))},
	} {
		t.Run(tc.key, func(t *testing.T) {
			c := DefaultDetectConfig()
			tc.set(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			reason, ok := strings.CutPrefix(err.Error(), tc.key+": ")
			if !ok {
				t.Fatalf("error does not start with the key: %v", err)
			}
			_, initErr := ParseOptions([]*udfpb.Option{opt("field", str("value")), tc.option})
			if initErr == nil || initErr.Error() != tc.option.Name+": "+reason {
				t.Errorf("config: %q\ninit:   %v", reason, initErr)
			}
		})
	}
	t.Run("history shorter than two periods", func(t *testing.T) {
		c := DefaultDetectConfig()
		c.Period, c.History = Duration(24*time.Hour), Duration(36*time.Hour)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "history: 36h is shorter than two periods") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDetectConfig_DefaultsAreDefaultOptions(t *testing.T) {
	o, err := DefaultDetectConfig().Options()
	if err != nil || o != DefaultOptions() {
		t.Fatalf("%+v, %v; want %+v", o, err, DefaultOptions())
	}
	if d := DefaultConfig().Defaults; d != DefaultOptions() {
		t.Fatalf("DefaultConfig().Defaults = %+v", d)
	}
}

func TestParseOptionsWith_DaemonDefaults(t *testing.T) {
	c := DefaultDetectConfig()
	c.MaxAnoms, c.Direction, c.Period, c.History, c.Emit = 0.02, "both", Duration(time.Hour), Duration(24*time.Hour), "all"
	defaults, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParseOptionsWith(defaults, []*udfpb.Option{opt("field", str("value"))})
	if err != nil {
		t.Fatal(err)
	}
	if o.Detect.MaxAnoms != 0.02 || o.Detect.Direction != detect.Both || o.Period != time.Hour || o.History != 24*time.Hour || o.Emit != EmitAll || o.Field != "value" {
		t.Errorf("defaults not applied: %+v", o)
	}
	o, err = ParseOptionsWith(defaults, []*udfpb.Option{opt("field", str("value")), opt("maxAnoms", dbl(0.05)), opt("emit", str("new"))})
	if err != nil || o.Detect.MaxAnoms != 0.05 || o.Emit != EmitNew || o.Detect.Direction != detect.Both {
		t.Errorf("the task's options do not override the defaults: %+v, %v", o, err)
	}
	if _, err := ParseOptionsWith(defaults, nil); err == nil || !strings.Contains(err.Error(), "field: required") {
		t.Errorf("field has no default: %v", err)
	}
	_, err = ParseOptionsWith(defaults, []*udfpb.Option{opt("field", str("value")), opt("period", dur(24*time.Hour))})
	if err == nil || !strings.Contains(err.Error(), "the history is anomalyd's default, detect.history") {
		t.Errorf("a task's period against the daemon's history: %v", err)
	}
}

func TestDuration_Set(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"1d", 24 * time.Hour, "1d"}, {"2w", 14 * 24 * time.Hour, "2w"}, {"14d", 14 * 24 * time.Hour, "2w"},
		{"90m", 90 * time.Minute, "90m"}, {"36h", 36 * time.Hour, "36h"}, {"1h30m", 90 * time.Minute, "90m"},
		{"0s", 0, "0s"}, {"0", 0, "0s"}, {"1.5s", 1500 * time.Millisecond, "1.5s"},
	} {
		var d Duration
		if err := d.Set(tc.in); err != nil || time.Duration(d) != tc.want || d.String() != tc.str {
			t.Errorf("%q: %v (%s), %v; want %v (%s)", tc.in, time.Duration(d), d, err, tc.want, tc.str)
		}
	}
	for _, bad := range []string{"", "d", "1y", "1.5d", "w2", "1dd"} {
		var d Duration
		if err := d.Set(bad); err == nil {
			t.Errorf("%q accepted as %s", bad, d)
		}
	}
}

func TestHistogram_Read(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{500 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Second, time.Minute} {
		h.Observe(d)
	}
	bounds, cum, count, sum := h.Read()
	if count != 5 || len(bounds) != len(cum) {
		t.Fatalf("count %d, %d bounds, %d buckets", count, len(bounds), len(cum))
	}
	want := map[float64]uint64{0.001: 2, 0.0025: 2, 0.005: 3, 1: 3, 2.5: 4, 30: 4}
	for i, b := range bounds {
		if w, ok := want[b]; ok && cum[i] != w {
			t.Errorf("le %v: %d, want %d", b, cum[i], w)
		}
	}
	if wantSum := 62.0045; sum < wantSum-1e-9 || sum > wantSum+1e-9 {
		t.Errorf("sum %v, want %v", sum, wantSum)
	}
	bounds[0] = 99 // a copy: the histogram's bounds stay
	if b, _, _, _ := h.Read(); b[0] != 0.001 {
		t.Error("Read returned the histogram's own bounds")
	}
}

// paramsDetector records the parameters of each run.
type paramsDetector struct {
	mu     sync.Mutex
	params []detect.Params
}

func (d *paramsDetector) Ts(dst []detect.Anomaly, _ []int64, _ []float64, p detect.Params) ([]detect.Anomaly, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.params = append(d.params, p)
	return dst, nil
}

// TestServer_NodesAndGauges: a task node is listed, with its counters,
// while its connection lasts; the server's gauges follow the store; the
// daemon-wide defaults reach its detections.
func TestServer_NodesAndGauges(t *testing.T) {
	det := &paramsDetector{}
	cfg := DefaultConfig()
	cfg.Defaults.Detect.MaxAnoms = 0.03
	srv := newTestServer(t, cfg, fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	c.batch("host=a", hostA, hourly(t0, 24, spikeAt(3)))
	c.batch("host=b", map[string]string{"host": "b"}, hourly(t0, 10, spikeAt(3)))
	c.send(&udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}})
	if r := c.recv(5 * time.Second); r.GetSnapshot() == nil {
		t.Fatalf("want the snapshot, got %v", r)
	}
	var nodes []Node
	srv.Nodes(func(n Node) { nodes = append(nodes, n) })
	if len(nodes) != 1 || nodes[0].Task != "cpu_anomalies" || nodes[0].Node != "anomaly2" || nodes[0].Conn == 0 {
		t.Fatalf("nodes %+v", nodes)
	}
	ns, st := nodes[0].Stats, srv.Stats()
	if ns.BatchesIn.Load() != 2 || ns.PointsIn.Load() != 34 || ns.Groups.Load() != 2 || ns.PointsStored.Load() != 34 || ns.Detections.Load() != 2 {
		t.Errorf("node stats: batches %d points %d groups %d stored %d detections %d", ns.BatchesIn.Load(), ns.PointsIn.Load(),
			ns.Groups.Load(), ns.PointsStored.Load(), ns.Detections.Load())
	}
	if st.NodesActive.Load() != 1 || st.GroupsActive.Load() != 2 || st.PointsStored.Load() != 34 {
		t.Errorf("server gauges: nodes %d groups %d stored %d", st.NodesActive.Load(), st.GroupsActive.Load(), st.PointsStored.Load())
	}
	if _, _, n, _ := st.DetectionSeconds.Read(); n != st.Detections.Load() || n != 2 {
		t.Errorf("%d durations for %d detections", n, st.Detections.Load())
	}
	det.mu.Lock()
	for _, p := range det.params {
		if p.MaxAnoms != 0.03 {
			t.Errorf("detection ran with maxAnoms %v, want the daemon's default 0.03", p.MaxAnoms)
		}
	}
	det.mu.Unlock()

	// A second batch of group a, overlapping the first: stored points
	// count each time once.
	c.batch("host=a", hostA, hourly(t0+12*hour, 24, spikeAt(3)))
	c.send(&udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}})
	c.recv(5 * time.Second)
	if n := st.PointsStored.Load(); n != 36+10 {
		t.Errorf("stored points %d after an overlapping batch, want 46", n)
	}

	c.closeWrite()
	if err := c.wait(); err != nil {
		t.Fatal(err)
	}
	nodes = nil
	srv.Nodes(func(n Node) { nodes = append(nodes, n) })
	if len(nodes) != 0 || st.NodesActive.Load() != 0 || st.GroupsActive.Load() != 0 || st.PointsStored.Load() != 0 {
		t.Errorf("after the end: nodes %v, gauges %d %d %d", nodes, st.NodesActive.Load(), st.GroupsActive.Load(), st.PointsStored.Load())
	}
}

// TestSession_LogFields: every session line carries conn, task and node
// (after init), and the group where one applies.
func TestSession_LogFields(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	srv := NewServer(DefaultConfig(), fixed(&spikeDetector{}), zap.New(core))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	c.send(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: "host=a", Tags: hostA, Size: 2}}})
	c.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{Time: t0, Group: "host=a", Tags: hostA, FieldsDouble: map[string]float64{"other": 1}}}})
	c.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{Time: t0 + hour, Group: "host=a", Tags: hostA, FieldsDouble: map[string]float64{"value": 1}}}})
	c.send(&udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu", Group: "host=a", Tags: hostA, Tmax: t0 + hour}}})
	// A protocol error inside the next batch ends the connection.
	c.send(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: "host=b", Size: 1}}})
	c.send(&udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}})
	c.sendFrame([]byte{0xff})
	c.recvAll(10 * time.Second)
	c.wait()

	want := map[string][]string{
		"task node initialised": {"conn", "task", "node"},
		"point skipped":         {"conn", "task", "node", "group"},
		"skipped bad points":    {"conn", "task", "node", "group"},
		"connection ended":      {"conn", "task", "node", "group"},
	}
	for msg, keys := range want {
		entries := logs.FilterMessage(msg).All()
		if len(entries) == 0 {
			t.Errorf("no log line %q", msg)
			continue
		}
		for _, e := range entries {
			fields := e.ContextMap()
			for _, k := range keys {
				if _, ok := fields[k]; !ok {
					t.Errorf("%q has no %s: %v", msg, k, fields)
				}
			}
		}
	}
	for _, e := range logs.All() {
		if _, ok := e.ContextMap()["conn"]; !ok {
			t.Errorf("session line without conn: %q %v", e.Message, e.ContextMap())
		}
	}
}
