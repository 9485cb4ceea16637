package main

// The daemon's configuration: one Config made of one struct per section,
// each owned by the package that uses it. Values are layered, each layer
// overriding the one before:
//
//	defaults (DefaultConfig)
//	< the TOML file of --config FILE (or ANOMALYD_CONFIG)
//	< environment variables ANOMALYD_<SECTION>_<KEY>, e.g. ANOMALYD_AGENT_MAX_GROUPS
//	< the flags given on the command line
//
// config_load.go does the layering by reflection over Config, so a section
// needs no loading code of its own. Unknown keys (in the file, or in the
// environment under a known section's prefix) and invalid values are
// rejected at start, all together, each with where it came from, its key
// and the reason. `anomalyd config` prints the result as TOML.
//
// How to add a section, e.g. [kapacitor] for pkg/heal:
//
//  1. In the package that uses it, define its struct with snake_case toml
//     tags, DefaultConfig() and Validate() error; each error Validate
//     returns (errors.Join them) starts with the key: "interval: 0s, must
//     be at least 1s". See agent.Config and metrics.Config.
//  2. Add a field to Config below, tagged with the section name, and its
//     defaults to DefaultConfig. The file, the environment variables
//     (ANOMALYD_KAPACITOR_URL…), `anomalyd config`, unknown-key checks and
//     Config.Validate (which calls each section's Validate) then cover it.
//     Field types: string, bool, integers, float64, time.Duration,
//     []string (comma-separated in the environment) and any type that
//     implements encoding.TextUnmarshaler (and TextMarshaler, for
//     `anomalyd config`; a secret's MarshalText should redact it).
//  3. Add its flags to addConfigFlags in flags.go, each bound to its key
//     with bindKey, so that a flag the user sets overrides the other layers.
//     Secrets get no flag (they would show in process lists).
//  4. Document every key with its default in configs/anomalyd.toml (a test
//     fails until every key is there and the file loads to the defaults)
//     and in docs/operations.md.

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"

	"github.com/anomalyd/anomalyd/pkg/agent"
	"github.com/anomalyd/anomalyd/pkg/heal"
	"github.com/anomalyd/anomalyd/pkg/metrics"
)

// Config is the daemon's whole configuration; each field is a section of
// the TOML file.
type Config struct {
	Serve  ServeConfig        `toml:"serve"`
	Agent  agent.Config       `toml:"agent"`
	Detect agent.DetectConfig `toml:"detect"`
	Log    LogConfig          `toml:"log"`
	HTTP   metrics.Config     `toml:"http"`
	// Kapacitor is the self-healing of tasks after a restart (pkg/heal).
	Kapacitor heal.Config `toml:"kapacitor"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Serve:     DefaultServeConfig(),
		Agent:     agent.DefaultConfig(),
		Detect:    agent.DefaultDetectConfig(),
		Log:       DefaultLogConfig(),
		HTTP:      metrics.DefaultConfig(),
		Kapacitor: heal.DefaultConfig(),
	}
}

// Validate reports every invalid value at once, each error as
// "section.key: reason": every section's own Validate, then the rules
// that span sections.
func (c Config) Validate() error {
	var errs []error
	for _, s := range sections(&c) {
		v, ok := s.v.Interface().(interface{ Validate() error })
		if !ok {
			continue
		}
		for _, err := range unjoin(v.Validate()) {
			errs = append(errs, fmt.Errorf("%s.%w", s.name, err))
		}
	}
	if c.Serve.Stdio && c.HTTP.Addr != "" {
		errs = append(errs, errors.New("http.addr: not available with --stdio: Kapacitor starts one process per task node, and they cannot share a port"))
	}
	if c.Serve.Stdio && c.Kapacitor.Enabled() {
		errs = append(errs, errors.New("kapacitor.url: not available with --stdio: Kapacitor starts a new process for each task start, there is no connection to restore"))
	}
	return errors.Join(errs...)
}

// AgentConfig returns the agent's configuration with the [detect] defaults
// in it; c must be valid.
func (c Config) AgentConfig() agent.Config {
	a := c.Agent
	if d, err := c.Detect.Options(); err == nil {
		a.Defaults = d
	}
	return a
}

// unjoin returns the errors joined in err (errors.Join), or err alone.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// ServeConfig says where the daemon serves ([serve]).
type ServeConfig struct {
	// Socket is the Unix socket path (socket mode).
	Socket string `toml:"socket"`
	// SocketMode is the socket file's permission bits, applied after
	// listening.
	SocketMode FileMode `toml:"socket_mode"`
	// Stdio serves one connection on stdin/stdout (process mode).
	Stdio bool `toml:"stdio"`
}

// DefaultServeConfig returns the defaults: no socket yet, mode 0660.
func DefaultServeConfig() ServeConfig { return ServeConfig{SocketMode: 0o660} }

// Validate reports every invalid setting, each error starting with its key.
func (c ServeConfig) Validate() error {
	var errs []error
	if c.Stdio && c.Socket != "" {
		errs = append(errs, errors.New("stdio: set together with socket; --socket and --stdio exclude each other"))
	}
	if c.SocketMode&^0o777 != 0 {
		errs = append(errs, fmt.Errorf("socket_mode: %v has bits outside 0777", c.SocketMode))
	}
	return errors.Join(errs...)
}

// checkMode requires a way to serve; `anomalyd serve` needs one, the other
// commands do not.
func (c ServeConfig) checkMode() error {
	if !c.Stdio && c.Socket == "" {
		return errors.New("one of --socket PATH or --stdio is required (serve.socket, ANOMALYD_SERVE_SOCKET)")
	}
	return nil
}

// LogConfig sets up the logger ([log]); logs always go to stderr.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // json, console
}

// DefaultLogConfig returns the defaults: info, JSON.
func DefaultLogConfig() LogConfig { return LogConfig{Level: "info", Format: "json"} }

// Validate reports every invalid setting, each error starting with its key.
func (c LogConfig) Validate() error {
	var errs []error
	switch c.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("level: '%s' is not one of debug, info, warn, error", c.Level))
	}
	switch c.Format {
	case "json", "console":
	default:
		errs = append(errs, fmt.Errorf("format: '%s' is not one of json, console", c.Format))
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

// MarshalText writes the mode as String does, for `anomalyd config`.
func (m FileMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText lets TOML decode the mode from a string.
func (m *FileMode) UnmarshalText(b []byte) error { return m.Set(string(b)) }

// section is one field of Config: its TOML name and its value
// (addressable when taken from a *Config).
type section struct {
	name string
	v    reflect.Value
}

// sections lists c's sections in declaration order.
func sections(c *Config) []section {
	rv := reflect.ValueOf(c).Elem()
	var out []section
	for i := range rv.NumField() {
		if name := tomlName(rv.Type().Field(i)); name != "" {
			out = append(out, section{name, rv.Field(i)})
		}
	}
	return out
}

// tomlName is a struct field's key, "" if it has none (toml:"-" or
// unexported).
func tomlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name := f.Tag.Get("toml")
	if i := len(name); i > 0 {
		for j := range name {
			if name[j] == ',' {
				i = j
				break
			}
		}
		name = name[:i]
	}
	if name == "-" || name == "" {
		return ""
	}
	return name
}
