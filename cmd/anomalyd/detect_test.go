package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// shared is where Twitter's and NAB's data live beside the project (tests
// only; the project does not ship them).
const shared = "../../../shared/data"

func sharedOrSkip(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(shared, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present (it lives in ../shared beside the project)", p)
	}
	return p
}

// runCLI runs the anomalyd command line in process.
func runCLI(t *testing.T, stdin string, args ...string) (stdout string, err error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), err
}

type detectOutput struct {
	Anomalies []struct {
		Index    int     `json:"index"`
		Time     string  `json:"time"`
		Value    float64 `json:"value"`
		Expected float64 `json:"expected"`
		Score    float64 `json:"score"`
	} `json:"anomalies"`
}

// TestDetect_RawDataLikeR: the acceptance command prints R's 131
// anomalies, same times and values, in R's order.
func TestDetect_RawDataLikeR(t *testing.T) {
	in := sharedOrSkip(t, "twitter/raw_data.csv")
	out, err := runCLI(t, "", "detect", in, "--max-anoms", "0.02", "--direction", "both")
	if err != nil {
		t.Fatal(err)
	}
	var got detectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(shared, "twitter/reference/raw_data__ts_both_0.02.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Anomalies []struct {
			Timestamp string  `json:"timestamp"`
			Value     float64 `json:"value"`
		} `json:"anomalies"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Anomalies) != 131 || len(want.Anomalies) != 131 {
		t.Fatalf("%d anomalies, R %d", len(got.Anomalies), len(want.Anomalies))
	}
	for i, w := range want.Anomalies {
		g := got.Anomalies[i]
		ts, err := time.Parse(time.RFC3339, g.Time)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Format(time.DateTime) != w.Timestamp || g.Value != w.Value {
			t.Fatalf("anomaly %d: %s %v, R %s %v", i, g.Time, g.Value, w.Timestamp, w.Value)
		}
	}
}

// TestDetect_NAB: the acceptance sweep, every NAB series in Vec
// mode with a period of 150 points, without error.
func TestDetect_NAB(t *testing.T) {
	dir := sharedOrSkip(t, "nab/data")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("only %d NAB files", len(files))
	}
	for _, f := range files {
		out, err := runCLI(t, "", "detect", f, "--period-points", "150", "--max-anoms", "0.002", "--direction", "both")
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var got detectOutput
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		for _, a := range got.Anomalies {
			if a.Time == "" || math.IsNaN(a.Score) {
				t.Errorf("%s: anomaly %+v", f, a)
			}
		}
	}
}

func TestDetect_ExampleAndFormats(t *testing.T) {
	ex := "../../examples/requests-minutely.csv"
	out, err := runCLI(t, "", "detect", ex, "--max-anoms", "0.02", "--direction", "both", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "index,time,value,expected,score" || len(lines) < 7 {
		t.Fatalf("csv output:\n%s", out)
	}
	// The generator's six incidents are all found.
	for _, at := range []string{"2024-03-05T13:07:00Z", "2024-03-06T03:30:00Z", "2024-03-07T20:15:00Z",
		"2024-03-08T09:41:00Z", "2024-03-09T02:05:00Z", "2024-03-10T17:58:00Z"} {
		if !strings.Contains(out, ","+at+",") {
			t.Errorf("incident at %s not reported:\n%s", at, out)
		}
	}

	for _, name := range []string{"plot.png", "plot.svg"} {
		p := filepath.Join(t.TempDir(), name)
		if _, err := runCLI(t, "", "detect", ex, "--plot", p); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v %v", name, st, err)
		}
	}
}

func TestDetect_StdinAndVec(t *testing.T) {
	var b strings.Builder
	b.WriteString("value\n")
	for i := 0; i < 200; i++ {
		v := 10 + 5*math.Sin(2*math.Pi*float64(i)/20)
		if i == 150 {
			v = 80
		}
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64) + "\n")
	}
	out, err := runCLI(t, b.String(), "detect", "-", "--period-points", "20", "--direction", "both")
	if err != nil {
		t.Fatal(err)
	}
	var got detectOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Anomalies) == 0 || got.Anomalies[0].Index != 150 || got.Anomalies[0].Time != "" {
		t.Fatalf("got %s", out)
	}
}

func TestDetect_Errors(t *testing.T) {
	short := "timestamp,value\n"
	for i := 0; i < 47; i++ {
		short += time.Date(2024, 1, 1, i, 0, 0, 0, time.UTC).Format(time.DateTime) + ",1\n"
	}
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"R's message for a short series", short, []string{"detect", "-"}, "Anom detection needs at least 2 periods worth of data"},
		{"missing file", "", []string{"detect", "/nonexistent.csv"}, "no such file"},
		{"bad direction", short, []string{"detect", "-", "--direction", "up"}, "direction options are: pos | neg | both."},
		{"bad threshold", short, []string{"detect", "-", "--threshold", "p50"}, "threshold options are"},
		{"bad format", short, []string{"detect", "-", "--format", "xml"}, "--format"},
		{"bad timestamp", "timestamp,value\nyesterday,1\n", []string{"detect", "-"}, `line 2: timestamp "yesterday"`},
		{"bad value", "timestamp,value\n2024-01-01 00:00:00,abc\n", []string{"detect", "-"}, `line 2: value "abc" is not a number`},
		{"one column without --period-points", "value\n1\n", []string{"detect", "-"}, "--period-points"},
		{"max_anoms over 0.49", short, []string{"detect", "-", "--max-anoms", "0.5"}, "max_anoms must be less than 50% of the data points"},
		{"vec flags need --period-points", short, []string{"detect", "-", "--longterm-period", "5"}, "need --period-points"},
		{"empty input", "", []string{"detect", "-"}, "empty input"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := runCLI(t, c.stdin, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2015, 2, 26, 21, 42, 53, 0, time.UTC).UnixNano()
	for _, s := range []string{"2015-02-26 21:42:53", "2015-02-26T21:42:53Z", "2015-02-26T22:42:53+01:00", "1424986973", "1424986973.0"} {
		got, err := parseTimestamp(s)
		if err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", s, time.Unix(0, got).UTC(), err, time.Unix(0, want).UTC())
		}
	}
	for _, s := range []string{"", "tomorrow", "2015-13-01 00:00:00", "99999999999999999999"} {
		if _, err := parseTimestamp(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}
