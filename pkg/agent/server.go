// Package agent serves Kapacitor's UDF protocol: frame codec, socket
// server, one session per connection (reader, worker, writer), option
// parsing and the conversion between protocol messages and pkg/state.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/anomalyd/anomalyd/pkg/detect"
)

// Detector runs S-H-ESD on one series; *detect.Detector implements it.
// Each connection gets its own, so an implementation need not be safe for
// concurrent use.
type Detector interface {
	Ts(dst []detect.Anomaly, times []int64, values []float64, p detect.Params) ([]detect.Anomaly, error)
}

// NewDetector returns the real S-H-ESD detector.
func NewDetector() Detector { return new(detect.Detector) }

// Conn is one protocol stream: a net.Conn, or stdin/stdout in process
// mode. If it also has SetReadDeadline or CloseRead, shutdown interrupts a
// blocked read with it and lets queued work finish; otherwise shutdown
// closes the Conn.
type Conn interface {
	io.Reader
	io.Writer
	Close() error
}

// Server serves the UDF protocol; each connection gets its own session and
// state. Detection is limited daemon-wide by Config.MaxDetections.
type Server struct {
	cfg         Config
	newDetector func() Detector
	log         *zap.Logger
	stats       Stats
	sem         chan struct{}
	nextID      atomic.Uint64

	nodesMu sync.Mutex
	nodes   map[uint64]Node // running task nodes by connection ID
}

// Node is a running task node: a connection past a successful init.
type Node struct {
	Conn  uint64 // the connection's ID, as logged ("conn")
	Task  string
	Node  string
	Stats *NodeStats
}

// NewServer returns a Server. newDetector makes each connection's detector;
// nil means NewDetector. cfg must be valid (see Config.Validate).
func NewServer(cfg Config, newDetector func() Detector, log *zap.Logger) *Server {
	if newDetector == nil {
		newDetector = NewDetector
	}
	n := cfg.MaxDetections
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Server{cfg: cfg, newDetector: newDetector, log: log, sem: make(chan struct{}, n), nodes: make(map[uint64]Node)}
}

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// DetectionsRunning returns how many S-H-ESD runs hold a detection slot now.
func (s *Server) DetectionsRunning() int { return len(s.sem) }

// Nodes calls fn for each running task node, in no particular order. fn
// must not call back into the server.
func (s *Server) Nodes(fn func(Node)) {
	s.nodesMu.Lock()
	nodes := make([]Node, 0, len(s.nodes))
	for _, n := range s.nodes {
		nodes = append(nodes, n)
	}
	s.nodesMu.Unlock()
	for _, n := range nodes {
		fn(n)
	}
}

func (s *Server) addNode(n Node) {
	s.nodesMu.Lock()
	s.nodes[n.Conn] = n
	s.nodesMu.Unlock()
	s.stats.NodesActive.Add(1)
}

func (s *Server) removeNode(conn uint64) {
	s.nodesMu.Lock()
	delete(s.nodes, conn)
	s.nodesMu.Unlock()
	s.stats.NodesActive.Add(-1)
}

// Serve accepts connections on ln until ctx ends or Accept fails, serving
// each in its own goroutine. It closes ln and returns after every
// connection has ended; when ctx ends, connections get Config.ShutdownTimeout
// to finish their queued work.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil // shutting down
			}
			ln.Close()
			return fmt.Errorf("accept: %w", err)
		}
		wg.Go(func() {
			_ = s.ServeConn(ctx, conn) // the session logs how it ended
		})
	}
}

// ServeConn serves one connection until the peer ends it (EOF), a
// protocol error or ctx ends, and closes it. It returns the error that
// ended the session, nil for a clean end.
func (s *Server) ServeConn(ctx context.Context, conn Conn) error {
	id := s.nextID.Add(1)
	sess := newSession(s, conn, s.log.With(zap.Uint64("conn", id)))
	sess.id = id
	s.stats.ConnsOpened.Add(1)
	defer s.stats.ConnsClosed.Add(1)
	return sess.run(ctx)
}

// acquire takes a detection slot; release gives it back.
func (s *Server) acquire() { s.sem <- struct{}{} }
func (s *Server) release() { <-s.sem }

// errShutdown ends a session whose server is shutting down.
var errShutdown = errors.New("server shutting down")

// stopReading interrupts a blocked read on conn without closing its write
// side, if conn allows: a read deadline (net.Conn, pipes) or CloseRead.
func stopReading(conn Conn) bool {
	if d, ok := conn.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
		return true
	}
	if c, ok := conn.(interface{ CloseRead() error }); ok && c.CloseRead() == nil {
		return true
	}
	return false
}
