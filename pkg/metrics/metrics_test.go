package metrics

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/agent"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// kapacitor plays Kapacitor on one connection.
type kapacitor struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, path string) *kapacitor {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &kapacitor{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (k *kapacitor) send(r *udfpb.Request) {
	k.t.Helper()
	b, err := proto.Marshal(r)
	if err != nil {
		k.t.Fatal(err)
	}
	if _, err := k.conn.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...)); err != nil {
		k.t.Fatal(err)
	}
}

// recv returns the next response, or nil at EOF.
func (k *kapacitor) recv() *udfpb.Response {
	k.t.Helper()
	k.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := binary.ReadUvarint(k.r)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		k.t.Fatalf("read: %v", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(k.r, b); err != nil {
		k.t.Fatal(err)
	}
	var resp udfpb.Response
	if err := proto.Unmarshal(b, &resp); err != nil {
		k.t.Fatal(err)
	}
	return &resp
}

func (k *kapacitor) init(task string) {
	k.t.Helper()
	k.send(&udfpb.Request{Message: &udfpb.Request_Init{Init: &udfpb.InitRequest{
		TaskID: task, NodeID: "anomaly2",
		Options: []*udfpb.Option{{Name: "field", Values: []*udfpb.OptionValue{{Value: &udfpb.OptionValue_StringValue{StringValue: "value"}}}}},
	}}})
	if r := k.recv().GetInit(); r == nil || !r.Success {
		k.t.Fatalf("init: %v", r)
	}
}

// batch sends five days of an hourly daily cycle with one spike; S-H-ESD
// finds the spike.
func (k *kapacitor) batch(host string) {
	const hour = int64(time.Hour)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	group := "host=" + host
	tags := map[string]string{"host": host}
	k.send(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: group, Tags: tags, Size: 120}}})
	for h := range int64(120) {
		v := 100 + 20*math.Sin(2*math.Pi*float64(h)/24) + float64(h*7919%5)
		if h == 100 {
			v += 300
		}
		k.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{
			Time: t0 + h*hour, Name: "cpu", Group: group, Tags: tags, FieldsDouble: map[string]float64{"value": v},
		}}})
	}
	// One point without the field: dropped as missing_field.
	k.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{
		Time: t0 + 120*hour, Name: "cpu", Group: group, Tags: tags, FieldsDouble: map[string]float64{"other": 1},
	}}})
	k.send(&udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu", Group: group, Tmax: t0 + 120*hour, Tags: tags}}})
}

// serve runs an agent.Server on a socket in a temporary directory.
func serve(t *testing.T) (*agent.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "anomalyd.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := agent.NewServer(agent.DefaultConfig(), nil, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return srv, path
}

// scrape fetches path from h and returns the status and body.
func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func parse(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return mf
}

