package agent

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

const (
	minute = int64(time.Minute)
	hour   = int64(time.Hour)
	t0     = int64(1700000000) * int64(time.Second) // some Tuesday in 2023, on a minute
)

var hostA = map[string]string{"host": "a"}

// hourly returns n hourly points from start with value f(i).
func hourly(start int64, n int, f func(i int) float64) []pt {
	pts := make([]pt, n)
	for i := range pts {
		pts[i] = pt{t: start + int64(i)*hour, v: f(i)}
	}
	return pts
}

// spikeAt returns a value function with 100+i at the given indices.
func spikeAt(idx ...int) func(int) float64 {
	return func(i int) float64 {
		if slices.Contains(idx, i) {
			return 100 + float64(i)
		}
		return float64(i % 7)
	}
}

func points(t *testing.T, rs []*udfpb.Response) []*udfpb.Point {
	t.Helper()
	var out []*udfpb.Point
	for _, r := range rs {
		p := r.GetPoint()
		if p == nil {
			t.Fatalf("expected only points, got %v", r)
		}
		out = append(out, p)
	}
	return out
}

// drainPoints ends the input and returns every point the daemon sent.
func drainPoints(t *testing.T, c *client) []*udfpb.Point {
	t.Helper()
	c.closeWrite()
	return points(t, c.recvAll(10*time.Second))
}

func TestSession_Info(t *testing.T) {
	srv := newTestServer(t, DefaultConfig(), nil)
	c := startSession(t, srv)
	c.send(&udfpb.Request{Message: &udfpb.Request_Info{Info: &udfpb.InfoRequest{}}})
	info := c.recv(time.Second).GetInfo()
	if info == nil || info.Wants != udfpb.EdgeType_BATCH || info.Provides != udfpb.EdgeType_STREAM {
		t.Fatalf("info = %v", info)
	}
	want := map[string]udfpb.ValueType{
		"field": udfpb.ValueType_STRING, "period": udfpb.ValueType_DURATION, "history": udfpb.ValueType_DURATION,
		"maxAnoms": udfpb.ValueType_DOUBLE, "alpha": udfpb.ValueType_DOUBLE, "direction": udfpb.ValueType_STRING,
		"threshold": udfpb.ValueType_STRING, "longterm": udfpb.ValueType_BOOL,
		"piecewiseMedianPeriodWeeks": udfpb.ValueType_INT, "emit": udfpb.ValueType_STRING,
	}
	if len(info.Options) != len(want) {
		t.Fatalf("%d options, want %d", len(info.Options), len(want))
	}
	for name, typ := range want {
		o := info.Options[name]
		if o == nil || !slices.Equal(o.ValueTypes, []udfpb.ValueType{typ}) {
			t.Errorf("option %s = %v, want [%s]", name, o, typ)
		}
	}
	// Kapacitor's info connection ends with a half-close; we must close.
	c.closeWrite()
	c.expectClosed(5 * time.Second)
	if err := c.wait(); err != nil {
		t.Fatalf("ServeConn: %v", err)
	}
}

// TestSession_NetPipe runs info, init, a keepalive and a batch over
// net.Pipe, which has no half-close: the peer closes both directions.
func TestSession_NetPipe(t *testing.T) {
	det := &spikeDetector{}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	a, b := netPipe()
	c := newClient(t, a)
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(t.Context(), b) }()
	c.initOK(opt("field", str("value")))
	c.keepalive(7)
	c.batch("", nil, hourly(t0, 10, spikeAt(4)))
	if p := c.recv(5 * time.Second).GetPoint(); p == nil || p.Time != t0+4*hour {
		t.Fatalf("point = %v", p)
	}
	a.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end on close")
	}
}

