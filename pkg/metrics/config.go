// Package metrics exports the daemon's counters to Prometheus and serves
// the opt-in HTTP endpoints /metrics, /healthz and /readyz. It reads
// pkg/agent's Stats; it keeps no global state (each call to NewRegistry
// makes its own registry) and registers nothing at init.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Config is the [http] section of the configuration file. Every error of
// Validate starts with the key.
type Config struct {
	// Addr is the host:port the HTTP listener binds; empty turns it off.
	// Loopback (127.0.0.1:9101) keeps it private to the machine or pod.
	Addr string `toml:"addr"`

	// MetricsTaskLabels adds per-task-node metrics labelled task and node
	// (anomalyd_node_*). A series exists while its task node's connection
	// lasts, so the label sets are bounded by the running tasks. Never
	// labelled by group.
	MetricsTaskLabels bool `toml:"metrics_task_labels"`
}

// DefaultConfig returns the defaults: no HTTP listener.
func DefaultConfig() Config { return Config{} }

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if c.Addr != "" {
		_, port, err := net.SplitHostPort(c.Addr)
		if err == nil {
			if _, perr := strconv.ParseUint(port, 10, 16); perr != nil {
				err = fmt.Errorf("port '%s' is not a number in [0, 65535]", port)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("addr: '%s' is not a host:port such as 127.0.0.1:9101 (%v)", c.Addr, err))
		}
	}
	return errors.Join(errs...)
}
