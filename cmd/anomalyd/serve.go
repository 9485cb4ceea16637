package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/anomalyd/anomalyd/pkg/agent"
)

func newServeCmd() *cobra.Command {
	cfg := DefaultConfig()
	cmd := &cobra.Command{
		Use:   "serve (--socket PATH | --stdio)",
		Short: "Serve Kapacitor's UDF protocol on a Unix socket or on stdin/stdout",
		Long: `serve speaks Kapacitor's UDF protocol: on a Unix socket (kapacitor.conf
[udf.functions.NAME] socket = PATH; start anomalyd before kapacitord), or on
stdin/stdout for process mode (prog = "/usr/bin/anomalyd", args = ["serve",
"--stdio"]), where logs go to stderr only and the daemon exits 0 when stdin
ends.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			return runServe(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Serve.Socket, "socket", cfg.Serve.Socket, "serve on this Unix socket path")
	f.Var(&cfg.Serve.SocketMode, "socket-mode", "permission bits of the socket file (kapacitord needs write access)")
	f.BoolVar(&cfg.Serve.Stdio, "stdio", cfg.Serve.Stdio, "serve one connection on stdin/stdout (Kapacitor process mode)")
	f.IntVar(&cfg.Agent.MaxGroups, "max-groups", cfg.Agent.MaxGroups, "groups kept per task node; points of further groups are dropped and counted")
	f.BoolVar(&cfg.Agent.StrictRestore, "strict-restore", cfg.Agent.StrictRestore, "fail the task (restore success=false) on an unusable snapshot instead of starting fresh")
	f.IntVar(&cfg.Agent.MaxFrameSize, "max-frame-size", cfg.Agent.MaxFrameSize, "largest accepted frame, in bytes (snapshots are the largest)")
	f.IntVar(&cfg.Agent.MaxBatchPoints, "max-batch-points", cfg.Agent.MaxBatchPoints, "points kept per batch; the rest is dropped and counted")
	f.IntVar(&cfg.Agent.MaxQueuedPoints, "max-queued-points", cfg.Agent.MaxQueuedPoints, "points waiting for detection per connection; batches beyond are dropped and counted")
	f.IntVar(&cfg.Agent.MaxDetections, "max-detections", cfg.Agent.MaxDetections, "concurrent S-H-ESD runs over all connections (0: one per CPU)")
	f.DurationVar(&cfg.Agent.ShutdownTimeout, "drain-timeout", cfg.Agent.ShutdownTimeout, "on shutdown, how long connections may take to finish queued work")
	f.StringVar(&cfg.Log.Level, "log-level", cfg.Log.Level, "debug, info, warn or error")
	f.StringVar(&cfg.Log.Format, "log-format", cfg.Log.Format, "json or console")
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
	srv := agent.NewServer(cfg.Agent, nil, log)
	go forceExitOnSecondSignal(ctx, log)

	if cfg.Serve.Stdio {
		log.Info("serving on stdin/stdout", zap.String("version", version))
		done := make(chan error, 1)
		go func() { done <- srv.ServeConn(ctx, newStdioConn(os.Stdin, os.Stdout)) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			// A read on a blocking stdin cannot be interrupted: give the
			// session its drain time, then exit regardless.
			select {
			case err = <-done:
			case <-time.After(cfg.Agent.ShutdownTimeout + time.Second):
				log.Warn("stdin read still blocked after the drain timeout, exiting")
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("serve stdio: %w", err)
		}
		return nil
	}

	ln, err := listenUnix(cfg.Serve.Socket, os.FileMode(cfg.Serve.SocketMode), log)
	if err != nil {
		return err
	}
	log.Info("serving", zap.String("socket", cfg.Serve.Socket), zap.Stringer("mode", cfg.Serve.SocketMode), zap.String("version", version))
	err = srv.Serve(ctx, ln)
	log.Info("stopped", zap.Uint64("connections", srv.Stats().ConnsOpened.Load()))
	return err
}

// forceExitOnSecondSignal exits at once on a signal received after ctx
// ended (the first signal starts a graceful, bounded shutdown).
func forceExitOnSecondSignal(ctx context.Context, log *zap.Logger) {
	<-ctx.Done()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
	log.Warn("second signal, exiting without draining")
	log.Sync() //nolint:errcheck
	os.Exit(1)
}
