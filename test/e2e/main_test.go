//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bins are the programs under test. `make e2e` passes them in the
// environment; run alone, TestMain builds what is missing.
var bins struct {
	anomalyd   string // E2E_ANOMALYD
	kapacitord string // E2E_KAPACITORD
	kapacitor  string // E2E_KAPACITOR
	influxd    string // E2E_INFLUXD
}

func TestMain(m *testing.M) {
	if err := findBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildDir holds the anomalyd that TestMain built, if it built one.
var buildDir string

func findBinaries() error {
	bins.anomalyd = os.Getenv("E2E_ANOMALYD")
	bins.kapacitord = os.Getenv("E2E_KAPACITORD")
	bins.kapacitor = os.Getenv("E2E_KAPACITOR")
	bins.influxd = os.Getenv("E2E_INFLUXD")
	repo, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	if bins.kapacitord == "" || bins.kapacitor == "" || bins.influxd == "" {
		// Builds the servers on first use (minutes), then answers at once.
		cmd := exec.Command(filepath.Join(repo, "scripts", "e2e-deps.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("scripts/e2e-deps.sh: %w", err)
		}
		paths := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				paths[k] = v
			}
		}
		setIfEmpty(&bins.kapacitord, paths["KAPACITORD"])
		setIfEmpty(&bins.kapacitor, paths["KAPACITOR"])
		setIfEmpty(&bins.influxd, paths["INFLUXD"])
	}
	if bins.anomalyd == "" {
		dir, err := os.MkdirTemp("", "anomalyd-e2e-bin")
		if err != nil {
			return err
		}
		buildDir = dir
		bins.anomalyd = filepath.Join(dir, "anomalyd")
		cmd := exec.Command("go", "build", "-o", bins.anomalyd, "./cmd/anomalyd")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/anomalyd: %w", err)
		}
	}
	for name, p := range map[string]string{
		"anomalyd": bins.anomalyd, "kapacitord": bins.kapacitord,
		"kapacitor": bins.kapacitor, "influxd": bins.influxd,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s: %s is not executable", name, p)
		}
	}
	return nil
}

func setIfEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
