package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/agent"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// proc is a running `anomalyd serve`, its JSON log lines collected.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	socket string
	http   string // host:port, if --http-addr was given

	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
	more  chan struct{} // signalled on every new line
	done  chan error
}

// startServe runs the built daemon on a socket in a temporary directory
// and waits until it serves.
func startServe(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, socket: filepath.Join(t.TempDir(), "anomalyd.sock"), more: make(chan struct{}, 1), done: make(chan error, 1)}
	p.cmd = exec.Command(buildDaemon(t), append([]string{"serve", "--socket", p.socket}, args...)...)
	p.cmd.Env = append(os.Environ(), "ANOMALYD_LOG_FORMAT=json")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			_ = json.Unmarshal(sc.Bytes(), &m)
			p.mu.Lock()
			p.raw.Write(sc.Bytes())
			p.raw.WriteByte('\n')
			if m != nil {
				p.lines = append(p.lines, m)
			}
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", p.log())
		}
	})
	serving := p.waitLog("serving", 10*time.Second)
	if a, ok := serving["http"].(string); ok {
		p.http = a
	}
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// waitLog waits for a log line with the message msg and returns it.
func (p *proc) waitLog(msg string, timeout time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		p.mu.Lock()
		lines := p.lines[seen:]
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if l["msg"] == msg {
				return l
			}
		}
		select {
		case <-p.more:
		case <-deadline:
			p.t.Fatalf("no log line %q within %s", msg, timeout)
		}
	}
}

// logLines returns the log lines with the message msg.
func (p *proc) logLines(msg string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// wait waits for the daemon to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		p.t.Fatalf("daemon did not exit within %s", timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// get fetches a path of the daemon's HTTP listener.
func (p *proc) get(path string) (int, string) {
	p.t.Helper()
	resp, err := http.Get("http://" + p.http + path)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of an unlabelled sample (or of the sample with
// the given label text, e.g. `reason="missing_field"`) in /metrics.
func (p *proc) metric(name, labels string) float64 {
	p.t.Helper()
	_, body := p.get("/metrics")
	prefix := name + " "
	if labels != "" {
		prefix = name + "{" + labels + "} "
	}
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				p.t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	p.t.Fatalf("no sample %s{%s} in /metrics:\n%s", name, labels, body)
	return 0
}

// udfClient plays Kapacitor on one connection.
type udfClient struct {
	t    *testing.T
	conn *net.UnixConn
	r    *bufio.Reader
}

func dialUDF(t *testing.T, path string) *udfClient {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &udfClient{t: t, conn: conn.(*net.UnixConn), r: bufio.NewReaderSize(conn, 1<<16)}
}

// frame appends r as a frame to dst.
func frame(t *testing.T, dst []byte, r *udfpb.Request) []byte {
	t.Helper()
	opts := proto.MarshalOptions{Deterministic: true}
	dst = binary.AppendUvarint(dst, uint64(opts.Size(r)))
	dst, err := opts.MarshalAppend(dst, r)
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func (c *udfClient) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next response, nil at EOF.
func (c *udfClient) recv(timeout time.Duration) *udfpb.Response {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	n, err := binary.ReadUvarint(c.r)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.t.Fatal(err)
	}
	var resp udfpb.Response
	if err := proto.Unmarshal(b, &resp); err != nil {
		c.t.Fatal(err)
	}
	return &resp
}

func (c *udfClient) init(task string, opts ...*udfpb.Option) {
	c.t.Helper()
	opts = append(opts, &udfpb.Option{Name: "field", Values: []*udfpb.OptionValue{{Value: &udfpb.OptionValue_StringValue{StringValue: "value"}}}})
	c.write(frame(c.t, nil, &udfpb.Request{Message: &udfpb.Request_Init{Init: &udfpb.InitRequest{TaskID: task, NodeID: "anomaly2", Options: opts}}}))
	if r := c.recv(10 * time.Second).GetInit(); r == nil || !r.Success {
		c.t.Fatalf("init: %v", r)
	}
}

// appendBatch appends one batch of group host=HOST: n points every step
// from t0 of a daily cycle, with a spike at point spike, and one point
// without the field at the end (skipped as bad data).
func appendBatch(t *testing.T, dst []byte, host string, t0 int64, step time.Duration, n, spike int) []byte {
	group := "host=" + host
	tags := map[string]string{"host": host}
	dst = frame(t, dst, &udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: group, Tags: tags, Size: int64(n + 1)}}})
	perDay := float64(24 * time.Hour / step)
	var pt, req []byte
	for i := range n {
		v := 100 + 20*math.Sin(2*math.Pi*float64(i)/perDay) + float64(i*7919%5)
		if i == spike {
			v += 300
		}
		pt = appendPoint(pt[:0], t0+int64(i)*int64(step), "cpu", group, "host", host, "value", v)
		req = protowire.AppendTag(req[:0], 17, protowire.BytesType) // Request.point
		req = protowire.AppendBytes(req, pt)
		dst = protowire.AppendBytes(dst, req) // the frame: length, then the request
	}
	end := t0 + int64(n)*int64(step)
	dst = frame(t, dst, &udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{
		Time: end, Name: "cpu", Group: group, Tags: tags, FieldsString: map[string]string{"value": "n/a"},
	}}})
	return frame(t, dst, &udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu", Group: group, Tmax: end, Tags: tags}}})
}

