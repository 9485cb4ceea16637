//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// proc is one server process started by a test. Its stdout and stderr go
// to a log file that is printed when the test fails.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
}

// startProc starts argv[0] with argv[1:], in its own process group (so that
// children it spawns, like process-mode UDFs, can be cleaned up with it),
// killed if the test binary dies. It does not stop it at cleanup; the
// callers register that, in the order the servers must stop.
func startProc(t testing.TB, name, logPath string, argv ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "=== e2e: starting %s\n", strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process (by PID) and waits up to timeout for it
// to exit; then it kills the process group. It returns an error if the
// process had to be killed or exited unsuccessfully.
func (p *proc) stop(timeout time.Duration) error {
	defer p.killGroup()
	if p.exited() {
		return p.exitError("had already exited")
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.exitError("on SIGTERM")
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s (pid %d) did not exit within %s of SIGTERM; killed", p.name, p.pid(), timeout)
	}
}

func (p *proc) exitError(when string) error {
	if p.waitErr != nil {
		return fmt.Errorf("%s (pid %d) exited %s: %v", p.name, p.pid(), when, p.waitErr)
	}
	return nil
}

// kill9 sends SIGKILL to the process (by PID) and waits for it.
func (p *proc) kill9() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// killGroup kills whatever is left of the process's group (children).
func (p *proc) killGroup() {
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
}

// logText returns the process's log so far.
func (p *proc) logText() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d lines before]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// errPortInUse marks a start that failed because a port was taken between
// freePort and the server's bind; the caller retries with new ports.
var errPortInUse = errors.New("port in use")

// waitUntil polls cond every 100 ms until it returns nil, the process dies
// or timeout passes, and returns the last error.
func waitUntil(p *proc, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if p != nil && p.exited() {
			if bytes.Contains([]byte(p.logText()), []byte("address already in use")) {
				return errPortInUse
			}
			return fmt.Errorf("%s exited (%v) while waiting: %w", p.name, p.waitErr, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shortTempDir makes a temporary directory with a short path (a Unix socket
// path must fit in 108 bytes; t.TempDir's can be longer) and removes it at
// cleanup.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ae2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
