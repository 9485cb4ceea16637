package agent

import (
	"bufio"
	"context"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/detect"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// halfConn is one end of an in-process, full-duplex pipe that supports
// half-close (CloseWrite), as Kapacitor's Unix socket does.
type halfConn struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func (c *halfConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *halfConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *halfConn) CloseWrite() error           { return c.w.Close() }
func (c *halfConn) CloseRead() error            { return c.r.Close() }
func (c *halfConn) Close() error {
	c.w.Close()
	return c.r.Close()
}

func halfPipe() (a, b *halfConn) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return &halfConn{ar, aw}, &halfConn{br, bw}
}

// client plays Kapacitor.
type client struct {
	t        testing.TB
	conn     io.ReadWriteCloser
	mu       sync.Mutex
	resps    chan *udfpb.Response
	finished chan struct{} // closed when ServeConn returned, if startSession started it
	err      error         // ServeConn's result
}

// wait waits for ServeConn to return and returns its error.
func (c *client) wait() error {
	c.t.Helper()
	select {
	case <-c.finished:
		return c.err
	case <-time.After(20 * time.Second):
		c.t.Fatal("session did not end")
	}
	return nil
}

func newClient(t testing.TB, conn io.ReadWriteCloser) *client {
	c := &client{t: t, conn: conn, resps: make(chan *udfpb.Response, 100000)}
	go func() {
		defer close(c.resps)
		br := bufio.NewReader(conn)
		for {
			f, err := readFrame(br, nil, 1<<30)
			if err != nil {
				return
			}
			r := new(udfpb.Response)
			if err := proto.Unmarshal(f, r); err != nil {
				t.Errorf("undecodable response: %v", err)
				return
			}
			c.resps <- r
		}
	}()
	return c
}

// startSession serves one in-process connection and returns its client.
func startSession(t testing.TB, srv *Server) *client {
	t.Helper()
	a, b := halfPipe()
	c := newClient(t, a)
	c.finished = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(c.finished)
		c.err = srv.ServeConn(ctx, b)
	}()
	// The session must be gone before the test ends: it logs to t.
	t.Cleanup(func() {
		cancel()
		a.Close()
		c.wait()
	})
	return c
}

func newTestServer(t testing.TB, cfg Config, det func() Detector) *Server {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var log *zap.Logger
	if tt, ok := t.(*testing.T); ok {
		log = zaptest.NewLogger(tt, zaptest.Level(zap.InfoLevel))
	} else {
		log = zap.NewNop()
	}
	return NewServer(cfg, det, log)
}

func (c *client) send(r *udfpb.Request) {
	c.t.Helper()
	b, err := proto.Marshal(r)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendFrame(b)
}

func (c *client) sendFrame(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := writeFrame(c.conn, b); err != nil {
		c.t.Errorf("send: %v", err)
	}
}

func (c *client) sendRaw(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Errorf("send raw: %v", err)
	}
}

func (c *client) closeWrite() {
	c.t.Helper()
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok {
		c.t.Fatal("connection cannot half-close")
	}
	if err := cw.CloseWrite(); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next response, failing after timeout.
func (c *client) recv(timeout time.Duration) *udfpb.Response {
	c.t.Helper()
	select {
	case r, ok := <-c.resps:
		if !ok {
			c.t.Fatal("connection closed, expected a response")
		}
		return r
	case <-time.After(timeout):
		c.t.Fatalf("no response within %s", timeout)
	}
	return nil
}

// recvAll returns every response until the daemon closes the connection.
func (c *client) recvAll(timeout time.Duration) []*udfpb.Response {
	c.t.Helper()
	var out []*udfpb.Response
	deadline := time.After(timeout)
	for {
		select {
		case r, ok := <-c.resps:
			if !ok {
				return out
			}
			out = append(out, r)
		case <-deadline:
			c.t.Fatalf("connection not closed within %s (got %d responses)", timeout, len(out))
		}
	}
}

// expectClosed waits until the daemon closes the connection, with no more
// responses.
func (c *client) expectClosed(timeout time.Duration) {
	c.t.Helper()
	if rs := c.recvAll(timeout); len(rs) > 0 {
		c.t.Fatalf("unexpected responses before close: %v", rs)
	}
}

func (c *client) initOK(opts ...*udfpb.Option) {
	c.t.Helper()
	c.send(initReq(opts...))
	r := c.recv(5 * time.Second).GetInit()
	if r == nil || !r.Success {
		c.t.Fatalf("init failed: %v", r)
	}
}

func (c *client) keepalive(ts int64) time.Duration {
	c.t.Helper()
	start := time.Now()
	c.send(&udfpb.Request{Message: &udfpb.Request_Keepalive{Keepalive: &udfpb.KeepaliveRequest{Time: ts}}})
	for {
		r := c.recv(10 * time.Second)
		if ka := r.GetKeepalive(); ka != nil {
			if ka.Time != ts {
				c.t.Fatalf("keepalive echo %d, want %d", ka.Time, ts)
			}
			return time.Since(start)
		}
		c.t.Fatalf("expected keepalive, got %v", r)
	}
}

func (c *client) snapshot() []byte {
	c.t.Helper()
	c.send(&udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}})
	r := c.recv(10 * time.Second).GetSnapshot()
	if r == nil || len(r.Snapshot) == 0 {
		c.t.Fatalf("bad snapshot response %v", r)
	}
	return r.Snapshot
}