// appendPoint encodes a udfpb.Point with one tag and one double field by
// hand: proto.Marshal is too slow under the race detector for the
// hundreds of thousands of points some tests send.
func appendPoint(dst []byte, ts int64, name, group, tagKey, tagValue, field string, value float64) []byte {
	entry := func(dst []byte, num protowire.Number, k string, v func([]byte) []byte) []byte {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendString(e, k)
		e = v(e)
		dst = protowire.AppendTag(dst, num, protowire.BytesType)
		return protowire.AppendBytes(dst, e)
	}
	dst = protowire.AppendTag(dst, 1, protowire.VarintType) // time
	dst = protowire.AppendVarint(dst, uint64(ts))
	dst = protowire.AppendTag(dst, 2, protowire.BytesType) // name
	dst = protowire.AppendString(dst, name)
	dst = protowire.AppendTag(dst, 5, protowire.BytesType) // group
	dst = protowire.AppendString(dst, group)
	dst = entry(dst, 7, tagKey, func(e []byte) []byte { // tags
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		return protowire.AppendString(e, tagValue)
	})
	return entry(dst, 8, field, func(e []byte) []byte { // fieldsDouble
		e = protowire.AppendTag(e, 2, protowire.Fixed64Type)
		return protowire.AppendFixed64(e, math.Float64bits(value))
	})
}

func TestAppendPoint(t *testing.T) {
	var got udfpb.Point
	if err := proto.Unmarshal(appendPoint(nil, 42, "cpu", "host=a", "host", "a", "value", 1.5), &got); err != nil {
		t.Fatal(err)
	}
	want := &udfpb.Point{Time: 42, Name: "cpu", Group: "host=a", Tags: map[string]string{"host": "a"}, FieldsDouble: map[string]float64{"value": 1.5}}
	if !proto.Equal(&got, want) {
		t.Fatalf("got %v, want %v", &got, want)
	}
}

