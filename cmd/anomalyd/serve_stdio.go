package main

import (
	"errors"
	"os"
	"time"
)

// stdioConn is process mode's connection: the protocol comes in on stdin
// and goes out on stdout.
type stdioConn struct {
	in, out *os.File
}

func newStdioConn(in, out *os.File) *stdioConn { return &stdioConn{in: in, out: out} }

func (c *stdioConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *stdioConn) Write(p []byte) (int, error) { return c.out.Write(p) }

// SetReadDeadline lets shutdown interrupt a blocked read (stdin is a pipe
// in process mode, which supports deadlines).
func (c *stdioConn) SetReadDeadline(t time.Time) error { return c.in.SetReadDeadline(t) }

// CloseRead stops reading where deadlines are not supported.
func (c *stdioConn) CloseRead() error { return c.in.Close() }

// Close closes both directions; stdout's close tells Kapacitor we are done.
func (c *stdioConn) Close() error {
	return errors.Join(c.out.Close(), c.in.Close())
}