// TestSession_SeedScenario is the problem anomalyd exists for: one batch
// holding 12 anomalies must give 12 separate points (12 alerts), each
// with its own time and tags, the group's dimensions and the fields.
func TestSession_SeedScenario(t *testing.T) {
	det := &spikeDetector{}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	spikes := []int{20, 41, 77, 90, 130, 151, 170, 200, 222, 250, 280, 311}
	pts := hourly(t0, 14*24, spikeAt(spikes...))
	gtags := map[string]string{"host": "a", "dc": "eu"}
	for i := range pts {
		// Each point also carries a non-group tag of its own.
		pts[i].tags = map[string]string{"host": "a", "dc": "eu", "core": fmt.Sprint(i % 4)}
	}
	c.batch("dc=eu,host=a", gtags, pts)
	got := drainPoints(t, c)
	if len(got) != 12 {
		t.Fatalf("%d points, want 12", len(got))
	}
	for k, p := range got {
		i := spikes[k]
		if p.Time != pts[i].t {
			t.Errorf("point %d: time %d, want %d", k, p.Time, pts[i].t)
		}
		if p.Name != "cpu" || p.Group != "dc=eu,host=a" || p.ByName {
			t.Errorf("point %d: name %q group %q byName %v", k, p.Name, p.Group, p.ByName)
		}
		if !slices.Equal(p.Dimensions, []string{"dc", "host"}) {
			t.Errorf("point %d: dimensions %v", k, p.Dimensions)
		}
		wantTags := map[string]string{"host": "a", "dc": "eu", "core": fmt.Sprint(i % 4)}
		if !maps.Equal(p.Tags, wantTags) {
			t.Errorf("point %d: tags %v, want %v", k, p.Tags, wantTags)
		}
		wantFields := map[string]float64{"value": 100 + float64(i), "expected": 0, "score": (100 + float64(i)) / 10}
		if !maps.Equal(p.FieldsDouble, wantFields) {
			t.Errorf("point %d: fields %v, want %v", k, p.FieldsDouble, wantFields)
		}
		if p.Database != "" || p.RetentionPolicy != "" || len(p.FieldsInt)+len(p.FieldsString)+len(p.FieldsBool) != 0 {
			t.Errorf("point %d: unexpected content %v", k, p)
		}
	}
}

func TestSession_TwoGroupsInterleaved(t *testing.T) {
	det := &spikeDetector{}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	hostB := map[string]string{"host": "b"}
	// A's spike is in its first batch, B's in its second; values differ.
	for k := range 3 {
		start := t0 + int64(k)*10*hour
		c.batch("host=a", hostA, hourly(start, 10, func(i int) float64 {
			if k == 0 && i == 3 {
				return 500
			}
			return 1
		}))
		c.batch("host=b", hostB, hourly(start, 10, func(i int) float64 {
			if k == 1 && i == 6 {
				return 700
			}
			return 2
		}))
	}
	got := []*udfpb.Point{c.recv(5 * time.Second).GetPoint(), c.recv(5 * time.Second).GetPoint()}
	if n := srv.Stats().GroupsActive.Load(); n != 2 {
		t.Errorf("%d active groups, want 2", n)
	}
	if rest := drainPoints(t, c); len(rest) != 0 {
		t.Fatalf("%d more points, want 2 in all", len(rest))
	}
	if c.wait(); srv.Stats().GroupsActive.Load() != 0 {
		t.Errorf("%d active groups after the connection ended", srv.Stats().GroupsActive.Load())
	}
	a, b := got[0], got[1]
	if a.Tags["host"] != "a" || a.Time != t0+3*hour || a.FieldsDouble["value"] != 500 {
		t.Errorf("group a point: %v", a)
	}
	if b.Tags["host"] != "b" || b.Time != t0+16*hour || b.FieldsDouble["value"] != 700 {
		t.Errorf("group b point: %v", b)
	}
	st := srv.Stats()
	if st.BatchesIn.Load() != 6 || st.PointsIn.Load() != 60 {
		t.Errorf("batches %d points %d", st.BatchesIn.Load(), st.PointsIn.Load())
	}
}

