package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

func TestListenUnix_ReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.sock")
	old, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	old.(*net.UnixListener).SetUnlinkOnClose(false)
	old.Close() // a crashed daemon's leftover: a socket nobody listens on
	ln, err := listenUnix(path, 0o660, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	ln.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatal("socket file left behind after close")
	}
}

func TestListenUnix_Refuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("data"), 0o600)
	if _, err := listenUnix(file, 0o660, zaptest.NewLogger(t)); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("regular file: err = %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "data" {
		t.Fatal("regular file clobbered")
	}
	live := filepath.Join(dir, "live.sock")
	ln, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := listenUnix(live, 0o660, zaptest.NewLogger(t)); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("live socket: err = %v", err)
	}
}

// buildDaemon builds the anomalyd binary once per test binary run (see
// TestMain) and returns its path.
func buildDaemon(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	daemon.once.Do(func() {
		bin := filepath.Join(daemon.dir, "anomalyd")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			daemon.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		daemon.bin = bin
	})
	if daemon.err != nil {
		t.Fatal(daemon.err)
	}
	return daemon.bin
}

var daemon struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "anomalyd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	daemon.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeReq(t *testing.T, w interface{ Write([]byte) (int, error) }, r *udfpb.Request) {
	t.Helper()
	b, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...)); err != nil {
		t.Fatal(err)
	}
}

func readResp(t *testing.T, r *bufio.Reader) *udfpb.Response {
	t.Helper()
	n, err := binary.ReadUvarint(r)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	var resp udfpb.Response
	if err := proto.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	return &resp
}

var infoReq = &udfpb.Request{Message: &udfpb.Request_Info{Info: &udfpb.InfoRequest{}}}

// TestServe_Stdio runs `anomalyd serve --stdio` as Kapacitor does in
// process mode: stdout carries only the protocol, and the daemon exits 0
// when stdin closes.
func TestServe_Stdio(t *testing.T) {
	cmd := exec.Command(buildDaemon(t), "serve", "--stdio")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	writeReq(t, stdin, infoReq)
	r := bufio.NewReader(stdout)
	if info := readResp(t, r).GetInfo(); info == nil || info.Wants != udfpb.EdgeType_BATCH {
		t.Fatalf("info = %v", info)
	}
	stdin.Close()
	if rest, _ := r.ReadByte(); rest != 0 {
		t.Fatalf("stdout carries more than the protocol: %q", rest)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\nstderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "serving on stdin/stdout") {
		t.Fatalf("logs not on stderr: %q", stderr.String())
	}
}

// TestServe_Socket runs `anomalyd serve --socket` and stops it with
// SIGTERM: it exits 0 and removes its socket file.
func TestServe_Socket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anomalyd.sock")
	cmd := exec.Command(buildDaemon(t), "serve", "--socket", path, "--socket-mode", "0600", "--log-format", "console")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
		var err error
		if conn, err = net.Dial("unix", path); err == nil {
			break
		}
	}
	if conn == nil {
		cmd.Process.Kill()
		t.Fatalf("daemon not listening\n%s", stderr.String())
	}
	defer conn.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v %v", fi.Mode(), err)
	}
	writeReq(t, conn, infoReq)
	r := bufio.NewReader(conn)
	if readResp(t, r).GetInfo() == nil {
		t.Fatal("no info")
	}
	conn.(*net.UnixConn).CloseWrite()
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("daemon did not close after the half-close")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatal("socket file left behind")
	}
}

// TestServe_StdioSIGTERM: SIGTERM ends process mode even while stdin stays
// open (a blocked read on stdin cannot be interrupted).
func TestServe_StdioSIGTERM(t *testing.T) {
	cmd := exec.Command(buildDaemon(t), "serve", "--stdio", "--drain-timeout", "200ms")
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	writeReq(t, stdin, infoReq)
	if readResp(t, bufio.NewReader(stdout)).GetInfo() == nil {
		t.Fatal("no info")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("daemon did not exit on SIGTERM")
	}
}
