package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/anomalyd/anomalyd/pkg/agent"
)

func newHealthCmd() *cobra.Command {
	flagCfg := DefaultConfig()
	var timeout, wait time.Duration
	cmd := &cobra.Command{
		Use:   "health [--socket PATH] [--timeout 3s] [--wait 0s]",
		Short: "Exit 0 if the daemon at the socket answers Kapacitor's info request",
		Long: `health connects to the daemon's Unix socket, asks for its info as kapacitord
does at start-up, and exits 0 if the answer is anomalyd's; otherwise it says
what is wrong and exits 1. For container health checks and start-up scripts.

The socket is --socket, else serve.socket of the configuration (--config FILE,
$ANOMALYD_CONFIG, $ANOMALYD_SERVE_SOCKET), as for serve. --wait keeps trying
until the daemon answers or that long has passed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(configFile(cmd.Flags()), os.Environ(), cmd.Flags(), &flagCfg)
			if err != nil {
				return err
			}
			path := cfg.Serve.Socket
			if path == "" {
				return errors.New("health: no socket: give --socket PATH or set serve.socket (ANOMALYD_SERVE_SOCKET)")
			}
			if timeout <= 0 {
				return errors.New("health: --timeout must be positive")
			}
			deadline := time.Now().Add(wait)
			for {
				err = probe(cmd.Context(), path, timeout)
				if err == nil || !time.Now().Before(deadline) || cmd.Context().Err() != nil {
					break
				}
				select {
				case <-time.After(min(250*time.Millisecond, time.Until(deadline))):
				case <-cmd.Context().Done():
				}
			}
			if err != nil {
				return fmt.Errorf("health: %w", err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "ok: anomalyd at %s answers info\n", path)
			return err
		},
	}
	fs := cmd.Flags()
	fs.String("config", "", "TOML configuration file (default $"+envConfigFile+"), for serve.socket")
	fs.StringVar(&flagCfg.Serve.Socket, "socket", "", "the daemon's Unix socket (default: serve.socket of the configuration)")
	bindKey(fs, "socket", "serve.socket")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the connection and the answer")
	fs.DurationVar(&wait, "wait", 0, "keep trying until the daemon answers or this long has passed")
	return cmd
}

// probe asks the daemon at path for its info within timeout, and says in
// an operator's words what went wrong.
func probe(ctx context.Context, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s does not exist: is anomalyd serve running, with this socket?", path)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: connection refused: no daemon listens there (a socket file left by a daemon that died?)", path)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%s: permission denied: this user may not write to the socket (see serve.socket_mode and the socket's group)", path)
	case ctx.Err() != nil && err != nil:
		return fmt.Errorf("%s: no connection within %s", path, timeout)
	case err != nil:
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := agent.Probe(conn); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("%s: no answer to info within %s (the daemon is stuck or overloaded)", path, timeout)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