func TestSession_OverlappingWindowsNoReemit(t *testing.T) {
	for _, emit := range []string{"new", "all"} {
		t.Run(emit, func(t *testing.T) {
			det := &spikeDetector{}
			srv := newTestServer(t, DefaultConfig(), fixed(det))
			c := startSession(t, srv)
			c.initOK(opt("field", str("value")), opt("emit", str(emit)))
			// A 7-hour window every hour over a series with a spike at
			// hour 3: each window repeats the previous points.
			series := hourly(t0, 12, spikeAt(3, 9))
			var got []*udfpb.Point
			want := []int64{3, 9}
			if emit == "all" {
				want = nil
			}
			for end := 4; end <= 12; end++ {
				c.batch("", nil, series[max(0, end-7):end])
				if emit != "all" {
					continue
				}
				// Every run reports every anomaly in the history. Batches
				// queued during a detection are merged into one run, so
				// wait for this batch's run before sending the next.
				n := 1
				want = append(want, 3)
				if end > 9 {
					want = append(want, 9)
					n++
				}
				for range n {
					got = append(got, points(t, []*udfpb.Response{c.recv(5 * time.Second)})...)
				}
			}
			got = append(got, drainPoints(t, c)...)
			var times []int64
			for _, p := range got {
				times = append(times, (p.Time-t0)/hour)
			}
			if !slices.Equal(times, want) {
				t.Fatalf("emitted hours %v, want %v", times, want)
			}
		})
	}
}

func TestSession_SnapshotRestore(t *testing.T) {
	det := &spikeDetector{minPoints: 30}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	opts := []*udfpb.Option{opt("field", str("value")), opt("period", dur(24*time.Hour))}
	c.initOK(opts...)
	c.batch("host=a", hostA, hourly(t0, 20, spikeAt(5)))
	blob := c.snapshot()
	c.closeWrite()
	c.expectClosed(5 * time.Second) // 20 points: detection waited, nothing sent
	if w := srv.Stats().DetectionsWaiting.Load(); w != 1 {
		t.Fatalf("%d detections waiting, want 1", w)
	}

	// A new connection (task restarted) restores and continues.
	c2 := startSession(t, srv)
	c2.initOK(opts...)
	if r := c2.restore(blob); !r.Success {
		t.Fatalf("restore: %v", r)
	}
	c2.batch("host=a", hostA, hourly(t0+20*hour, 10, spikeAt(7)))
	got := drainPoints(t, c2)
	if seen := det.lastSeen(); len(seen) != 30 || seen[0] != t0 {
		t.Fatalf("detector saw %d points from %d: history not restored", len(seen), seen[0])
	}
	if len(got) != 2 || got[0].Time != t0+5*hour || got[1].Time != t0+27*hour {
		t.Fatalf("points %v, want hours 5 and 27", got)
	}
	if got[0].Tags["host"] != "a" || got[0].Dimensions[0] != "host" {
		t.Fatalf("restored point lost its tags: %v", got[0])
	}

	// The watermark is in the snapshot too: a restore after the anomalies
	// were reported does not report them again.
	c3 := startSession(t, srv)
	c3.initOK(opts...)
	c3.batch("host=a", hostA, hourly(t0, 30, spikeAt(5)))
	if p := c3.recv(5 * time.Second).GetPoint(); p.Time != t0+5*hour {
		t.Fatalf("point %v", p)
	}
	blob = c3.snapshot()
	c3.closeWrite()
	c3.expectClosed(5 * time.Second)
	c4 := startSession(t, srv)
	c4.initOK(opts...)
	c4.restore(blob)
	c4.batch("host=a", hostA, hourly(t0+20*hour, 11, spikeAt(10)))
	got = drainPoints(t, c4)
	if len(got) != 1 || got[0].Time != t0+30*hour {
		t.Fatalf("after restore: %v, want only hour 30", got)
	}
}

