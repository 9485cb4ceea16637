package main

// Helpers of the tests that run the built daemon and talk to it as
// Kapacitor does.

import (
	"bufio"
	"bytes"
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
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

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
