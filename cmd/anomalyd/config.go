package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/anomalyd/anomalyd/pkg/agent"
)

// Config is the daemon's whole configuration: defaults, then flags (a
// later layer adds a TOML file and environment variables between them).
type Config struct {
	Serve ServeConfig  `toml:"serve"`
	Agent agent.Config `toml:"agent"`
	Log   LogConfig    `toml:"log"`
}

// ServeConfig says where the daemon serves.
type ServeConfig struct {
	// Socket is the Unix socket path (socket mode).
	Socket string `toml:"socket"`
	// SocketMode is the socket file's permission bits, applied after
	// listening.
	SocketMode FileMode `toml:"socket-mode"`
	// Stdio serves one connection on stdin/stdout (process mode).
	Stdio bool `toml:"stdio"`
}

// LogConfig sets up the logger; logs always go to stderr.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // json, console
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Serve: ServeConfig{SocketMode: 0o660},
		Agent: agent.DefaultConfig(),
		Log:   LogConfig{Level: "info", Format: "json"},
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Serve.Stdio && c.Serve.Socket != "":
		errs = append(errs, errors.New("--socket and --stdio exclude each other"))
	case !c.Serve.Stdio && c.Serve.Socket == "":
		errs = append(errs, errors.New("one of --socket PATH or --stdio is required"))
	}
	if c.Serve.SocketMode&^0o777 != 0 {
		errs = append(errs, fmt.Errorf("socket mode: %v has bits outside 0777", c.Serve.SocketMode))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level: '%s' is not one of debug, info, warn, error", c.Log.Level))
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		errs = append(errs, fmt.Errorf("log format: '%s' is not one of json, console", c.Log.Format))
	}
	if err := c.Agent.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// FileMode is a permission mode written in octal ("0660"), as a flag and
// in TOML.
type FileMode os.FileMode

func (m FileMode) String() string { return fmt.Sprintf("%#o", uint32(m)) }

// Set parses an octal mode.
func (m *FileMode) Set(s string) error {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return fmt.Errorf("'%s' is not an octal file mode such as 0660", s)
	}
	*m = FileMode(v)
	return nil
}

// Type names the flag's value type in help output.
func (m *FileMode) Type() string { return "octal" }

// UnmarshalText lets TOML decode the mode from a string.
func (m *FileMode) UnmarshalText(b []byte) error { return m.Set(string(b)) }