var t0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// TestServe_HTTPEndpoints runs the daemon with --http-addr: /healthz and
// /readyz answer, /metrics counts a real session over the socket, and
// /readyz turns 503 when the socket file is removed.
func TestServe_HTTPEndpoints(t *testing.T) {
	p := startServe(t, "--http-addr", "127.0.0.1:0", "--metrics-task-labels")
	if p.http == "" {
		t.Fatal("the serving log line has no http address")
	}
	if code, body := p.get("/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := p.get("/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	if v := p.metric("anomalyd_points_received_total", ""); v != 0 {
		t.Fatalf("points before any session: %v", v)
	}

	c := dialUDF(t, p.socket)
	c.init("cpu_anomalies")
	// Five days of hourly points with one spike, then a snapshot request:
	// it is answered after the batch's detection.
	b := appendBatch(t, nil, "a", t0, time.Hour, 120, 100)
	c.write(frame(t, b, &udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}}))
	emitted := 0
	for {
		r := c.recv(10 * time.Second)
		if r.GetPoint() != nil {
			emitted++
			continue
		}
		if r.GetSnapshot() == nil {
			t.Fatalf("unexpected %v", r)
		}
		break
	}
	if emitted == 0 {
		t.Fatal("no anomaly emitted")
	}
	for _, m := range []struct {
		name, labels string
		want         float64
	}{
		{"anomalyd_connections_open", "", 1},
		{"anomalyd_task_nodes_running", "", 1},
		{"anomalyd_groups", "", 1},
		{"anomalyd_stored_points", "", 120},
		{"anomalyd_batches_received_total", "", 1},
		{"anomalyd_points_received_total", "", 121},
		{"anomalyd_points_dropped_total", `reason="non_numeric"`, 1},
		{"anomalyd_detections_total", "", 1},
		{"anomalyd_detection_duration_seconds_count", "", 1},
		{"anomalyd_anomalies_emitted_total", "", float64(emitted)},
		{"anomalyd_snapshots_taken_total", "", 1},
		{"anomalyd_node_points_received_total", `node="anomaly2",task="cpu_anomalies"`, 121},
	} {
		if got := p.metric(m.name, m.labels); got != m.want {
			t.Errorf("%s{%s} = %v, want %v", m.name, m.labels, got, m.want)
		}
	}
	if p.metric("process_open_fds", "") == 0 {
		t.Error("process collector missing")
	}

	// Every session line carries conn, task and node; batch lines the group.
	init := p.waitLog("task node initialised", time.Second)
	skipped := p.waitLog("skipped bad points", time.Second)
	for _, l := range []map[string]any{init, skipped} {
		for _, k := range []string{"conn", "task", "node"} {
			if l[k] == nil {
				t.Errorf("log line %q has no %s: %v", l["msg"], k, l)
			}
		}
	}
	if skipped["group"] != "host=a" || skipped["task"] != "cpu_anomalies" || skipped["node"] != "anomaly2" {
		t.Errorf("skipped-points line: %v", skipped)
	}

	if err := os.Remove(p.socket); err != nil {
		t.Fatal(err)
	}
	if code, body := p.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "is gone") {
		t.Errorf("/readyz without the socket file: %d %q", code, body)
	}
	if code, _ := p.get("/healthz"); code != 200 {
		t.Errorf("/healthz without the socket file: %d", code)
	}
	c.conn.CloseWrite()
	if r := c.recv(10 * time.Second); r != nil {
		t.Fatalf("after the half-close: %v", r)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// queueDetections gives the daemon groups histories of 7 days of
// minutely points and waits for their detections. Then it sends each group
// one more, anomalous, point in one write, and a keepalive, and waits for
// the keepalive's echo: the daemon has then read those points, each of
// which queued an S-H-ESD run over a 7-day history, and few of the runs
// can be done. It returns the time of the new points; their anomalies
// come later.
func queueDetections(t *testing.T, c *udfClient, groups int) int64 {
	t.Helper()
	const n = historyPoints
	b := histories(t, groups)
	c.exchange(frame(t, b, &udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}}), nil)

	next := t0 + (n+1)*int64(time.Minute)
	b = nil
	for g := range groups {
		host := "h" + strconv.Itoa(g)
		group, tags := "host="+host, map[string]string{"host": host}
		b = frame(t, b, &udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: group, Tags: tags, Size: 1}}})
		b = frame(t, b, &udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{
			Time: next, Name: "cpu", Group: group, Tags: tags, FieldsDouble: map[string]float64{"value": 1000},
		}}})
		b = frame(t, b, &udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu", Group: group, Tmax: next, Tags: tags}}})
	}
	early := make(map[string]int)
	c.exchange(frame(t, b, &udfpb.Request{Message: &udfpb.Request_Keepalive{Keepalive: &udfpb.KeepaliveRequest{Time: 42}}}), early)
	if len(early) == groups {
		t.Fatalf("every queued detection was done before the keepalive's echo: nothing would be in flight")
	}
	return next
}

