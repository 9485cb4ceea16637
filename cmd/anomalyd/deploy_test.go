package main

// Tests of the deployment files in configs/ (compose, Kubernetes, systemd,
// kapacitor.conf, TICKscripts): no Docker engine or Kubernetes runs here, so
// they are parsed and checked for what an operator relies on.

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

const repo = "../.."

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadYAML(t *testing.T, name string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, name)))
	var docs []map[string]any
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if err.Error() == "EOF" {
				return docs
			}
			t.Fatalf("%s: %v", name, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// get walks maps and lists: get(doc, "spec", "template", "spec").
func get(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// kapacitorConf parses a kapacitor.conf and checks its [udf.functions.anomaly]
// and [task] sections.
func kapacitorConf(t *testing.T, name, text string) map[string]any {
	t.Helper()
	var conf map[string]any
	if _, err := toml.Decode(text, &conf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	udf, _ := get(conf, "udf", "functions", "anomaly").(map[string]any)
	if udf == nil {
		t.Fatalf("%s: no [udf.functions.anomaly]", name)
	}
	if _, ok := udf["prog"]; ok {
		t.Errorf("%s: prog set with socket (Kapacitor rejects both)", name)
	}
	d, err := time.ParseDuration(str(udf["timeout"]))
	if err != nil || d < 10*time.Second {
		t.Errorf("%s: udf timeout %q, want a generous duration (Kapacitor rejects 0)", name, udf["timeout"])
	}
	if d, err := time.ParseDuration(str(get(conf, "task", "snapshot-interval"))); err != nil || d <= 0 {
		t.Errorf("%s: [task] snapshot-interval %v: anomalyd's histories live in the snapshots", name, get(conf, "task", "snapshot-interval"))
	}
	return conf
}

func TestKapacitorConf(t *testing.T) {
	conf := kapacitorConf(t, "configs/kapacitor.conf", readRepoFile(t, "configs/kapacitor.conf"))
	example, err := load(t, nil, "--config", filepath.Join(repo, "configs/anomalyd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if s := str(get(conf, "udf", "functions", "anomaly", "socket")); s != example.Serve.Socket {
		t.Errorf("kapacitor.conf connects to %q, anomalyd.toml serves on %q", s, example.Serve.Socket)
	}
}

// TestTICKscripts: the examples feed @anomaly() and alert with templates
// that use expected and score; no .id() template uses .Time (Kapacitor's
// ID template has no time: the task would fail at the first alert).
func TestTICKscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repo, "configs/tick/*.tick"))
	if err != nil || len(files) < 2 {
		t.Fatalf("TICKscripts: %v %v", files, err)
	}
	idTime := regexp.MustCompile(`\.id\('[^']*\.Time`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		s := string(b)
		for _, want := range []string{"dbrp ", "@anomaly()", ".field('", "|alert()", ".id('", ".message('", `"expected"`, `"score"`} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: no %s", filepath.Base(f), want)
			}
		}
		if idTime.MatchString(s) {
			t.Errorf("%s: .id() uses .Time, which Kapacitor's ID template does not have", filepath.Base(f))
		}
	}
	if !strings.Contains(readRepoFile(t, "configs/tick/cpu_anomalies_batch.tick"), "batch\n") ||
		!strings.Contains(readRepoFile(t, "configs/tick/requests_anomalies_stream.tick"), "stream\n") {
		t.Error("want a batch and a stream example")
	}
}