// TestSession_SnapshotMidBatch: a snapshot request between begin and end
// sees only committed batches.
func TestSession_SnapshotMidBatch(t *testing.T) {
	det := &spikeDetector{minPoints: 1000}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	c.batch("", nil, hourly(t0, 5, spikeAt()))
	c.send(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu"}}})
	c.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{Time: t0 + 10*hour, FieldsDouble: map[string]float64{"value": 1}}}})
	blob := c.snapshot()
	c.send(&udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu"}}})
	c2 := startSession(t, srv)
	c2.initOK(opt("field", str("value")))
	c2.restore(blob)
	c2.batch("", nil, []pt{{t: t0 + 20*hour, v: 1}})
	c2.closeWrite()
	c2.expectClosed(5 * time.Second)
	if n := len(det.lastSeen()); n != 6 {
		t.Fatalf("restored history has %d points, want 5 + 1", n)
	}
}

func TestSession_RestoreCorruption(t *testing.T) {
	field := opt("field", str("value"))
	good := func(t *testing.T) []byte {
		srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
		c := startSession(t, srv)
		c.initOK(field)
		c.batch("", nil, hourly(t0, 10, spikeAt()))
		return c.snapshot()
	}(t)
	otherField := func(t *testing.T) []byte {
		srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
		c := startSession(t, srv)
		c.initOK(opt("field", str("other")))
		return c.snapshot()
	}(t)
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	version := slices.Clone(good)
	version[4] = 9
	tests := []struct {
		name string
		blob []byte
		want string
	}{
		{"garbage", []byte("definitely not a snapshot"), "corrupt snapshot"},
		{"truncated", good[:len(good)-3], "corrupt snapshot"},
		{"header only", good[:5], "corrupt snapshot"},
		{"bit flip", flipped, "checksum"},
		{"foreign version", version, "unsupported snapshot version"},
		{"other fingerprint", otherField, "other options"},
		{"gob from another UDF", []byte{0x0e, 0xff, 0x81, 0x03, 0x01, 0x01}, "corrupt snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
			c := startSession(t, srv)
			c.initOK(field)
			if r := c.restore(tt.blob); !r.Success {
				t.Fatalf("restore answered %v, want success (start fresh)", r)
			}
			if srv.Stats().RestoresDropped.Load() != 1 {
				t.Fatal("dropped snapshot not counted")
			}
			c.keepalive(1) // the task goes on

			cfg := DefaultConfig()
			cfg.StrictRestore = true
			strict := newTestServer(t, cfg, fixed(&spikeDetector{}))
			c = startSession(t, strict)
			c.initOK(field)
			r := c.restore(tt.blob)
			if r.Success || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("strict restore = %v, want failure mentioning %q", r, tt.want)
			}
			c.expectClosed(5 * time.Second)
			if strict.Stats().RestoresFailed.Load() != 1 {
				t.Fatal("refused snapshot not counted")
			}
		})
	}
}

