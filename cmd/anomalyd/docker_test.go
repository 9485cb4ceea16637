package main

// Tests of the Dockerfile and its build context: no Docker engine runs
// here, so the Dockerfile is parsed and compared with the Makefile.

import (
	"bufio"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"
)

// dockerStage is one stage of a parsed Dockerfile: its instructions,
// continuation lines joined, comments dropped.
type dockerStage struct {
	from   string
	instrs [][2]string // instruction, arguments
}

func parseDockerfile(t *testing.T, text string) (args map[string]string, stages []dockerStage) {
	t.Helper()
	args = make(map[string]string)
	var cur strings.Builder
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || l == "" && cur.Len() == 0 {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		instr, rest = strings.ToUpper(instr), strings.TrimSpace(rest)
		switch {
		case instr == "FROM":
			stages = append(stages, dockerStage{from: rest})
		case len(stages) == 0 && instr == "ARG":
			k, v, _ := strings.Cut(rest, "=")
			args[k] = v
		case len(stages) > 0:
			s := &stages[len(stages)-1]
			s.instrs = append(s.instrs, [2]string{instr, rest})
		}
	}
	return args, stages
}

// TestDockerfile_SameBuildAsMake: the image's binary is built by `make
// build`, so with the Makefile's flags (static, CGO_ENABLED=0); the image
// runs as non-root, with the socket directory as a volume and a health
// check that asks the daemon for its info.
func TestDockerfile_SameBuildAsMake(t *testing.T) {
	args, stages := parseDockerfile(t, readRepoFile(t, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The Go of the build stage is the one go.mod asks for.
	gomod := readRepoFile(t, "go.mod")
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(gomod)
	if goVersion == nil || args["GO_VERSION"] != goVersion[1] || !strings.HasPrefix(build.from, "golang:${GO_VERSION}") {
		t.Errorf("build stage FROM %s with GO_VERSION=%s; go.mod says %v", build.from, args["GO_VERSION"], goVersion)
	}
	var makeBuild int
	for _, in := range build.instrs {
		if in[0] != "RUN" {
			continue
		}
		if strings.Contains(in[1], "go build") || strings.Contains(in[1], "-ldflags") || strings.Contains(in[1], "CGO_ENABLED") {
			t.Errorf("the Dockerfile builds by itself, not through make: RUN %s", in[1])
		}
		if regexp.MustCompile(`(^|&& )make build( |$)`).MatchString(in[1]) {
			makeBuild++
		}
	}
	if makeBuild != 1 {
		t.Errorf("%d RUN make build in the build stage, want 1", makeBuild)
	}
	for _, in := range build.instrs {
		if in[0] == "ENV" && strings.Contains(in[1], "CGO_ENABLED") || in[0] == "ENV" && strings.Contains(in[1], "GOFLAGS") {
			t.Errorf("the build stage changes the build's environment: ENV %s", in[1])
		}
	}

	// What `make build` runs: static, trimmed, the version stamped in.
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command("make", "-s", "-n", "build", "VERSION=v9.9.9", "GO=go")
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	want := `CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=v9.9.9" -o anomalyd ./cmd/anomalyd`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("make build runs\n  %s\nwant\n  %s", got, want)
	}

	// The final stage.
	var user, volume, health, entry string
	env := make(map[string]string)
	for _, in := range final.instrs {
		switch in[0] {
		case "USER":
			user = in[1]
		case "VOLUME":
			volume = in[1]
		case "HEALTHCHECK":
			health = in[1]
		case "ENTRYPOINT":
			entry = in[1]
		case "ENV":
			k, v, _ := strings.Cut(in[1], "=")
			env[k] = v
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q: the image must run as non-root", user)
	}
	socket := env["ANOMALYD_SERVE_SOCKET"]
	if socket == "" || !strings.Contains(volume, `"`+path.Dir(socket)+`"`) {
		t.Errorf("VOLUME %s does not hold the socket %q", volume, socket)
	}
	if !strings.Contains(health, `CMD ["/usr/local/bin/anomalyd", "health"`) {
		t.Errorf("HEALTHCHECK %s does not run anomalyd health", health)
	}
	if !strings.Contains(entry, "/usr/local/bin/anomalyd") {
		t.Errorf("ENTRYPOINT %s", entry)
	}
}

// TestDockerignore_KeepsTheBuild: the build context holds go.mod, go.sum,
// the Makefile, cmd/ and pkg/, and the binary needs no package elsewhere.
func TestDockerignore_KeepsTheBuild(t *testing.T) {
	ignore := readRepoFile(t, ".dockerignore")
	for _, keep := range []string{"!go.mod", "!go.sum", "!Makefile", "!cmd/", "!pkg/"} {
		if !strings.Contains(ignore, "\n"+keep+"\n") {
			t.Errorf(".dockerignore does not keep %s", keep)
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{.Module.Path}}{{end}}", "./cmd/anomalyd")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/anomalyd/anomalyd"
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		pkg, mod, _ := strings.Cut(line, " ")
		if mod != module {
			continue
		}
		rel := strings.TrimPrefix(pkg, module+"/")
		if !strings.HasPrefix(rel, "cmd/") && !strings.HasPrefix(rel, "pkg/") {
			t.Errorf("the binary needs %s, outside the image's build context", pkg)
		}
	}
}
