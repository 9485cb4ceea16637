//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Test database and retention policy, in influxd and in Kapacitor's
// write endpoint alike.
const (
	testDB = "e2e"
	testRP = "autogen"
)

// clusterConfig says which servers a test needs.
type clusterConfig struct {
	// influxd starts an influxd and points Kapacitor's [[influxdb]] at it
	// (batch tasks). Without it the section is disabled.
	influxd bool
	// processMode has kapacitord spawn `anomalyd serve --stdio` itself
	// instead of connecting to a socket daemon.
	processMode bool
	// snapshotInterval is [task] snapshot-interval; 0 means 1s.
	snapshotInterval time.Duration
}

// cluster is one test's servers: anomalyd (socket mode), kapacitord and
// optionally influxd, each on loopback with its own directories and ports.
// They stop at cleanup in dependency order: kapacitord (which half-closes
// its UDF connections and waits for anomalyd to close them), anomalyd,
// influxd.
type cluster struct {
	t   testing.TB
	cfg clusterConfig
	dir string // data, configs, logs, alert logs

	socket   string // anomalyd's socket (socket mode)
	anomalyd *proc  // the current anomalyd (socket mode)

	kapacitord *proc
	kapURL     string

	influxd   *proc
	influxURL string
}

func newCluster(t testing.TB, cfg clusterConfig) *cluster {
	t.Helper()
	if cfg.snapshotInterval == 0 {
		cfg.snapshotInterval = time.Second
	}
	c := &cluster{t: t, cfg: cfg, dir: t.TempDir()}
	c.socket = filepath.Join(shortTempDir(t), "anomalyd.sock")
	t.Cleanup(c.stopAll)
	if cfg.influxd {
		c.startInfluxd()
	}
	if !cfg.processMode {
		// kapacitord asks every configured UDF for Info at start-up and
		// refuses to start without an answer: the daemon comes first.
		c.startAnomalyd()
	}
	c.startKapacitord()
	return c
}

// stopAll stops everything still running, checks that each server stopped
// cleanly on SIGTERM, and prints the logs if the test failed.
func (c *cluster) stopAll() {
	t := c.t
	if c.kapacitord != nil {
		// Stop hangs if a UDF connection is never closed (spec §4.4).
		if err := c.kapacitord.stop(30 * time.Second); err != nil {
			t.Errorf("kapacitord: %v", err)
		}
		if strings.Contains(c.kapacitord.logText(), "panic:") {
			t.Errorf("kapacitord panicked; see its log")
		}
	}
	if c.anomalyd != nil && !c.anomalyd.exited() {
		if err := c.anomalyd.stop(20 * time.Second); err != nil {
			t.Errorf("anomalyd: %v", err)
		}
	}
	if c.influxd != nil {
		if err := c.influxd.stop(20 * time.Second); err != nil {
			t.Errorf("influxd: %v", err)
		}
	}
	if t.Failed() {
		for _, p := range []*proc{c.influxd, c.anomalyd, c.kapacitord} {
			if p != nil {
				t.Logf("--- %s log (%s):\n%s", p.name, p.logPath, tail(p.logText(), 150))
			}
		}
		if files, _ := filepath.Glob(filepath.Join(c.dir, "alerts-*.log")); len(files) > 0 {
			for _, f := range files {
				b, _ := os.ReadFile(f)
				t.Logf("--- %s:\n%s", f, tail(string(b), 40))
			}
		}
	}
}