func TestSession_BadData(t *testing.T) {
	det := &spikeDetector{}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	point := func(ts int64, p *udfpb.Point) {
		p.Time = ts
		c.send(&udfpb.Request{Message: &udfpb.Request_Point{Point: p}})
	}
	nan, inf := 0.0, 1.0
	nan, inf = nan/nan, inf/0
	c.send(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: "g", Tags: hostA}}})
	point(t0+0*hour, &udfpb.Point{FieldsDouble: map[string]float64{"other": 1}})     // missing field
	point(t0+1*hour, &udfpb.Point{FieldsDouble: map[string]float64{"value": nan}})   // NaN
	point(t0+2*hour, &udfpb.Point{FieldsDouble: map[string]float64{"value": inf}})   // +Inf
	point(t0+3*hour, &udfpb.Point{FieldsDouble: map[string]float64{"value": -inf}})  // -Inf
	point(t0+4*hour, &udfpb.Point{FieldsString: map[string]string{"value": "high"}}) // string
	point(t0+5*hour, &udfpb.Point{FieldsBool: map[string]bool{"value": true}})       // bool
	point(t0+6*hour, &udfpb.Point{FieldsInt: map[string]int64{"value": 150}})        // int: used
	point(t0+7*hour, &udfpb.Point{FieldsDouble: map[string]float64{"value": 1}})     // ok
	point(t0+7*hour, &udfpb.Point{FieldsDouble: map[string]float64{"value": 2}})     // duplicate: wins
	// bad tags: proto.Marshal refuses invalid UTF-8, so encode by hand:
	// Point{time=t0+8h, tags{"x": "\xff"}, fieldsDouble{"value": 1}}
	var p []byte
	p = protowire.AppendTag(p, 1, protowire.VarintType)
	p = protowire.AppendVarint(p, uint64(t0+8*hour))
	p = protowire.AppendTag(p, 7, protowire.BytesType)
	p = protowire.AppendBytes(p, []byte("\x0a\x01x\x12\x01\xff"))
	p = protowire.AppendTag(p, 8, protowire.BytesType)
	p = protowire.AppendBytes(p, []byte("\x0a\x05value\x11\x00\x00\x00\x00\x00\x00\xf0\x3f"))
	c.sendFrame(protowire.AppendBytes(protowire.AppendTag(nil, 17, protowire.BytesType), p))
	c.send(&udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu", Group: "g"}}})
	// A one-point batch is fine too.
	c.batch("g", hostA, []pt{{t: t0 + 9*hour, v: 3}})
	got := drainPoints(t, c)
	if len(got) != 1 || got[0].Time != t0+6*hour || got[0].FieldsDouble["value"] != 150 {
		t.Fatalf("points %v, want the int point at hour 6", got)
	}
	if seen := det.lastSeen(); len(seen) != 3 {
		t.Fatalf("history %v, want hours 6, 7, 9", seen)
	}
	st := srv.Stats()
	for name, got := range map[string]uint64{
		"missing": st.PointsMissingField.Load(), "non-finite": st.PointsNonFinite.Load(),
		"non-numeric": st.PointsNonNumeric.Load(), "duplicate": st.PointsDuplicate.Load(),
		"bad tags": st.PointsBadTags.Load(), "protocol errors": st.ProtocolErrors.Load(),
	} {
		want := map[string]uint64{"missing": 1, "non-finite": 3, "non-numeric": 2, "duplicate": 1, "bad tags": 1}[name]
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

func TestSession_InitErrors(t *testing.T) {
	field := opt("field", str("value"))
	unset := &udfpb.Option{Name: "longterm", Values: []*udfpb.OptionValue{{Type: udfpb.ValueType_BOOL}}}
	tests := []struct {
		name string
		opts []*udfpb.Option
		want string
	}{
		{"no field", nil, "field: required, e.g. .field('value')"},
		{"empty field", []*udfpb.Option{opt("field", str(""))}, "field: must not be empty"},
		{"field collides", []*udfpb.Option{opt("field", str("score"))}, "field: 'score' would collide"},
		{"unknown", []*udfpb.Option{field, opt("foo", str("x"))}, "unknown option 'foo'"},
		{"twice", []*udfpb.Option{field, opt("field", str("v2"))}, "field: given more than once"},
		{"wrong type", []*udfpb.Option{field, opt("alpha", intv(1))}, "alpha: wrong type INT, expected DOUBLE"},
		{"no args", []*udfpb.Option{field, opt("alpha")}, "alpha: takes exactly one DOUBLE argument, got 0"},
		{"two args", []*udfpb.Option{field, opt("alpha", dbl(0.1), dbl(0.2))}, "alpha: takes exactly one DOUBLE argument, got 2"},
		{"unset oneof", []*udfpb.Option{field, unset}, "longterm: no value given"},
		{"nil value", []*udfpb.Option{field, {Name: "emit", Values: []*udfpb.OptionValue{nil}}}, "emit: no value given"},
		{"maxAnoms high", []*udfpb.Option{field, opt("maxAnoms", dbl(0.7))}, "maxAnoms: 0.7 is out of range, must be in (0, 0.49]"},
		{"maxAnoms zero", []*udfpb.Option{field, opt("maxAnoms", dbl(0))}, "maxAnoms: 0 is out of range"},
		{"alpha", []*udfpb.Option{field, opt("alpha", dbl(1.5))}, "alpha: 1.5 is out of range, must be in (0, 1)"},
		{"direction", []*udfpb.Option{field, opt("direction", str("sideways"))}, "direction: 'sideways' is not one of 'pos', 'neg', 'both'"},
		{"threshold", []*udfpb.Option{field, opt("threshold", str("p50"))}, "threshold: 'p50' is not one of 'none', 'med_max', 'p95', 'p99'"},
		{"emit", []*udfpb.Option{field, opt("emit", str("some"))}, "emit: 'some' is not one of 'new', 'all'"},
		{"weeks", []*udfpb.Option{field, opt("piecewiseMedianPeriodWeeks", intv(1))}, "piecewiseMedianPeriodWeeks: 1 is out of range, must be in [2, 520]"},
		{"period zero", []*udfpb.Option{field, opt("period", dur(0))}, "period: 0s is out of range"},
		{"period negative", []*udfpb.Option{field, opt("period", dur(-time.Hour))}, "period: -1h is out of range, must be in [1s, 366d], e.g. .period(1d)"},
		{"history short", []*udfpb.Option{field, opt("period", dur(24*time.Hour)), opt("history", dur(36*time.Hour))}, "history: 36h is shorter than two periods (2 × 1d)"},
		{"several", []*udfpb.Option{opt("maxAnoms", dbl(0.7)), opt("bar", boolv(true))}, "maxAnoms: 0.7 is out of range, must be in (0, 0.49]; unknown option 'bar'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
			c := startSession(t, srv)
			c.send(initReq(tt.opts...))
			r := c.recv(time.Second).GetInit()
			if r == nil || r.Success || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("init = %v, want failure containing %q", r, tt.want)
			}
			// Kapacitor leaves the connection open: we close it.
			c.expectClosed(5 * time.Second)
			if srv.Stats().InitFailures.Load() != 1 {
				t.Fatal("init failure not counted")
			}
		})
	}
}

