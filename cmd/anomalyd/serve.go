package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/anomalyd/anomalyd/pkg/agent"
	"github.com/anomalyd/anomalyd/pkg/heal"
	"github.com/anomalyd/anomalyd/pkg/metrics"
)

func newServeCmd() *cobra.Command {
	flagCfg := DefaultConfig()
	cmd := &cobra.Command{
		Use:   "serve (--socket PATH | --stdio)",
		Short: "Serve Kapacitor's UDF protocol on a Unix socket or on stdin/stdout",
		Long: `serve speaks Kapacitor's UDF protocol: on a Unix socket (kapacitor.conf
[udf.functions.NAME] socket = PATH; start anomalyd before kapacitord), or on
stdin/stdout for process mode (prog = "/usr/bin/anomalyd", args = ["serve",
"--stdio"]), where logs go to stderr only and the daemon exits 0 when stdin
ends.

Settings come from the defaults, then the --config file, then ANOMALYD_*
environment variables (ANOMALYD_SECTION_KEY, e.g. ANOMALYD_SERVE_SOCKET), then
the flags; "anomalyd config" prints the result. The [detect] flags (--period,
--max-anoms…) are the defaults of every task; a task's own TICKscript options
override them.

On SIGTERM or SIGINT the daemon stops accepting connections and removes its
socket file, lets queued batches and in-flight detections finish for up to
--shutdown-timeout, sends their anomalies, closes the connections and exits 0.
A second signal exits at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configFile(cmd.Flags()), os.Environ(), cmd.Flags(), &flagCfg)
			if err != nil {
				return err
			}
			if err := cfg.Serve.checkMode(); err != nil {
				return err
			}
			return runServe(cmd.Context(), cfg)
		},
	}
	addConfigFlags(cmd.Flags(), &flagCfg)
	return cmd
}

// newLogger builds the daemon's logger; it writes to stderr only, so that
// stdout can carry the protocol in process mode.
func newLogger(c LogConfig) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	if c.Format == "console" {
		enc = zap.NewDevelopmentEncoderConfig()
	}
	zc := zap.Config{
		Level:            zap.NewAtomicLevelAt(level),
		Encoding:         c.Format,
		EncoderConfig:    enc,
		OutputPaths:      []string{"stderr"},
		ErrorOutputPaths: []string{"stderr"},
	}
	return zc.Build()
}

func runServe(ctx context.Context, cfg Config) error {
	log, err := newLogger(cfg.Log)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync fails on some terminals
	srv := agent.NewServer(cfg.AgentConfig(), nil, log)
	defer forceExitOnSecondSignal(log)()
	if cfg.Serve.Stdio {
		return serveStdio(ctx, cfg, srv, log)
	}
	return serveSocket(ctx, cfg, srv, log)
}

// serveStdio serves process mode: one connection on stdin/stdout.
func serveStdio(ctx context.Context, cfg Config, srv *agent.Server, log *zap.Logger) error {
	log.Info("serving on stdin/stdout", zap.String("version", version))
	done := make(chan error, 1)
	go func() { done <- srv.ServeConn(ctx, newStdioConn(os.Stdin, os.Stdout)) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// A read on a blocking stdin cannot be interrupted: give the
		// session its shutdown time, then exit regardless.
		select {
		case err = <-done:
		case <-time.After(cfg.Agent.ShutdownTimeout + time.Second):
			log.Warn("stdin read still blocked after the shutdown timeout, exiting")
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("serve stdio: %w", err)
	}
	return nil
}

// shutdownGrace is how long, past the shutdown timeout, the daemon waits
// for its connections to end: the sessions close their connections at the
// timeout, but a detection that is running then still has to return.
const shutdownGrace = 2 * time.Second

// serveSocket serves socket mode, with the HTTP endpoints if configured,
// until ctx ends (a signal) and the connections have drained.
func serveSocket(ctx context.Context, cfg Config, srv *agent.Server, log *zap.Logger) error {
	// Self-healing's settings (its CA file) are checked before anything
	// listens.
	var healer *heal.Healer
	if cfg.Kapacitor.Enabled() {
		var err error
		if healer, err = heal.New(cfg.Kapacitor, log.Named("heal"), heal.WithConnectedTasks(connectedTasks(srv))); err != nil {
			return fmt.Errorf("kapacitor: %w", err)
		}
	}
	// The HTTP listener binds first, so that a port in use fails the start
	// before the socket exists (kapacitord would connect to a daemon about
	// to exit). /readyz says 503 until the socket accepts.
	var web *httpServer
	sock := &socketState{path: cfg.Serve.Socket}
	// accepting is true from the moment the socket listens (the kernel
	// queues connections from then on) until the accept loop ends.
	var accepting atomic.Bool
	if cfg.HTTP.Addr != "" {
		ready := func() error {
			if ctx.Err() != nil {
				return errors.New("shutting down")
			}
			if !accepting.Load() {
				return errors.New("the UDF socket is not accepting connections")
			}
			return sock.check()
		}
		reg := metrics.NewRegistry(srv, cfg.HTTP, version)
		if healer != nil {
			reg.MustRegister(metrics.NewHealCollector(healer.Stats()))
		}
		h := metrics.Handler(reg, ready)
		var err error
		if web, err = startHTTP(cfg.HTTP.Addr, h, log); err != nil {
			return err
		}
		defer web.stop()
	}
	ln, err := listenUnix(cfg.Serve.Socket, os.FileMode(cfg.Serve.SocketMode), log)
	if err != nil {
		return err
	}
	if err := sock.remember(); err != nil {
		ln.Close()
		return err
	}
	accepting.Store(true)
	fields := []zap.Field{zap.String("socket", cfg.Serve.Socket), zap.Stringer("mode", cfg.Serve.SocketMode), zap.String("version", version)}
	if web != nil {
		fields = append(fields, zap.Stringer("http", web.addr()))
	}
	log.Info("serving", fields...)

	served := make(chan error, 1)
	go func() {
		err := srv.Serve(ctx, ln)
		accepting.Store(false)
		served <- err
	}()
	// Self-healing starts once the socket listens: the tasks it re-enables
	// connect at once. It stops with ctx.
	healed := make(chan struct{})
	healCtx, stopHeal := context.WithCancel(ctx)
	if healer != nil {
		go func() {
			defer close(healed)
			healer.Run(healCtx) //nolint:errcheck // returns nil when healCtx ends
		}()
	} else {
		close(healed)
	}
	defer func() {
		stopHeal()
		waitHealer(healed, cfg.Kapacitor.Timeout, log)
	}()
	select {
	case err = <-served: // the listener failed
	case <-ctx.Done():
		// Serve closes the listener too; closing it here first makes the
		// log line below true when it is written.
		accepting.Store(false)
		ln.Close()
		st := srv.Stats()
		log.Info("shutting down: socket closed and removed; waiting for connections to finish their work",
			zap.Int64("connections", int64(st.ConnsOpened.Load()-st.ConnsClosed.Load())),
			zap.Int64("task_nodes", st.NodesActive.Load()), zap.Int("detections_running", srv.DetectionsRunning()),
			zap.Duration("shutdown_timeout", cfg.Agent.ShutdownTimeout))
		select {
		case err = <-served:
		case <-time.After(cfg.Agent.ShutdownTimeout + shutdownGrace):
			err = fmt.Errorf("shutdown: %d connections still busy %s after the shutdown timeout, exiting anyway",
				st.ConnsOpened.Load()-st.ConnsClosed.Load(), shutdownGrace)
		}
	}
	st := srv.Stats()
	log.Info("stopped", zap.Uint64("connections", st.ConnsOpened.Load()), zap.Uint64("batches", st.BatchesIn.Load()),
		zap.Uint64("anomalies_emitted", st.AnomaliesEmitted.Load()))
	return err
}

// connectedTasks returns the IDs of the tasks with a task node connected to
// srv now, for the healer.
func connectedTasks(srv *agent.Server) func() map[string]bool {
	return func() map[string]bool {
		ids := make(map[string]bool)
		srv.Nodes(func(n agent.Node) { ids[n.Task] = true })
		return ids
	}
}

// waitHealer waits for the self-healing loop to return after the daemon
// was told to stop: a task it disabled to restart it is still enabled then
// (two requests of at most timeout each).
func waitHealer(done <-chan struct{}, timeout time.Duration, log *zap.Logger) {
	select {
	case <-done:
	case <-time.After(2*timeout + time.Second):
		log.Warn("self-healing still waiting for Kapacitor at exit")
	}
}

// socketState remembers the socket file the daemon created, to tell
// whether it is still there (readiness): a socket file removed or replaced
// by someone else leaves the daemon listening where nobody can connect.
type socketState struct {
	path string
	dev  uint64
	ino  uint64
}

func (s *socketState) remember() error {
	fi, err := os.Lstat(s.path)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino = uint64(st.Dev), st.Ino
	}
	return nil
}

func (s *socketState) check() error {
	fi, err := os.Lstat(s.path)
	if err != nil {
		return fmt.Errorf("socket file %s is gone (%v): kapacitord cannot connect; restart anomalyd", s.path, errors.Unwrap(err))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Type() != os.ModeSocket || ok && (uint64(st.Dev) != s.dev || st.Ino != s.ino) {
		return fmt.Errorf("socket file %s was replaced by another file: kapacitord cannot reach this daemon; restart anomalyd", s.path)
	}
	return nil
}

// forceExitOnSecondSignal exits at once on the second SIGTERM or SIGINT
// (the first ends ctx and starts a graceful, bounded shutdown). Its channel
// is registered from the start, so a second signal that follows the first
// closely is not missed. The returned func stops watching.
func forceExitOnSecondSignal(log *zap.Logger) (stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 0; ; {
			select {
			case <-ch:
				if n++; n < 2 {
					continue
				}
				log.Warn("second signal, exiting without draining")
				log.Sync() //nolint:errcheck
				os.Exit(1)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