const (
	historyPoints = 7 * 1440 // a week of minutely points per group
	maxGroups     = 24
)

// historyFrames caches the batches of queueDetections (encoding them is
// the slow part of the tests that use them): group g's batch ends at
// offsets[g].
var historyFrames struct {
	once    sync.Once
	b       []byte
	offsets []int
}

// histories returns the frames of the history batches of groups h0…
func histories(t *testing.T, groups int) []byte {
	t.Helper()
	if groups > maxGroups {
		t.Fatalf("at most %d groups", maxGroups)
	}
	h := &historyFrames
	h.once.Do(func() {
		for g := range maxGroups {
			h.b = appendBatch(t, h.b, "h"+strconv.Itoa(g), t0, time.Minute, historyPoints, historyPoints-100-g)
			h.offsets = append(h.offsets, len(h.b))
		}
	})
	return slices.Clip(h.b[:h.offsets[groups-1]])
}

// exchange writes b and reads responses up to the answer to b's last
// request (a snapshot or a keepalive), counting the anomalies of each host
// on the way in hosts, if not nil.
func (c *udfClient) exchange(b []byte, hosts map[string]int) {
	c.t.Helper()
	// Written aside: the socket buffer fills long before the daemon has
	// read everything, and it answers meanwhile.
	written := make(chan error, 1)
	go func() {
		_, err := c.conn.Write(b)
		written <- err
	}()
	for {
		r := c.recv(120 * time.Second)
		if r == nil {
			c.t.Fatal("connection closed before the answer")
		}
		if pt := r.GetPoint(); pt != nil && hosts != nil {
			hosts[pt.Tags["host"]]++
		}
		if r.GetKeepalive() != nil || r.GetSnapshot() != nil {
			break
		}
	}
	if err := <-written; err != nil {
		c.t.Fatal(err)
	}
}

// anomaliesAt reads until the daemon closes the connection and returns
// how many anomalies at time ts each host got.
func (c *udfClient) anomaliesAt(ts int64) map[string]int {
	c.t.Helper()
	hosts := make(map[string]int)
	for {
		r := c.recv(60 * time.Second)
		if r == nil {
			return hosts
		}
		if pt := r.GetPoint(); pt != nil && pt.Time == ts {
			hosts[pt.Tags["host"]]++
		}
	}
}

// TestServe_GracefulShutdown: on SIGTERM the daemon removes its socket at
// once, finishes the detections in flight and sends their anomalies,
// closes the connection and exits 0.
func TestServe_GracefulShutdown(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--max-detections", "1", "--shutdown-timeout", "60s")
	c := dialUDF(t, p.socket)
	c.init("cpu_anomalies")
	const groups = 12
	ts := queueDetections(t, c, groups)
	p.signal(syscall.SIGTERM)
	shutdown := p.waitLog("shutting down: socket closed and removed; waiting for connections to finish their work", 10*time.Second)
	if _, err := os.Lstat(p.socket); !os.IsNotExist(err) {
		t.Errorf("socket file still there during the shutdown: %v", err)
	}
	// Every queued detection runs and sends its anomaly; then the daemon
	// closes the connection.
	hosts := c.anomaliesAt(ts)
	if len(hosts) != groups {
		t.Errorf("anomalies of the new points of %d groups, want all %d: %v", len(hosts), groups, hosts)
	}
	t.Logf("at the signal: %v", shutdown)
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if _, err := os.Lstat(p.socket); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
	stopped := p.waitLog("stopped", time.Second)
	if stopped["anomalies_emitted"].(float64) < groups {
		t.Errorf("stopped: %v", stopped)
	}
}

// TestServe_ShutdownTimeout: work still queued when --shutdown-timeout
// passes is dropped; the daemon still exits 0, soon after the timeout.
func TestServe_ShutdownTimeout(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--max-detections", "1", "--shutdown-timeout", "200ms")
	c := dialUDF(t, p.socket)
	c.init("cpu_anomalies")
	const groups = 24
	ts := queueDetections(t, c, groups)
	start := time.Now()
	p.signal(syscall.SIGTERM)
	hosts := c.anomaliesAt(ts)
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if d := time.Since(start); d > 200*time.Millisecond+shutdownGrace {
		t.Errorf("exited %s after SIGTERM, more than the shutdown timeout and its grace", d)
	}
	if len(hosts) == groups {
		t.Logf("every detection finished within 200ms; the timeout was not exercised")
	}
}