func (c *client) restore(blob []byte) *udfpb.RestoreResponse {
	c.t.Helper()
	c.send(&udfpb.Request{Message: &udfpb.Request_Restore{Restore: &udfpb.RestoreRequest{Snapshot: blob}}})
	r := c.recv(10 * time.Second).GetRestore()
	if r == nil {
		c.t.Fatal("no restore response")
	}
	return r
}

// pt is a test point.
type pt struct {
	t    int64
	v    float64
	tags map[string]string
}

// batch sends one batch of group g (name "cpu", group tags gtags).
func (c *client) batch(g string, gtags map[string]string, pts []pt) {
	c.t.Helper()
	c.send(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{
		Name: "cpu", Group: g, Tags: gtags, Size: int64(len(pts)), ByName: false}}})
	for _, p := range pts {
		tags := p.tags
		if tags == nil {
			tags = gtags
		}
		c.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{
			Time: p.t, Group: g, Tags: tags, FieldsDouble: map[string]float64{"value": p.v}}}})
	}
	c.send(&udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{
		Name: "cpu", Group: g, Tags: gtags, Tmax: pts[len(pts)-1].t}}})
}

func initReq(opts ...*udfpb.Option) *udfpb.Request {
	return &udfpb.Request{Message: &udfpb.Request_Init{Init: &udfpb.InitRequest{
		Options: opts, TaskID: "cpu_anomalies", NodeID: "anomaly2"}}}
}

func opt(name string, vals ...*udfpb.OptionValue) *udfpb.Option {
	return &udfpb.Option{Name: name, Values: vals}
}

func str(s string) *udfpb.OptionValue {
	return &udfpb.OptionValue{Type: udfpb.ValueType_STRING, Value: &udfpb.OptionValue_StringValue{StringValue: s}}
}
func dur(d time.Duration) *udfpb.OptionValue {
	return &udfpb.OptionValue{Type: udfpb.ValueType_DURATION, Value: &udfpb.OptionValue_DurationValue{DurationValue: int64(d)}}
}
func dbl(x float64) *udfpb.OptionValue {
	return &udfpb.OptionValue{Type: udfpb.ValueType_DOUBLE, Value: &udfpb.OptionValue_DoubleValue{DoubleValue: x}}
}
func intv(x int64) *udfpb.OptionValue {
	return &udfpb.OptionValue{Type: udfpb.ValueType_INT, Value: &udfpb.OptionValue_IntValue{IntValue: x}}
}
func boolv(x bool) *udfpb.OptionValue {
	return &udfpb.OptionValue{Type: udfpb.ValueType_BOOL, Value: &udfpb.OptionValue_BoolValue{BoolValue: x}}
}

// spikeDetector is a fake S-H-ESD: every value ≥ 100 is an anomaly
// (expected 0, score = value/10); fewer than minPoints points means
// "wait". It records the series it saw.
type spikeDetector struct {
	minPoints int
	mu        sync.Mutex
	seen      [][]int64
	panicAt   float64
	sleep     time.Duration
	spin      time.Duration // burn CPU this long, like a real detection
}

func (d *spikeDetector) Ts(dst []detect.Anomaly, times []int64, values []float64, _ detect.Params) ([]detect.Anomaly, error) {
	d.mu.Lock()
	d.seen = append(d.seen, append([]int64(nil), times...))
	d.mu.Unlock()
	time.Sleep(d.sleep)
	for start := time.Now(); time.Since(start) < d.spin; {
	}
	if len(times) < d.minPoints {
		return dst, detect.ErrTooFewPeriods
	}
	// Report in reverse time order, as R's order is not time order.
	for i := len(values) - 1; i >= 0; i-- {
		if d.panicAt != 0 && values[i] == d.panicAt {
			panic("boom")
		}
		if values[i] >= 100 {
			dst = append(dst, detect.Anomaly{Index: i, Time: times[i], Value: values[i], Expected: 0, Score: values[i] / 10})
		}
	}
	return dst, nil
}

func (d *spikeDetector) lastSeen() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.seen) == 0 {
		return nil
	}
	return d.seen[len(d.seen)-1]
}

func fixed(d Detector) func() Detector { return func() Detector { return d } }

// realDetectorOrSkip skips the test while pkg/detect is a stub.
func realDetectorOrSkip(t testing.TB) {
	t.Helper()
	var d detect.Detector
	times := make([]int64, 100)
	values := make([]float64, 100)
	for i := range times {
		times[i] = int64(i) * int64(time.Hour)
		values[i] = math.Sin(float64(i))
	}
	_, err := d.Ts(nil, times, values, detect.DefaultParams())
	if err != nil && strings.Contains(err.Error(), "not implemented") {
		t.Skip("pkg/detect's Ts is not implemented yet")
	}
}

// unixPair serves srv on a socket in t.TempDir and returns a dialer.
func unixServer(t testing.TB, srv *Server) (dial func() *client, stop func()) {
	t.Helper()
	path := t.TempDir() + "/anomalyd.sock"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() { once.Do(func() { stopServer(t, cancel, done) }) }
	t.Cleanup(stop)
	dial = func() *client {
		conn, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return newClient(t, conn)
	}
	return dial, stop
}

func stopServer(t testing.TB, cancel func(), done chan error) {
	{
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not return")
		}
	}
}

func zapNop() *zap.Logger { return zap.NewNop() }
