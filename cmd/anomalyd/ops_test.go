package main

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

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
