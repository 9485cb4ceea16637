package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/anomalyd/anomalyd/pkg/agent"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// load parses args with the flags of serve and loads the configuration.
func load(t *testing.T, env []string, args ...string) (Config, error) {
	t.Helper()
	flagCfg := DefaultConfig()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addConfigFlags(fs, &flagCfg)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(configFile(fs), env, fs, &flagCfg)
}

func TestLoadConfig_Precedence(t *testing.T) {
	file := writeFile(t, "anomalyd.toml", `
[serve]
socket = "/file.sock"
[agent]
max_groups = 10
max_detections = 3
shutdown_timeout = "20s"
[detect]
alpha = 0.01
period = "1d"
max_anoms = 0.2
[log]
level = "debug"
format = "console"
`)
	env := []string{
		"ANOMALYD_AGENT_MAX_GROUPS=20",
		"ANOMALYD_LOG_LEVEL=warn",
		"ANOMALYD_DETECT_MAX_ANOMS=0.03",
		"ANOMALYD_HTTP_ADDR=127.0.0.1:9101",
		"ANOMALYD_SOMETHING_ELSE=ignored", // not a section: not ours
		"PATH=/usr/bin",
	}
	cfg, err := load(t, env, "--config", file, "--max-groups", "30", "--log-format", "json", "--shutdown-timeout", "5s")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Serve.Socket = "/file.sock"                    // file
	want.Agent.MaxGroups = 30                           // flag over environment over file
	want.Agent.MaxDetections = 3                        // file
	want.Agent.ShutdownTimeout = 5 * time.Second        // flag over file
	want.Detect.Alpha = 0.01                            // file
	want.Detect.Period = agent.Duration(24 * time.Hour) // file
	want.Detect.MaxAnoms = 0.03                         // environment over file
	want.Log.Level = "warn"                             // environment over file (an unset flag's default does not count)
	want.Log.Format = "json"                            // a flag set to the default value still wins over the file
	want.HTTP.Addr = "127.0.0.1:9101"                   // environment
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", cfg, want)
	}
	if d := cfg.AgentConfig().Defaults; d.Detect.Alpha != 0.01 || d.Detect.MaxAnoms != 0.03 || d.Period != 24*time.Hour {
		t.Errorf("the [detect] section does not reach the agent's defaults: %+v", d)
	}

	t.Run("ANOMALYD_CONFIG names the file, --config wins over it", func(t *testing.T) {
		other := writeFile(t, "other.toml", "[agent]\nmax_groups = 77\n")
		cfg, err := load(t, []string{"ANOMALYD_CONFIG=" + file})
		if err != nil || cfg.Agent.MaxGroups != 10 {
			t.Errorf("ANOMALYD_CONFIG: max_groups %d, %v", cfg.Agent.MaxGroups, err)
		}
		cfg, err = load(t, []string{"ANOMALYD_CONFIG=" + file}, "--config", other)
		if err != nil || cfg.Agent.MaxGroups != 77 {
			t.Errorf("--config: max_groups %d, %v", cfg.Agent.MaxGroups, err)
		}
	})
	t.Run("deprecated --drain-timeout sets shutdown_timeout", func(t *testing.T) {
		cfg, err := load(t, nil, "--drain-timeout", "3s")
		if err != nil || cfg.Agent.ShutdownTimeout != 3*time.Second {
			t.Errorf("shutdown_timeout %s, %v", cfg.Agent.ShutdownTimeout, err)
		}
	})
	t.Run("defaults alone", func(t *testing.T) {
		cfg, err := load(t, nil)
		if err != nil || !reflect.DeepEqual(cfg, DefaultConfig()) {
			t.Errorf("%+v, %v", cfg, err)
		}
	})
}