// value returns the value of the family's series whose labels include
// the given pairs, and false if there is none.
func value(mf map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := mf[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			ok := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					ok = true
				}
			}
			if !ok {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestHandler_MetricsAfterSession runs a real session over a socket
// (Init, one batch, detection) and checks that /metrics shows it.
func TestHandler_MetricsAfterSession(t *testing.T) {
	srv, path := serve(t)
	h := Handler(NewRegistry(srv, Config{MetricsTaskLabels: true}, "v1.2.3"), func() error { return nil })

	_, body := scrape(t, h, "/metrics")
	before := parse(t, body)
	for _, name := range []string{"anomalyd_points_received_total", "anomalyd_detections_total", "anomalyd_anomalies_emitted_total"} {
		if v, ok := value(before, name); !ok || v != 0 {
			t.Errorf("%s before any session = %v, %v; want 0", name, v, ok)
		}
	}

	k := dial(t, path)
	k.init("cpu_anomalies")
	k.batch("a")
	var emitted int
	k.send(&udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}})
	for {
		r := k.recv()
		if r.GetPoint() != nil {
			emitted++
			continue
		}
		if r.GetSnapshot() == nil {
			t.Fatalf("unexpected %v", r)
		}
		break // the snapshot comes after the batch's detection
	}
	if emitted == 0 {
		t.Fatal("no anomaly emitted; the metrics below would not move")
	}

	code, body := scrape(t, h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	mf := parse(t, body)
	want := []struct {
		name   string
		labels []string
		v      float64
	}{
		{"anomalyd_connections_open", nil, 1},
		{"anomalyd_connections_total", nil, 1},
		{"anomalyd_task_nodes_running", nil, 1},
		{"anomalyd_groups", nil, 1},
		{"anomalyd_stored_points", nil, 120},
		{"anomalyd_batches_received_total", nil, 1},
		{"anomalyd_points_received_total", nil, 121},
		{"anomalyd_points_dropped_total", []string{"reason", "missing_field"}, 1},
		{"anomalyd_points_dropped_total", []string{"reason", "queue_full"}, 0},
		{"anomalyd_detections_total", nil, 1},
		{"anomalyd_detection_duration_seconds", nil, 1},
		{"anomalyd_anomalies_emitted_total", nil, float64(emitted)},
		{"anomalyd_snapshots_taken_total", nil, 1},
		{"anomalyd_snapshots_restored_total", nil, 0},
		{"anomalyd_restores_dropped_total", nil, 0},
		{"anomalyd_frames_rejected_total", []string{"reason", "protocol_error"}, 0},
		{"anomalyd_build_info", []string{"version", "v1.2.3"}, 1},
		{"anomalyd_node_points_received_total", []string{"task", "cpu_anomalies", "node", "anomaly2"}, 121},
		{"anomalyd_node_points_dropped_total", []string{"task", "cpu_anomalies", "node", "anomaly2"}, 1},
		{"anomalyd_node_anomalies_emitted_total", []string{"task", "cpu_anomalies", "node", "anomaly2"}, float64(emitted)},
		{"anomalyd_node_groups", []string{"task", "cpu_anomalies", "node", "anomaly2"}, 1},
		{"anomalyd_node_stored_points", []string{"task", "cpu_anomalies", "node", "anomaly2"}, 120},
	}
	for _, w := range want {
		if v, ok := value(mf, w.name, w.labels...); !ok || v != w.v {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, v, ok, w.v)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if mf[name] == nil {
			t.Errorf("%s missing: the Go and process collectors are registered", name)
		}
	}
	if f := mf["anomalyd_detection_duration_seconds"]; f.GetType() != dto.MetricType_HISTOGRAM || len(f.GetMetric()[0].GetHistogram().GetBucket()) < 10 {
		t.Errorf("detection duration is not a histogram with buckets: %v", f)
	}
	for name, f := range mf {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "group" || l.GetName() == "host" {
					t.Errorf("%s has a per-group label %s", name, l.GetName())
				}
			}
		}
	}

	// The half-close ends the task node: its gauges go back to zero and
	// its labelled series disappear.
	k.conn.(*net.UnixConn).CloseWrite()
	if r := k.recv(); r != nil {
		t.Fatalf("after the half-close: %v", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().ConnsClosed.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	_, body = scrape(t, h, "/metrics")
	mf = parse(t, body)
	for _, name := range []string{"anomalyd_connections_open", "anomalyd_task_nodes_running", "anomalyd_groups", "anomalyd_stored_points"} {
		if v, _ := value(mf, name); v != 0 {
			t.Errorf("%s = %v after the connection ended, want 0", name, v)
		}
	}
	if v, _ := value(mf, "anomalyd_points_received_total"); v != 121 {
		t.Errorf("points_received_total = %v after the connection ended, want 121 (counters stay)", v)
	}
	if f := mf["anomalyd_node_points_received_total"]; f != nil {
		t.Errorf("task node series left after its connection ended: %v", f)
	}
}

// TestHandler_NoTaskLabelsByDefault: without MetricsTaskLabels no series
// carries a task or node label.
func TestHandler_NoTaskLabelsByDefault(t *testing.T) {
	srv, path := serve(t)
	h := Handler(NewRegistry(srv, DefaultConfig(), "dev"), func() error { return nil })
	k := dial(t, path)
	k.init("t1")
	_, body := scrape(t, h, "/metrics")
	mf := parse(t, body)
	if v, _ := value(mf, "anomalyd_task_nodes_running"); v != 1 {
		t.Fatalf("task_nodes_running = %v, want 1", v)
	}
	for name := range mf {
		if strings.HasPrefix(name, "anomalyd_node_") {
			t.Errorf("%s exported without metrics_task_labels", name)
		}
	}
}

// TestHandler_Health: /healthz always answers 200; /readyz follows ready.
func TestHandler_Health(t *testing.T) {
	var notReady error = errors.New("the UDF socket is not accepting connections")
	h := Handler(NewRegistry(fakeSource{}, DefaultConfig(), "dev"), func() error { return notReady })
	if code, body := scrape(t, h, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := scrape(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not accepting") {
		t.Errorf("/readyz not ready = %d %q", code, body)
	}
	notReady = nil
	if code, body := scrape(t, h, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz ready = %d %q", code, body)
	}
	if code, _ := scrape(t, h, "/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing = %d", code)
	}
}

type fakeSource struct{}

func (fakeSource) Stats() *agent.Stats    { return new(agent.Stats) }
func (fakeSource) Nodes(func(agent.Node)) {}
func (fakeSource) DetectionsRunning() int { return 0 }

func TestConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"", true},
		{"127.0.0.1:9101", true},
		{":9101", true},
		{"[::1]:0", true},
		{"localhost", false},
		{"127.0.0.1:http", false},
		{"127.0.0.1:70000", false},
	} {
		err := Config{Addr: tc.addr}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("addr %q: %v", tc.addr, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "addr: ") {
			t.Errorf("addr %q: error does not start with the key: %v", tc.addr, err)
		}
	}
}
