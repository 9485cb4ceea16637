package main

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/agent"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

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