// TestLoadConfig_Rejects: unknown keys and invalid values from every layer
// are reported together, each with its origin, key and reason.
func TestLoadConfig_Rejects(t *testing.T) {
	file := writeFile(t, "bad.toml", `
[serve]
sockt = "/x.sock"
socket_mode = "rw-rw----"

[agent]
max_groups = "many"
max_batch_points = 0

[detect]
max_anoms = 0.7
direction = "sideways"

[metrics]
addr = ":9101"

[log.file]
path = "/var/log/anomalyd.log"
`)
	env := []string{
		"ANOMALYD_AGENT_MAX_GRUOPS=5",
		"ANOMALYD_DETECT_PERIOD=1x",
		"ANOMALYD_LOG_LEVEL=loud",
	}
	_, err := load(t, env, "--config", file, "--max-detections", "-1", "--alpha", "1.5")
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConfigError", err)
	}
	want := []string{
		file + ": unknown key serve.sockt; the keys of [serve] are socket, socket_mode, stdio",
		file + ": serve.socket_mode: line 4: 'rw-rw----' is not an octal file mode such as 0660",
		file + ": agent.max_groups: line 7: incompatible types: TOML value has type string; destination has type integer",
		file + ": agent.max_batch_points: 0, must be at least 1",
		file + ": detect.max_anoms: 0.7 is out of range, must be in (0, 0.49]",
		file + ": detect.direction: 'sideways' is not one of 'pos', 'neg', 'both'",
		file + ": unknown section [metrics]; the sections are [serve], [agent], [detect], [log], [http]",
		file + ": unknown key log.file; the keys of [log] are level, format",
		"environment ANOMALYD_AGENT_MAX_GRUOPS: unknown key agent.max_gruops",
		"environment ANOMALYD_DETECT_PERIOD: detect.period: '1x' is not a duration such as 1d, 12h or 90m",
		"environment ANOMALYD_LOG_LEVEL: log.level: 'loud' is not one of debug, info, warn, error",
		"flag --max-detections: agent.max_detections: -1 is negative",
		"flag --alpha: detect.alpha: 1.5 is out of range, must be in (0, 1)",
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(ce.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(ce.Problems), len(want), msg)
	}

	t.Run("syntax error with its line", func(t *testing.T) {
		bad := writeFile(t, "syntax.toml", "[agent]\nmax_groups = = 3\n")
		_, err := load(t, nil, "--config", bad)
		if err == nil || !strings.Contains(err.Error(), bad+": line 2: ") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := load(t, nil, "--config", filepath.Join(t.TempDir(), "none.toml"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("a top-level key outside any section", func(t *testing.T) {
		bad := writeFile(t, "flat.toml", "socket = \"/x.sock\"\n")
		_, err := load(t, nil, "--config", bad)
		if err == nil || !strings.Contains(err.Error(), "unknown section [socket]") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("rules across sections", func(t *testing.T) {
		_, err := load(t, nil, "--stdio", "--socket", "/x.sock", "--http-addr", "127.0.0.1:9101")
		if err == nil || !strings.Contains(err.Error(), "flag --stdio: serve.stdio: set together with socket") ||
			!strings.Contains(err.Error(), "flag --http-addr: http.addr: not available with --stdio") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestConfig_ValidateErrorsNameKeys: every error of Validate starts with
// a "section.key" that exists, so that loadConfig can say where the value
// came from.
func TestConfig_ValidateErrorsNameKeys(t *testing.T) {
	c := DefaultConfig()
	c.Serve = ServeConfig{Socket: "x", Stdio: true, SocketMode: 0o7777}
	c.Agent = agent.Config{MaxFrameSize: 1, MaxGroups: -1, MaxBatchPoints: -1, MaxQueuedPoints: -2, MaxDetections: -1, ShutdownTimeout: -1}
	c.Detect = agent.DetectConfig{Period: 1, History: 1, MaxAnoms: 2, Alpha: 2, Direction: "x", Threshold: "x", PiecewiseMedianPeriodWeeks: 1, Emit: "x"}
	c.Log = LogConfig{Level: "x", Format: "x"}
	c.HTTP.Addr = "x"
	errs := unjoin(c.Validate())
	if len(errs) < 20 {
		t.Errorf("only %d problems: %v", len(errs), errs)
	}
	for _, err := range errs {
		if _, ok := lookupKey(&c, keyOf(err)); !ok {
			t.Errorf("error does not start with a key: %v", err)
		}
	}
}

func TestConfig_EveryFieldHasAKey(t *testing.T) {
	c := DefaultConfig()
	for _, s := range sections(&c) {
		for i := range s.v.NumField() {
			f := s.v.Type().Field(i)
			if f.IsExported() && f.Tag.Get("toml") == "" {
				t.Errorf("[%s] %s has no toml tag", s.name, f.Name)
			}
		}
	}
	if n := reflect.TypeFor[Config]().NumField(); len(sections(&c)) != n {
		t.Errorf("%d sections for %d fields of Config", len(sections(&c)), n)
	}
}

// TestConfigFlags_BoundToKeys: each configuration flag is bound to an
// existing key, and every key of these sections can be set by a flag.
func TestConfigFlags_BoundToKeys(t *testing.T) {
	c := DefaultConfig()
	bound := make(map[string]bool)
	for _, cmd := range []*cobra.Command{newServeCmd(), newConfigCmd(), newHealthCmd()} {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			keys := f.Annotations[keyAnnotation]
			if len(keys) == 0 {
				switch f.Name {
				case "config", "timeout", "wait":
				default:
					t.Errorf("%s --%s is bound to no key", cmd.Name(), f.Name)
				}
				return
			}
			if _, ok := lookupKey(&c, keys[0]); !ok {
				t.Errorf("%s --%s is bound to unknown key %s", cmd.Name(), f.Name, keys[0])
			}
			bound[keys[0]] = true
		})
	}
	for _, s := range sections(&c) {
		switch s.name {
		case "serve", "agent", "detect", "log", "http":
		default:
			continue // a newer section may keep secrets off the command line
		}
		for i := range s.v.NumField() {
			if k := tomlName(s.v.Type().Field(i)); k != "" && !bound[s.name+"."+k] {
				t.Errorf("%s.%s has no flag", s.name, k)
			}
		}
	}
}

// runCmd runs the root command with args and returns its stdout.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// TestConfigCmd_RoundTrip: what `anomalyd config` prints loads back to
// the same configuration.
func TestConfigCmd_RoundTrip(t *testing.T) {
	file := writeFile(t, "in.toml", "[serve]\nsocket = \"/run/a b/anomalyd.sock\"\nsocket_mode = \"0600\"\n[detect]\nhistory = \"3w\"\nperiod = \"36h\"\nthreshold = \"p95\"\nlongterm = true\n")
	for _, args := range [][]string{
		{"config"},
		{"config", "--config", file, "--max-anoms", "0.02", "--direction", "both", "--emit", "all", "--http-addr", "127.0.0.1:9101",
			"--metrics-task-labels", "--log-format", "console", "--shutdown-timeout", "1m30s", "--max-detections", "2", "--strict-restore"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, err := runCmd(t, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var want Config
			if len(args) == 1 {
				want = DefaultConfig()
			} else {
				want, err = load(t, nil, args[1:]...)
				if err != nil {
					t.Fatal(err)
				}
				if want.Detect.Period != agent.Duration(36*time.Hour) || !want.HTTP.MetricsTaskLabels {
					t.Fatalf("the layers were not applied: %+v", want)
				}
			}
			printed := writeFile(t, "printed.toml", out)
			got, err := load(t, nil, "--config", printed)
			if err != nil {
				t.Fatalf("the printed configuration does not load: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", got, want, out)
			}
		})
	}
	t.Run("invalid configuration: no output, exit 1", func(t *testing.T) {
		out, err := runCmd(t, "config", "--alpha", "2")
		if err == nil || strings.Contains(out, "[serve]") {
			t.Fatalf("err %v, out %q", err, out)
		}
	})
}

// TestExampleConfig: configs/anomalyd.toml loads, sets every key, and
// equals the defaults but for the socket path it shows.
func TestExampleConfig(t *testing.T) {
	const path = "../../configs/anomalyd.toml"
	cfg, err := load(t, nil, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Serve.Socket = "/run/anomalyd/anomalyd.sock" // deliberate: the path of the systemd unit and the container image
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("%s differs from the defaults:\n got %+v\nwant %+v", path, cfg, want)
	}
	var raw map[string]any
	md, err := toml.DecodeFile(path, &raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sections(&cfg) {
		for i := range s.v.NumField() {
			if k := tomlName(s.v.Type().Field(i)); k != "" && !md.IsDefined(s.name, k) {
				t.Errorf("%s does not document %s.%s", path, s.name, k)
			}
		}
	}
}

func TestSetString_Types(t *testing.T) {
	var v struct {
		S  string
		B  bool
		I  int
		U  uint16
		F  float64
		D  time.Duration
		AD agent.Duration
		M  FileMode
		L  []string
	}
	rv := reflect.ValueOf(&v).Elem()
	for _, tc := range []struct {
		field, in string
		ok        bool
	}{
		{"S", "text", true}, {"B", "true", true}, {"B", "yes", false}, {"I", "-42", true}, {"I", "4x", false},
		{"U", "65535", true}, {"U", "65536", false}, {"F", "0.25", true}, {"F", "x", false},
		{"D", "1m30s", true}, {"D", "1d", false}, {"AD", "2w", true}, {"AD", "2y", false},
		{"M", "0640", true}, {"M", "0999", false}, {"L", " anomaly, anomaly2 ,", true},
	} {
		err := setString(rv.FieldByName(tc.field), tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s = %q: %v", tc.field, tc.in, err)
		}
	}
	if v.S != "text" || !v.B || v.I != -42 || v.U != 65535 || v.F != 0.25 || v.D != 90*time.Second ||
		v.AD != agent.Duration(14*24*time.Hour) || v.M != 0o640 || !reflect.DeepEqual(v.L, []string{"anomaly", "anomaly2"}) {
		t.Errorf("parsed %+v", v)
	}
}

func TestFileMode(t *testing.T) {
	var m FileMode
	if err := m.Set("0640"); err != nil || m != 0o640 || m.String() != "0640" {
		t.Fatalf("mode %v %v", m, err)
	}
	if err := m.Set("rw-"); err == nil {
		t.Fatal("bad mode accepted")
	}
}