// TestCompose: influxdb, kapacitor and anomalyd; the socket in a named
// volume both mount; kapacitor waits for anomalyd to be healthy; the
// mounted files exist.
func TestCompose(t *testing.T) {
	docs := loadYAML(t, "configs/docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("%d YAML documents", len(docs))
	}
	c := docs[0]
	for _, s := range []string{"anomalyd", "influxdb", "kapacitor"} {
		if get(c, "services", s) == nil {
			t.Errorf("no service %s", s)
		}
	}
	anomalyd, kapacitor := get(c, "services", "anomalyd"), get(c, "services", "kapacitor")
	if cond := str(get(kapacitor, "depends_on", "anomalyd", "condition")); cond != "service_healthy" {
		t.Errorf("kapacitor depends on anomalyd with condition %q, want service_healthy", cond)
	}
	test, _ := get(anomalyd, "healthcheck", "test").([]any)
	if !slices.Contains(test, any("health")) || !strings.HasSuffix(str(get(test, 1)), "anomalyd") {
		t.Errorf("anomalyd's healthcheck %v does not run anomalyd health", test)
	}
	socket := str(get(anomalyd, "environment", "ANOMALYD_SERVE_SOCKET"))
	if socket == "" {
		t.Fatal("anomalyd: no ANOMALYD_SERVE_SOCKET")
	}
	// mounts returns the service's volume mounts: source → target.
	mounts := func(svc any) map[string]string {
		m := make(map[string]string)
		vols, _ := get(svc, "volumes").([]any)
		for _, v := range vols {
			parts := strings.Split(str(v), ":")
			if len(parts) >= 2 {
				m[parts[0]] = parts[1]
			}
		}
		return m
	}
	am, km := mounts(anomalyd), mounts(kapacitor)
	shared := ""
	for src, dst := range am {
		if dst == path.Dir(socket) && km[src] == dst {
			shared = src
		}
	}
	if shared == "" || get(c, "volumes", shared) == nil && !hasKey(get(c, "volumes"), shared) {
		t.Errorf("no named volume holds %s for both anomalyd (%v) and kapacitor (%v)", path.Dir(socket), am, km)
	}
	for src, dst := range km {
		if !strings.HasPrefix(src, "./") {
			continue
		}
		if _, err := os.Stat(filepath.Join(repo, "configs", src)); err != nil {
			t.Errorf("kapacitor mounts %s: %v", src, err)
		}
		if dst == "/etc/kapacitor/kapacitor.conf" {
			conf := kapacitorConf(t, src, readRepoFile(t, filepath.Join("configs", src)))
			if s := str(get(conf, "udf", "functions", "anomaly", "socket")); s != socket {
				t.Errorf("kapacitor.conf connects to %q, anomalyd serves on %q", s, socket)
			}
			if dir := str(get(conf, "load", "dir")); km["./tick"] != dir+"/tasks" {
				t.Errorf("the TICKscripts are mounted at %q, Kapacitor loads %s/tasks", km["./tick"], dir)
			}
		}
	}
	if km["./kapacitor.conf"] != "/etc/kapacitor/kapacitor.conf" || km["./tick"] == "" {
		t.Errorf("kapacitor mounts %v, want kapacitor.conf and the TICKscripts", km)
	}
	for name, svc := range get(c, "services").(map[string]any) {
		ports, _ := get(svc, "ports").([]any)
		for _, p := range ports {
			if !strings.HasPrefix(str(p), "127.0.0.1:") {
				t.Errorf("%s publishes %v beyond the host's loopback", name, p)
			}
		}
	}
	if g, err := time.ParseDuration(str(get(anomalyd, "stop_grace_period"))); err != nil || g <= DefaultConfig().Agent.ShutdownTimeout {
		t.Errorf("anomalyd stop_grace_period %v, want more than the shutdown timeout", get(anomalyd, "stop_grace_period"))
	}
}

func hasKey(v any, k string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[k]
	return ok
}

