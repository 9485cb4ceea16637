package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/detect"
	"github.com/anomalyd/anomalyd/pkg/state"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// streamConn replays a recorded request stream and discards the output.
type streamConn struct {
	io.Reader
	out io.Writer
}

func (c *streamConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *streamConn) Close() error                { return nil }

type stream struct {
	buf    bytes.Buffer
	points int
}

func (s *stream) add(tb testing.TB, r *udfpb.Request) {
	b, err := proto.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	writeFrame(&s.buf, b)
}

func (s *stream) init(tb testing.TB, opts ...*udfpb.Option) {
	s.add(tb, initReq(opts...))
}

// batch records a batch of minutely points of one group, each point with
// the group's tags and one tag of its own, as a |query with groupBy sends.
func (s *stream) batch(tb testing.TB, g string, gtags map[string]string, start int64, n int, f func(i int) float64) {
	s.add(tb, &udfpb.Request{Message: &udfpb.Request_Begin{Begin: &udfpb.BeginBatch{Name: "cpu", Group: g, Tags: gtags, Size: int64(n)}}})
	tags := map[string]string{"cpu": "cpu-total"}
	for k, v := range gtags {
		tags[k] = v
	}
	for i := range n {
		s.add(tb, &udfpb.Request{Message: &udfpb.Request_Point{Point: &udfpb.Point{
			Time: start + int64(i)*minute, Group: g, Tags: tags,
			FieldsDouble: map[string]float64{"value": f(i), "usage_system": 1.5},
		}}})
	}
	s.add(tb, &udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "cpu", Group: g, Tags: gtags, Tmax: start + int64(n)*minute}}})
	s.points += n
}

// nopDetector excludes detection from a benchmark.
type nopDetector struct{}

func (nopDetector) Ts(dst []detect.Anomaly, _ []int64, _ []float64, _ detect.Params) ([]detect.Anomaly, error) {
	return dst, nil
}

// BenchmarkSession_Throughput measures one connection's decode + merge
// throughput with detection excluded: 10 groups, batches of 1,000 minutely
// points, 1,000,000 points per connection.
func BenchmarkSession_Throughput(b *testing.B) {
	var s stream
	s.init(b, opt("field", str("value")))
	const groups, batchPoints, batches = 10, 1000, 100
	for k := range batches {
		for g := range groups {
			host := fmt.Sprintf("host%02d", g)
			s.batch(b, "host="+host, map[string]string{"host": host}, t0+int64(k*batchPoints)*minute, batchPoints,
				func(i int) float64 { return math.Sin(float64(i)) })
		}
	}
	data := s.buf.Bytes()
	srv := NewServer(DefaultConfig(), func() Detector { return nopDetector{} }, zapNop())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := srv.ServeConn(context.Background(), &streamConn{Reader: bytes.NewReader(data), out: io.Discard}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*s.points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*s.points), "ns/point")
}