// TestServe_SecondSignal: a second signal exits at once, mid-shutdown.
func TestServe_SecondSignal(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--max-detections", "1", "--shutdown-timeout", "60s")
	c := dialUDF(t, p.socket)
	c.init("cpu_anomalies")
	queueDetections(t, c, 24)
	p.signal(syscall.SIGTERM)
	p.waitLog("shutting down: socket closed and removed; waiting for connections to finish their work", 10*time.Second)
	start := time.Now()
	p.signal(syscall.SIGINT)
	if code := p.wait(10 * time.Second); code != 1 {
		t.Errorf("exit code %d after the second signal, want 1", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s to exit after the second signal", d)
	}
	if len(p.logLines("second signal, exiting without draining")) != 1 {
		t.Error("no log line for the second signal")
	}
}

// TestHealthCmd runs `anomalyd health` against a live daemon and against
// dead ones: exit 0 and non-zero with a clear message.
func TestHealthCmd(t *testing.T) {
	p := startServe(t)
	bin := buildDaemon(t)
	run := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"health"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := run(nil, "--socket", p.socket); code != 0 || !strings.Contains(out, "ok: anomalyd at "+p.socket+" answers info") {
		t.Errorf("live daemon: %d %q", code, out)
	}
	if code, out := run([]string{"ANOMALYD_SERVE_SOCKET=" + p.socket}); code != 0 {
		t.Errorf("socket from the environment: %d %q", code, out)
	}
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no socket file", []string{"--socket", filepath.Join(dir, "none.sock")}, "does not exist: is anomalyd serve running"},
		{"stale socket", []string{"--socket", stale}, "connection refused: no daemon listens there"},
		{"no socket given", nil, "no socket: give --socket PATH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(nil, tc.args...)
			if code == 0 || !strings.Contains(out, tc.want) {
				t.Errorf("%d %q, want non-zero and %q", code, out, tc.want)
			}
		})
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if code, out := run(nil, "--socket", p.socket); code == 0 || !strings.Contains(out, "does not exist") {
		t.Errorf("stopped daemon: %d %q", code, out)
	}
}

// TestProbe covers the answers that are not anomalyd's and a daemon that
// does not answer, in process.
func TestProbe(t *testing.T) {
	dir := t.TempDir()
	serveOnce := func(name string, answer func(conn net.Conn)) string {
		path := filepath.Join(dir, name)
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer conn.Close()
					answer(conn)
				}()
			}
		}()
		return path
	}
	silent := serveOnce("silent.sock", func(conn net.Conn) { io.Copy(io.Discard, conn) })
	garbage := serveOnce("garbage.sock", func(conn net.Conn) {
		io.ReadFull(conn, make([]byte, 3)) // the info request's frame
		conn.Write([]byte{3, 0xff, 0xff, 0xff})
	})
	wrongEdges := serveOnce("edges.sock", func(conn net.Conn) {
		io.ReadFull(conn, make([]byte, 3))
		b, _ := proto.Marshal(&udfpb.Response{Message: &udfpb.Response_Info{Info: &udfpb.InfoResponse{Wants: udfpb.EdgeType_STREAM, Provides: udfpb.EdgeType_BATCH}}})
		conn.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...))
	})
	srv := agent.NewServer(agent.DefaultConfig(), nil, zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)))
	live := filepath.Join(dir, "live.sock")
	ln, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()

	for _, tc := range []struct {
		path, want string
	}{
		{live, ""},
		{silent, "no answer to info within 300ms"},
		{garbage, "not anomalyd's answer"},
		{wrongEdges, "wants STREAM and provides BATCH"},
	} {
		err := probe(context.Background(), tc.path, 300*time.Millisecond)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", filepath.Base(tc.path), err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}
