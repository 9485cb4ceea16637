package agent

import (
	"context"
	"net"
	"testing"
)

func netPipe() (net.Conn, net.Conn) { return net.Pipe() }

func contextWithCancel(t testing.TB) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}