// startAnomalyd starts `anomalyd serve --socket` with args after the
// common ones and waits until the new daemon serves. A restarted daemon
// logs to the same file.
func (c *cluster) startAnomalyd(args ...string) {
	t := c.t
	t.Helper()
	argv := append([]string{bins.anomalyd, "serve", "--socket", c.socket, "--log-level", "debug"}, args...)
	p := startProc(t, "anomalyd", filepath.Join(c.dir, "anomalyd.log"), argv...)
	c.anomalyd = p
	err := waitUntil(p, 20*time.Second, func() error {
		fi, err := os.Stat(c.socket)
		if err != nil {
			return err
		}
		if fi.Mode().Type() != fs.ModeSocket {
			return fmt.Errorf("%s is not a socket", c.socket)
		}
		// A socket left by a killed daemon exists before the new one
		// listens; wait for the new daemon to say it serves.
		if !strings.Contains(lastStart(p.logText()), `"serving"`) {
			return errors.New("anomalyd has not logged \"serving\" yet")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("anomalyd did not start: %v", err)
	}
}

// lastStart returns the part of a log written by the latest start.
func lastStart(log string) string {
	if i := strings.LastIndex(log, "=== e2e: starting"); i >= 0 {
		return log[i:]
	}
	return log
}

// udfSection is the [udf.functions.anomaly] section for the cluster's mode.
func (c *cluster) udfSection() string {
	if c.cfg.processMode {
		return fmt.Sprintf(`[udf.functions.anomaly]
  prog = %q
  args = ["serve", "--stdio", "--log-level", "debug"]
  timeout = "10s"
`, bins.anomalyd)
	}
	return fmt.Sprintf(`[udf.functions.anomaly]
  socket = %q
  timeout = "10s"
`, c.socket)
}

func (c *cluster) influxSection() string {
	if c.influxd == nil {
		return `[[influxdb]]
  enabled = false
  name = "default"
  urls = ["http://127.0.0.1:1"]
`
	}
	return fmt.Sprintf(`[[influxdb]]
  enabled = true
  default = true
  name = "default"
  urls = [%q]
  timeout = "10s"
  disable-subscriptions = true
  startup-timeout = "1m"
`, c.influxURL)
}

func (c *cluster) startKapacitord() {
	t := c.t
	t.Helper()
	data := filepath.Join(c.dir, "kapacitor")
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		conf := fmt.Sprintf(`hostname = "127.0.0.1"
data_dir = %[1]q
skip-config-overrides = true

[http]
  bind-address = "127.0.0.1:%[2]d"
  log-enabled = false

[replay]
  dir = "%[1]s/replay"

[storage]
  boltdb = "%[1]s/kapacitor.db"

[task]
  dir = "%[1]s/tasks"
  snapshot-interval = %[3]q

[load]
  enabled = false

[logging]
  file = "STDERR"
  level = "INFO"

[config-override]
  enabled = false

[reporting]
  enabled = false

[stats]
  enabled = false

%[4]s
[udf]
[udf.functions]
%[5]s`, data, port, c.cfg.snapshotInterval.String(), c.influxSection(), c.udfSection())
		confPath := filepath.Join(c.dir, "kapacitor.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startProc(t, "kapacitord", filepath.Join(c.dir, "kapacitord.log"),
			bins.kapacitord, "-config", confPath)
		c.kapacitord = p
		c.kapURL = fmt.Sprintf("http://127.0.0.1:%d", port)
		err := waitUntil(p, 60*time.Second, c.pingKapacitor)
		if errors.Is(err, errPortInUse) && attempt < 3 {
			continue
		}
		if err != nil {
			t.Fatalf("kapacitord did not start: %v", err)
		}
		return
	}
}

func (c *cluster) startInfluxd() {
	t := c.t
	t.Helper()
	data := filepath.Join(c.dir, "influxdb")
	for attempt := 1; ; attempt++ {
		httpPort, rpcPort := freePort(t), freePort(t)
		conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%[2]d"

[meta]
  dir = "%[1]s/meta"

[data]
  dir = "%[1]s/data"
  wal-dir = "%[1]s/wal"
  query-log-enabled = false

[http]
  bind-address = "127.0.0.1:%[3]d"
  log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[logging]
  level = "warn"
`, data, rpcPort, httpPort)
		confPath := filepath.Join(c.dir, "influxdb.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		p := startProc(t, "influxd", filepath.Join(c.dir, "influxd.log"), bins.influxd, "run", "-config", confPath)
		c.influxd = p
		c.influxURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		err := waitUntil(p, 60*time.Second, func() error {
			return httpExpect("GET", c.influxURL+"/ping", "", nil, http.StatusNoContent)
		})
		if errors.Is(err, errPortInUse) && attempt < 3 {
			continue
		}
		if err != nil {
			t.Fatalf("influxd did not start: %v", err)
		}
		break
	}
	q := url.Values{"q": {fmt.Sprintf("CREATE DATABASE %q", testDB)}}
	if err := httpExpect("POST", c.influxURL+"/query", "application/x-www-form-urlencoded", strings.NewReader(q.Encode()), http.StatusOK); err != nil {
		t.Fatalf("create database: %v", err)
	}
}

// httpExpect does one request and checks the status code.
func httpExpect(method, u, contentType string, body io.Reader, want int) error {
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// pingKapacitor checks that kapacitord answers its HTTP API.
func (c *cluster) pingKapacitor() error {
	return httpExpect("GET", c.kapURL+"/kapacitor/v1/ping", "", nil, http.StatusNoContent)
}

// writeKapacitor sends line protocol (ns timestamps) to Kapacitor's write
// endpoint, as Telegraf or an InfluxDB subscription would.
func (c *cluster) writeKapacitor(lines []string) error {
	u := fmt.Sprintf("%s/kapacitor/v1/write?db=%s&rp=%s", c.kapURL, testDB, testRP)
	return httpExpect("POST", u, "text/plain", strings.NewReader(strings.Join(lines, "\n")), http.StatusNoContent)
}

// writeInflux sends line protocol (ns timestamps) to influxd.
func (c *cluster) writeInflux(lines []string) error {
	u := fmt.Sprintf("%s/write?db=%s&rp=%s", c.influxURL, testDB, testRP)
	return httpExpect("POST", u, "text/plain", strings.NewReader(strings.Join(lines, "\n")), http.StatusNoContent)
}

// kapacitor runs the kapacitor CLI against the cluster's kapacitord.
func (c *cluster) kapacitor(args ...string) (string, error) {
	cmd := exec.Command(bins.kapacitor, append([]string{"-url", c.kapURL}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kapacitor %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// define defines (without enabling) a task from a TICKscript.
func (c *cluster) define(name, typ, script string) {
	c.t.Helper()
	path := filepath.Join(c.dir, name+".tick")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.kapacitor("define", name, "-type", typ, "-tick", path, "-dbrp", testDB+"."+testRP); err != nil {
		c.t.Fatal(err)
	}
}

// enable enables a task and checks that it executes.
func (c *cluster) enable(name string) {
	c.t.Helper()
	if _, err := c.kapacitor("enable", name); err != nil {
		c.t.Fatal(err)
	}
	st, err := c.task(name)
	if err != nil {
		c.t.Fatal(err)
	}
	if !st.Executing || st.Error != "" {
		c.t.Fatalf("task %s after enable: executing=%v error=%q", name, st.Executing, st.Error)
	}
}

// reenable disables and enables a task: how an operator restarts a task
// after its UDF went away (Kapacitor never reconnects by itself).
func (c *cluster) reenable(name string) {
	c.t.Helper()
	if _, err := c.kapacitor("disable", name); err != nil {
		c.t.Fatal(err)
	}
	c.enable(name)
}

// taskStatus is the part of GET /kapacitor/v1/tasks/NAME the tests read.
type taskStatus struct {
	Status    string `json:"status"`
	Executing bool   `json:"executing"`
	Error     string `json:"error"`
}

func (c *cluster) task(name string) (taskStatus, error) {
	var st taskStatus
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(c.kapURL + "/kapacitor/v1/tasks/" + url.PathEscape(name) + "?dot-view=labels&script-format=raw")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return st, fmt.Errorf("get task %s: %s: %s", name, resp.Status, b)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// alertLog is the path of the alert log of a task.
func (c *cluster) alertLog(task string) string {
	return filepath.Join(c.dir, "alerts-"+task+".log")
}