func TestSession_ProtocolErrors(t *testing.T) {
	field := opt("field", str("value"))
	begin := &udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu"}}}
	point := &udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{Time: 1}}}
	end := &udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu"}}}
	snap := &udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}}
	restore := &udfpb.Request{Message: &udfpb.Request_Restore{Restore: &udfpb.RestoreRequest{Snapshot: []byte{1}}}}
	tests := []struct {
		name   string
		init   bool
		reqs   []*udfpb.Request
		raw    []byte
		want   string
		before int // responses expected before the error
	}{
		{name: "begin before init", reqs: []*udfpb.Request{begin}, want: "batch before init"},
		{name: "point before init", reqs: []*udfpb.Request{point}, want: "point before init"},
		{name: "snapshot before init", reqs: []*udfpb.Request{snap}, want: "snapshot before init"},
		{name: "restore before init", reqs: []*udfpb.Request{restore}, want: "restore before init"},
		{name: "point outside batch", init: true, reqs: []*udfpb.Request{point}, want: "point outside a batch: anomalyd wants BATCH input"},
		{name: "end outside batch", init: true, reqs: []*udfpb.Request{end}, want: "end outside a batch"},
		{name: "begin inside batch", init: true, reqs: []*udfpb.Request{begin, begin}, want: "begin inside a batch"},
		{name: "restore after data", init: true, reqs: []*udfpb.Request{begin, end, restore}, want: "restore after data"},
		{name: "second init", init: true, reqs: []*udfpb.Request{initReq(field)}, want: "second init"},
		{name: "empty request", raw: []byte{0x00}, want: "request without a message"},
		{name: "undecodable", raw: []byte{0x03, 0x0a, 0x05, 0x01}, want: "protocol error"},
		{name: "bad point", init: true, reqs: []*udfpb.Request{begin}, raw: []byte{0x04, 0x8a, 0x01, 0x01, 0x0f}, want: "point"},
		{name: "varint overflow", raw: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, want: "overflow"},
		{name: "4 GiB frame", raw: []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a}, want: "frame too large"},
		{name: "truncated frame", raw: []byte{0x05, 0x0a, 0x00}, want: "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
			c := startSession(t, srv)
			if tt.init {
				c.initOK(field)
			}
			for _, r := range tt.reqs {
				c.send(r)
			}
			if tt.raw != nil {
				c.sendRaw(tt.raw)
				if tt.name == "truncated frame" {
					c.closeWrite()
				}
			}
			rs := c.recvAll(5 * time.Second)
			if len(rs) != 1 || rs[0].GetError() == nil || !strings.Contains(rs[0].GetError().Error, tt.want) {
				t.Fatalf("responses %v, want one error containing %q", rs, tt.want)
			}
			if srv.Stats().ProtocolErrors.Load() != 1 {
				t.Fatal("protocol error not counted")
			}
		})
	}
}