// BenchmarkSession_Detection: 1,000 groups with a 14-day minutely history
// each (restored from a snapshot) receive an hourly batch of 60 points; every
// batch triggers one S-H-ESD run on 20,160 points.
func BenchmarkSession_Detection(b *testing.B) {
	realDetectorOrSkip(b)
	const groups, days = 1000, 14
	opts := []*udfpb.Option{opt("field", str("value")), opt("maxAnoms", dbl(0.02)), opt("direction", str("both"))}
	o, err := ParseOptions(opts)
	if err != nil {
		b.Fatal(err)
	}
	// Build the restored history directly in a store.
	st := state.New(state.Config{Period: o.Period, History: o.History})
	hist := &state.Batch{}
	value := func(g, i int) float64 {
		x := 50 + 20*math.Sin(2*math.Pi*float64(i)/1440) + float64((i*7919+g*104729)%13)/4
		if i%5003 == 17 {
			x += 60
		}
		return x
	}
	n := days * 1440
	for g := range groups {
		hist.Reset()
		host := fmt.Sprintf("host%04d", g)
		hist.TagSets = append(hist.TagSets, state.Tags{{Key: "cpu", Value: "cpu-total"}, {Key: "host", Value: host}})
		for i := range n {
			hist.Append(t0+int64(i)*minute, value(g, i), 0)
		}
		st.Merge("host="+host, state.Meta{Name: "cpu", Tags: state.Tags{{Key: "host", Value: host}}}, hist)
	}
	var s stream
	s.init(b, opts...)
	s.add(b, &udfpb.Request{Message: &udfpb.Request_Restore{Restore: &udfpb.RestoreRequest{Snapshot: st.Snapshot(nil, o.Fingerprint())}}})
	restoreOnly := slices.Clone(s.buf.Bytes())
	for g := range groups {
		host := fmt.Sprintf("host%04d", g)
		s.batch(b, "host="+host, map[string]string{"host": host}, t0+int64(n)*minute, 60, func(i int) float64 { return value(g, n+i) })
	}
	data := s.buf.Bytes()
	cfg := DefaultConfig()
	cfg.MaxFrameSize = 512 << 20 // the snapshot of 1,000 14-day histories is ~180 MB
	srv := NewServer(cfg, nil, zapNop())
	serve := func(data []byte) time.Duration {
		start := time.Now()
		if err := srv.ServeConn(context.Background(), &streamConn{Reader: bytes.NewReader(data), out: io.Discard}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	// The restore is a one-time cost of a task start: it is measured on its
	// own and taken out of the figures.
	var restore time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		restore += serve(restoreOnly)
		b.StartTimer()
		serve(data)
	}
	b.StopTimer()
	if st := srv.Stats(); st.Restores.Load() != 2*uint64(b.N) || st.Detections.Load() != uint64(b.N*groups) ||
		st.DetectionErrors.Load()+st.DetectionsWaiting.Load() != 0 {
		b.Fatalf("%d restores, %d detections (%d errors, %d waiting), want %d, %d", st.Restores.Load(), st.Detections.Load(),
			st.DetectionErrors.Load(), st.DetectionsWaiting.Load(), 2*b.N, b.N*groups)
	}
	sec := (b.Elapsed() - restore).Seconds()
	b.ReportMetric(restore.Seconds()/float64(b.N), "restore-s")
	b.ReportMetric(float64(b.N*groups)/sec, "detections/s")
	b.ReportMetric(float64(b.N*s.points)/sec, "points/s")
	b.ReportMetric(float64(b.N*groups*n)/sec, "analysed-points/s")
}

func BenchmarkDecodePoint(b *testing.B) {
	frame, _ := proto.Marshal(&udfpb.Point{Time: t0, Group: "host=a", Tags: map[string]string{"host": "a", "cpu": "cpu-total"},
		FieldsDouble: map[string]float64{"value": 1.5, "usage_system": 2}})
	var p pointFrame
	b.ReportAllocs()
	for b.Loop() {
		if err := decodePoint(frame, "value", &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSession_AllocsPerPoint guards the reader's fast path: decoding and
// queueing a point must not allocate (allocations are per batch).
func TestSession_AllocsPerPoint(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	var s stream
	s.init(t, opt("field", str("value")))
	for k := range 50 {
		s.batch(t, "host=a", hostA, t0+int64(k*1000)*minute, 1000, func(i int) float64 { return float64(i % 10) })
	}
	data := s.buf.Bytes()
	srv := NewServer(DefaultConfig(), func() Detector { return nopDetector{} }, zapNop())
	allocs := testing.AllocsPerRun(3, func() {
		if err := srv.ServeConn(context.Background(), &streamConn{Reader: bytes.NewReader(data), out: io.Discard}); err != nil {
			t.Fatal(err)
		}
	})
	if perPoint := allocs / float64(s.points); perPoint > 0.1 {
		t.Fatalf("%.3f allocations per point (%v per connection of %d points)", perPoint, allocs, s.points)
	}
}
