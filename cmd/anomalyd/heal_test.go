package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestLoadConfig_Kapacitor(t *testing.T) {
	file := writeFile(t, "anomalyd.toml", `
[kapacitor]
url = "https://kapacitor.example:9092"
udf_names = ["fromfile"]
interval = "1m"
ca_file = "/etc/ssl/kapacitor-ca.pem"
`)
	t.Run("file, environment, flags", func(t *testing.T) {
		cfg, err := load(t, []string{
			"ANOMALYD_KAPACITOR_USERNAME=heal",
			"ANOMALYD_KAPACITOR_PASSWORD=from env",
			"ANOMALYD_KAPACITOR_UDF_NAMES=fromenv, other",
		}, "--config", file, "--heal-interval", "45s")
		if err != nil {
			t.Fatal(err)
		}
		k := cfg.Kapacitor
		if k.URL != "https://kapacitor.example:9092" || k.Interval != 45*time.Second || k.CAFile != "/etc/ssl/kapacitor-ca.pem" ||
			k.Username != "heal" || k.Password != "from env" || !slices.Equal(k.UDFNames, []string{"fromenv", "other"}) {
			t.Errorf("kapacitor section %+v", k)
		}
	})
	t.Run("repeated --udf-name replaces the default", func(t *testing.T) {
		cfg, err := load(t, nil, "--socket", "/x.sock", "--kapacitor-url", "http://127.0.0.1:9092", "--udf-name", "a", "--udf-name", "b")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.Kapacitor.UDFNames, []string{"a", "b"}) || !cfg.Kapacitor.Enabled() {
			t.Errorf("%+v", cfg.Kapacitor)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		cfg, err := load(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Kapacitor.Enabled() || !slices.Equal(cfg.Kapacitor.UDFNames, []string{"anomaly"}) {
			t.Errorf("%+v", cfg.Kapacitor)
		}
	})
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"stdio", nil, []string{"--stdio", "--kapacitor-url", "http://127.0.0.1:9092"}, "kapacitor.url: not available with --stdio"},
		{"bad URL from env", []string{"ANOMALYD_KAPACITOR_URL=localhost:9092"}, nil, "environment ANOMALYD_KAPACITOR_URL: kapacitor.url:"},
		{"credentials in URL", nil, []string{"--kapacitor-url", "http://u:p@127.0.0.1:9092"}, "flag --kapacitor-url: kapacitor.url: credentials in the URL"},
		{"password without user", []string{"ANOMALYD_KAPACITOR_PASSWORD=x"}, nil, "kapacitor.password: set without username"},
		{"unknown key in env", []string{"ANOMALYD_KAPACITOR_PASSWD=x"}, nil, "unknown key kapacitor.passwd"},
		{"interval", nil, []string{"--heal-interval", "10ms"}, "flag --heal-interval: kapacitor.interval: 10ms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestConfigCmd_SecretsRedacted: `anomalyd config` never prints a password
// or a token.
func TestConfigCmd_SecretsRedacted(t *testing.T) {
	t.Setenv("ANOMALYD_KAPACITOR_USERNAME", "heal")
	t.Setenv("ANOMALYD_KAPACITOR_PASSWORD", "hunter2")
	out, err := runCmd(t, "config", "--kapacitor-url", "http://127.0.0.1:9092")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "[kapacitor]") {
		t.Errorf("output:\n%s", out)
	}
}

// fakeKapacitor is a Kapacitor task API with one task that lost its
// connection to anomalyd and one a user disabled; it records PATCHes and
// the Authorization header.
type fakeKapacitor struct {
	mu      sync.Mutex
	tasks   map[string]map[string]any
	patches []string
	auth    []string
}

func newFakeKapacitor() *fakeKapacitor {
	script := "stream\n    |from().measurement('cpu')\n    |window().period(1h).every(1m)\n    @anomaly()\n        .field('value')\n"
	return &fakeKapacitor{tasks: map[string]map[string]any{
		"lost": {"id": "lost", "status": "enabled", "executing": false, "script": script,
			"error": "anomaly3: stopping UDF server: write error: write unix @->/run/anomalyd.sock: write: broken pipe"},
		"disabled": {"id": "disabled", "status": "disabled", "executing": false, "script": script,
			"error": "anomaly3: stopping UDF server: write error: write unix @->/run/anomalyd.sock: write: broken pipe"},
	}}
}

func (f *fakeKapacitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	w.Header().Set("Content-Type", "application/json")
	id := strings.TrimPrefix(r.URL.Path, "/kapacitor/v1/tasks/")
	switch {
	case r.URL.Path == "/kapacitor/v1/tasks":
		var list []map[string]any
		if r.URL.Query().Get("offset") == "0" {
			list = []map[string]any{f.tasks["disabled"], f.tasks["lost"]}
		}
		json.NewEncoder(w).Encode(map[string]any{"tasks": list})
	case f.tasks[id] != nil && r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(f.tasks[id])
	case f.tasks[id] != nil && r.Method == http.MethodPatch:
		var u struct{ Status string }
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &u)
		f.patches = append(f.patches, id+" "+u.Status)
		tk := f.tasks[id]
		tk["status"], tk["executing"] = u.Status, u.Status == "enabled"
		if u.Status == "enabled" {
			tk["error"] = ""
		}
		json.NewEncoder(w).Encode(tk)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"not found"}`)
	}
}

func (f *fakeKapacitor) state() (patches, auth []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.patches), slices.Clone(f.auth)
}

// TestServe_Heal runs `anomalyd serve --kapacitor-url` against a fake
// Kapacitor: the lost task is disabled and enabled once the socket
// listens, the disabled one is left alone, the password comes from the
// environment, /metrics counts the re-enable, and SIGTERM still exits 0.
func TestServe_Heal(t *testing.T) {
	fake := newFakeKapacitor()
	kap := httptest.NewServer(fake)
	defer kap.Close()
	path := filepath.Join(t.TempDir(), "anomalyd.sock")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(buildDaemon(t), "serve", "--socket", path, "--log-format", "console", "--http-addr", httpAddr,
		"--kapacitor-url", kap.URL, "--kapacitor-username", "heal")
	cmd.Env = append(os.Environ(), "ANOMALYD_KAPACITOR_PASSWORD=pw from env")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	want := []string{"lost disabled", "lost enabled"}
	var patches, auth []string
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(50 * time.Millisecond) {
		if patches, auth = fake.state(); len(patches) >= 2 {
			break
		}
	}
	if !slices.Equal(patches, want) {
		t.Fatalf("PATCHes %q, want %q\n%s", patches, want, stderr.String())
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("heal:pw from env"))
	for _, a := range auth {
		if a != basic {
			t.Fatalf("Authorization %q, want %q", a, basic)
		}
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"anomalyd_heal_tasks_reenabled_total 1", "anomalyd_heal_polls_total 1", "anomalyd_heal_tasks_using_udf 2"} {
		if !strings.Contains(string(body), m+"\n") {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	log := stderr.String()
	if !strings.Contains(log, "re-enabled task") || !strings.Contains(log, "broken pipe") {
		t.Errorf("re-enable not logged with the previous error:\n%s", log)
	}
	// The first look comes after the socket listens.
	if i, j := strings.Index(log, "serving"), strings.Index(log, "re-enabled task"); i < 0 || j < i {
		t.Errorf("re-enabled before serving:\n%s", log)
	}
	t.Log(log)
}

// TestServe_HealBadCAFile: a CA file that cannot be read stops the start,
// before the socket exists.
func TestServe_HealBadCAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anomalyd.sock")
	out, err := exec.Command(buildDaemon(t), "serve", "--socket", path, "--kapacitor-url", "https://127.0.0.1:9",
		"--kapacitor-ca-file", filepath.Join(t.TempDir(), "missing.pem")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ca_file") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Error("socket created")
	}
}