func TestSession_HalfCloseFlushesQueuedWork(t *testing.T) {
	det := &spikeDetector{sleep: 50 * time.Millisecond}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	for g := range 5 {
		c.batch(fmt.Sprint(g), map[string]string{"g": fmt.Sprint(g)}, hourly(t0, 10, spikeAt(g)))
	}
	// EOF right away: the queued detections still run and their points
	// are sent before the daemon closes.
	got := drainPoints(t, c)
	if len(got) != 5 {
		t.Fatalf("%d points after half-close, want 5", len(got))
	}
	if err := c.wait(); err != nil {
		t.Fatal(err)
	}
}

func TestSession_KeepaliveDuringDetection(t *testing.T) {
	det := &spikeDetector{sleep: 1500 * time.Millisecond}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	c.batch("", nil, hourly(t0, 10, spikeAt()))
	time.Sleep(100 * time.Millisecond) // the detection is running
	for i := range 5 {
		if d := c.keepalive(int64(i)); d > 100*time.Millisecond {
			t.Fatalf("keepalive answered after %s during detection", d)
		}
	}
}

// TestSession_KeepaliveWhileCPUsBusy: two connections' detections keep
// both CPUs busy; keepalives are still answered at once.
func TestSession_KeepaliveWhileCPUsBusy(t *testing.T) {
	srv := newTestServer(t, DefaultConfig(), func() Detector { return &spikeDetector{spin: 1500 * time.Millisecond} })
	a, b := startSession(t, srv), startSession(t, srv)
	for _, c := range []*client{a, b} {
		c.initOK(opt("field", str("value")))
		c.batch("", nil, hourly(t0, 10, spikeAt()))
	}
	time.Sleep(200 * time.Millisecond)
	for i := range 10 {
		if d := a.keepalive(int64(i)); d > 100*time.Millisecond {
			t.Fatalf("keepalive answered after %s while detections burn the CPUs", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSession_MaxGroups(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxGroups = 2
	srv := newTestServer(t, cfg, fixed(&spikeDetector{}))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	for _, g := range []string{"a", "b", "c", "d", "a"} {
		c.batch(g, map[string]string{"g": g}, hourly(t0, 3, spikeAt(1)))
	}
	got := drainPoints(t, c)
	if len(got) != 2 {
		t.Fatalf("%d points, want 2 (groups a and b)", len(got))
	}
	if n := srv.Stats().PointsOverGroupCap.Load(); n != 6 {
		t.Fatalf("%d points over the group cap, want 6", n)
	}
}

func TestSession_PanicEndsOnlyThatConnection(t *testing.T) {
	srv := newTestServer(t, DefaultConfig(), func() Detector { return &spikeDetector{panicAt: 666} })
	bad, good := startSession(t, srv), startSession(t, srv)
	bad.initOK(opt("field", str("value")))
	good.initOK(opt("field", str("value")))
	bad.batch("", nil, []pt{{t: t0, v: 666}})
	rs := bad.recvAll(5 * time.Second)
	if len(rs) != 1 || rs[0].GetError() == nil {
		t.Fatalf("responses %v, want one error", rs)
	}
	good.batch("", nil, []pt{{t: t0, v: 100}})
	if p := good.recv(5 * time.Second).GetPoint(); p == nil {
		t.Fatal("healthy connection stopped working")
	}
	if srv.Stats().Panics.Load() != 1 {
		t.Fatal("panic not counted")
	}
}

func TestSession_ShutdownDrains(t *testing.T) {
	det := &spikeDetector{sleep: 100 * time.Millisecond}
	srv := newTestServer(t, DefaultConfig(), fixed(det))
	a, b := halfPipe()
	c := newClient(t, a)
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(ctx, b) }()
	c.initOK(opt("field", str("value")))
	c.batch("", nil, hourly(t0, 5, spikeAt(2)))
	cancel()
	got := points(t, c.recvAll(5*time.Second))
	if len(got) != 1 {
		t.Fatalf("%d points after shutdown, want the in-flight one", len(got))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSession_ShutdownBoundsDrain: on shutdown, queued work gets
// ShutdownTimeout, even when the peer had already half-closed.
func TestSession_ShutdownBoundsDrain(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ShutdownTimeout = 300 * time.Millisecond
	srv := newTestServer(t, cfg, fixed(&spikeDetector{sleep: 100 * time.Millisecond}))
	a, b := halfPipe()
	c := newClient(t, a)
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(ctx, b) }()
	c.initOK(opt("field", str("value")))
	for g := range 50 { // 5 s of detection
		c.batch(fmt.Sprint(g), nil, hourly(t0, 3, spikeAt(1)))
	}
	c.closeWrite()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("shutdown did not bound the drain")
	}
	if d := time.Since(start); d < cfg.ShutdownTimeout {
		t.Fatalf("ended after %s, before the drain timeout", d)
	}
	if n := len(c.recvAll(time.Second)); n == 0 || n >= 50 {
		t.Fatalf("%d points: want some, not all", n)
	}
}

// TestSession_OversizeRestore: a snapshot larger than MaxFrameSize is
// skipped without being read into memory, and treated like any unusable
// snapshot; any other oversize frame is a protocol error.
func TestSession_OversizeRestore(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFrameSize = 1 << 16
	det := &spikeDetector{}
	srv := newTestServer(t, cfg, fixed(det))
	c := startSession(t, srv)
	c.initOK(opt("field", str("value")))
	big := make([]byte, 3<<16)
	if r := c.restore(big); !r.Success {
		t.Fatalf("restore = %v, want success (start fresh)", r)
	}
	if srv.Stats().RestoresDropped.Load() != 1 {
		t.Fatal("oversize snapshot not counted")
	}
	c.batch("", nil, hourly(t0, 3, spikeAt(1)))
	if p := c.recv(5 * time.Second).GetPoint(); p == nil {
		t.Fatal("task did not go on after the oversize restore")
	}

	c2 := startSession(t, srv)
	c2.initOK(opt("field", str("value")))
	frame, _ := proto.Marshal(&udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: string(make([]byte, 2<<16))}}})
	// The daemon stops reading after the length prefix: the rest of the
	// write fails.
	go writeFrame(c2.conn, frame)
	rs := c2.recvAll(5 * time.Second)
	if len(rs) != 1 || !strings.Contains(rs[0].GetError().GetError(), "frame too large") {
		t.Fatalf("responses %v, want a frame-too-large error", rs)
	}
}