// TestKubernetes: a Deployment of kapacitor with anomalyd as a sidecar
// sharing an emptyDir for the socket, with probes, resources and non-root
// security contexts; its kapacitor.conf and TICKscript are those of
// configs/.
func TestKubernetes(t *testing.T) {
	docs := loadYAML(t, "configs/kubernetes/kapacitor-anomalyd.yaml")
	kinds := make(map[string]map[string]any)
	for _, d := range docs {
		kinds[str(d["kind"])] = d
	}
	dep, cm := kinds["Deployment"], kinds["ConfigMap"]
	if dep == nil || cm == nil {
		t.Fatalf("kinds %v, want a Deployment and a ConfigMap", slices.Collect(mapKeys(kinds)))
	}
	pod := get(dep, "spec", "template", "spec")
	if get(pod, "securityContext", "runAsNonRoot") != true {
		t.Error("pod securityContext: runAsNonRoot is not true")
	}
	containers := map[string]any{}
	for _, list := range []string{"initContainers", "containers"} {
		l, _ := get(pod, list).([]any)
		for _, c := range l {
			containers[str(get(c, "name"))] = c
		}
	}
	anomalyd, kapacitor := containers["anomalyd"], containers["kapacitor"]
	if anomalyd == nil || kapacitor == nil {
		t.Fatalf("containers %v, want anomalyd and kapacitor", slices.Collect(mapKeys(containers)))
	}
	if get(anomalyd, "restartPolicy") != "Always" {
		t.Error("anomalyd is not a native sidecar (initContainers with restartPolicy: Always)")
	}
	emptyDirs := map[string]bool{}
	vols, _ := get(pod, "volumes").([]any)
	for _, v := range vols {
		if get(v, "emptyDir") != nil {
			emptyDirs[str(get(v, "name"))] = true
		}
	}
	mount := func(c any, vol string) string {
		ms, _ := get(c, "volumeMounts").([]any)
		for _, m := range ms {
			if str(get(m, "name")) == vol {
				return str(get(m, "mountPath"))
			}
		}
		return ""
	}
	var socket string
	envs, _ := get(anomalyd, "env").([]any)
	for _, e := range envs {
		if str(get(e, "name")) == "ANOMALYD_SERVE_SOCKET" {
			socket = str(get(e, "value"))
		}
	}
	shared := ""
	for v := range emptyDirs {
		if m := mount(anomalyd, v); m != "" && m == path.Dir(socket) && mount(kapacitor, v) == m {
			shared = v
		}
	}
	if shared == "" {
		t.Errorf("no emptyDir holds the socket %q for both containers", socket)
	}
	for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
		p := get(anomalyd, probe)
		cmd, _ := get(p, "exec", "command").([]any)
		if !slices.Contains(cmd, any("health")) && get(p, "httpGet", "path") == nil {
			t.Errorf("anomalyd %s: %v, want exec anomalyd health or an httpGet", probe, p)
		}
	}
	if p := str(get(anomalyd, "readinessProbe", "httpGet", "path")); p != "" && p != "/readyz" {
		t.Errorf("anomalyd readiness path %s", p)
	}
	for name, c := range containers {
		for _, r := range []string{"requests", "limits"} {
			if get(c, "resources", r, "cpu") == nil || get(c, "resources", r, "memory") == nil {
				t.Errorf("%s: resources.%s incomplete", name, r)
			}
		}
		if get(c, "securityContext", "allowPrivilegeEscalation") != false {
			t.Errorf("%s: allowPrivilegeEscalation is not false", name)
		}
	}
	if get(anomalyd, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("anomalyd: readOnlyRootFilesystem is not true")
	}

	// The ConfigMap's files are those of configs/ (compared as TOML, and
	// byte for byte for the TICKscript), and match the mounts.
	conf := kapacitorConf(t, "ConfigMap kapacitor.conf", str(get(cm, "data", "kapacitor.conf")))
	var file map[string]any
	if _, err := toml.Decode(readRepoFile(t, "configs/kapacitor.conf"), &file); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(conf, file) {
		t.Errorf("the ConfigMap's kapacitor.conf differs from configs/kapacitor.conf:\n%v\n%v", conf, file)
	}
	if s := str(get(conf, "udf", "functions", "anomaly", "socket")); s != socket {
		t.Errorf("kapacitor.conf connects to %q, anomalyd serves on %q", s, socket)
	}
	if got, want := str(get(cm, "data", "cpu_anomalies_batch.tick")), readRepoFile(t, "configs/tick/cpu_anomalies_batch.tick"); got != want {
		t.Errorf("the ConfigMap's TICKscript differs from configs/tick/cpu_anomalies_batch.tick")
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestSystemdUnit: its own user, a runtime directory for the socket,
// restart on failure, before kapacitor, hardened, and enough time to stop.
func TestSystemdUnit(t *testing.T) {
	unit := map[string]map[string][]string{}
	section := ""
	for line := range strings.SplitSeq(readRepoFile(t, "configs/anomalyd.service"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("bad line %q", line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	one := func(sec, key string) string {
		if v := unit[sec][key]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	if u := one("Service", "User"); u == "" || u == "root" {
		t.Errorf("User=%q", u)
	}
	for _, kv := range [][3]string{
		{"Unit", "Before", "kapacitor.service"},
		{"Service", "RuntimeDirectory", "anomalyd"},
		{"Service", "Restart", "on-failure"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "CapabilityBoundingSet", ""},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		if _, ok := unit[kv[0]][kv[1]]; !ok || one(kv[0], kv[1]) != kv[2] {
			t.Errorf("[%s] %s=%q, want %q", kv[0], kv[1], one(kv[0], kv[1]), kv[2])
		}
	}
	if !strings.Contains(one("Service", "ExecStart"), "anomalyd serve --config ") {
		t.Errorf("ExecStart=%s", one("Service", "ExecStart"))
	}
	if !strings.Contains(one("Service", "ExecStartPost"), "anomalyd health ") {
		t.Errorf("ExecStartPost=%s: the unit should count as started once the daemon answers", one("Service", "ExecStartPost"))
	}
	stop, err := time.ParseDuration(one("Service", "TimeoutStopSec"))
	if err != nil || stop <= DefaultConfig().Agent.ShutdownTimeout {
		t.Errorf("TimeoutStopSec=%s, want more than the shutdown timeout", one("Service", "TimeoutStopSec"))
	}
	example, err := load(t, nil, "--config", filepath.Join(repo, "configs/anomalyd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if dir := "/run/" + one("Service", "RuntimeDirectory"); path.Dir(example.Serve.Socket) != dir {
		t.Errorf("the example configuration's socket %s is not in the unit's RuntimeDirectory %s", example.Serve.Socket, dir)
	}
}
