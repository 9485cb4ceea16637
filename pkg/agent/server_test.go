package agent

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// TestServer_UnixSocket runs a task-node conversation over a real socket
// and checks that the half-close makes the daemon flush and close.
func TestServer_UnixSocket(t *testing.T) {
	srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
	dial, _ := unixServer(t, srv)
	info := dial()
	info.send(&udfpb.Request{Message: &udfpb.Request_Info{Info: &udfpb.InfoRequest{}}})
	if info.recv(time.Second).GetInfo() == nil {
		t.Fatal("no info")
	}
	info.closeWrite()
	info.expectClosed(5 * time.Second)

	c := dial()
	c.initOK(opt("field", str("value")))
	c.keepalive(42)
	c.batch("host=a", hostA, hourly(t0, 24, spikeAt(3, 17)))
	got := drainPoints(t, c)
	if len(got) != 2 {
		t.Fatalf("%d points, want 2", len(got))
	}
}

func TestServer_ConcurrentConnections(t *testing.T) {
	srv := newTestServer(t, DefaultConfig(), func() Detector { return &spikeDetector{} })
	dial, stop := unixServer(t, srv)
	const conns = 100
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			c := dial()
			c.initOK(opt("field", str("value")))
			c.keepalive(int64(i))
			g := fmt.Sprintf("host=h%d", i)
			tags := map[string]string{"host": fmt.Sprintf("h%d", i)}
			for k := range 5 {
				c.batch(g, tags, hourly(t0+int64(k)*24*hour, 24, spikeAt(i%24)))
			}
			c.send(&udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}})
			// The snapshot is answered after the five batches were
			// detected: their points come first.
			var pts []*udfpb.Point
			for {
				r := c.recv(20 * time.Second)
				if p := r.GetPoint(); p != nil {
					if p.Tags["host"] != tags["host"] {
						t.Errorf("conn %d: point of another connection: %v", i, p)
					}
					pts = append(pts, p)
					continue
				}
				if s := r.GetSnapshot(); s == nil || len(s.Snapshot) < 100 {
					t.Errorf("conn %d: %v, want a snapshot", i, r)
				}
				break
			}
			if len(pts) != 5 {
				t.Errorf("conn %d: %d points before the snapshot, want 5", i, len(pts))
			}
			c.closeWrite()
			c.expectClosed(20 * time.Second)
		})
	}
	wg.Wait()
	stop()
	st := srv.Stats()
	if st.ConnsOpened.Load() != conns || st.ConnsClosed.Load() != conns {
		t.Fatalf("opened %d closed %d", st.ConnsOpened.Load(), st.ConnsClosed.Load())
	}
	if st.AnomaliesEmitted.Load() != 5*conns {
		t.Fatalf("%d anomalies emitted, want %d", st.AnomaliesEmitted.Load(), 5*conns)
	}
}

func TestServer_BadConnectionDoesNotHurtOthers(t *testing.T) {
	for _, bad := range []struct {
		name string
		raw  []byte
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: anomalyd\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nX-Padding: 0123456789abcdef\r\n\r\n")},
		{"4 GiB length prefix", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x00}},
		{"random bytes", []byte{0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d}},
	} {
		t.Run(bad.name, func(t *testing.T) {
			srv := newTestServer(t, DefaultConfig(), fixed(&spikeDetector{}))
			dial, _ := unixServer(t, srv)
			good := dial()
			good.initOK(opt("field", str("value")))
			c := dial()
			c.sendRaw(bad.raw)
			rs := c.recvAll(5 * time.Second)
			if len(rs) != 1 || rs[0].GetError() == nil {
				t.Fatalf("responses %v, want one error then close", rs)
			}
			good.keepalive(1)
			good.batch("", nil, hourly(t0, 5, spikeAt(2)))
			if p := good.recv(5 * time.Second).GetPoint(); p == nil || p.Time != t0+2*hour {
				t.Fatalf("healthy connection: %v", p)
			}
		})
	}
}
