//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test data: one point per minute and host, a 30-minute seasonal cycle
// (a sine of amplitude 10 around 50) plus uniform noise in [-1, 1], and
// spikes of ±15 at known minutes. A spike at the sine's trough is below the
// sine's peak, so only a seasonal method finds it.
//
// S-H-ESD (R's AnomalyDetection, which anomalyd reproduces) flags noise as
// anomalies when it sees barely more than two periods: with 61–100 points
// (2–3.3 cycles) the STL fit is poor and the largest residuals of plain
// noise pass the ESD test. From four cycles on it is quiet. So the tasks let
// anomalyd's first detection see at least four cycles (windows with
// .fillPeriod()), except the restart test, whose data uses a noise seed for
// which every history length it gets (multiples of 20 points) is quiet.
// Spikes come after five full cycles, so that the robust STL has enough
// cycles per phase to down-weight them. Each dataset below was checked by
// running S-H-ESD as shesd.md specifies (anomalyd's STL, bit-exact with R)
// on every history the task hands anomalyd: it finds exactly the spikes,
// with margin (still exactly them at alpha 0.2; the tasks use 0.05).
const (
	step       = time.Minute
	cycle      = 30 // points per seasonal cycle: the tasks use .period(30m)
	spikeSize  = 15.0
	noiseLevel = 1.0
)

// epoch is the start of the stream tests' data. Kapacitor's stream windows
// follow the data's time, so historical data is fine.
var epoch = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// spike is a known anomaly: host and minute offset from the series' start.
type spike struct {
	host   string
	minute int
	delta  float64 // +spikeSize or -spikeSize
}

// dataset is the test series of hosts "a" and "b" from start, n minutes.
type dataset struct {
	start  time.Time
	n      int
	spikes []spike
	values map[string][]float64
}

// newDataset makes the series; seed selects the noise.
func newDataset(start time.Time, n int, seed uint64, spikes ...spike) *dataset {
	d := &dataset{start: start, n: n, spikes: spikes, values: map[string][]float64{}}
	for i, host := range []string{"a", "b"} {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		v := make([]float64, n)
		for j := range v {
			v[j] = 50 + 10*math.Sin(2*math.Pi*float64(j)/cycle) + noiseLevel*(2*rng.Float64()-1)
		}
		d.values[host] = v
	}
	for _, s := range spikes {
		d.values[s.host][s.minute] += s.delta
	}
	return d
}

func (d *dataset) time(minute int) time.Time { return d.start.Add(time.Duration(minute) * step) }

// lines returns the line protocol of minutes [from, to), hosts interleaved
// in time order, with ns timestamps.
func (d *dataset) lines(from, to int) []string {
	var out []string
	for m := from; m < to && m < d.n; m++ {
		for _, host := range []string{"a", "b"} {
			out = append(out, fmt.Sprintf("cpu,host=%s value=%s %d",
				host, strconv.FormatFloat(d.values[host][m], 'g', -1, 64), d.time(m).UnixNano()))
		}
	}
	return out
}

// want returns the alerts expected for the given spikes of d.
func (d *dataset) want(spikes ...spike) []alert {
	var out []alert
	for _, s := range spikes {
		out = append(out, alert{Host: s.host, Time: d.time(s.minute), Value: d.values[s.host][s.minute]})
	}
	sortAlerts(out)
	return out
}

// alert is one event of an alert log, reduced to what the tests check.
type alert struct {
	Host  string
	Time  time.Time
	Value float64

	// Only in alerts read from a log:
	Points   int     // points in the event: 1, unless a batch came in
	ID       string  // the alert node's .id(): "anomaly:" + the group
	Level    string  // CRITICAL
	Expected float64 // the "expected" and "score" fields anomalyd adds
	Score    float64
}

func (a alert) String() string {
	return fmt.Sprintf("host=%s time=%s value=%g", a.Host, a.Time.UTC().Format(time.RFC3339), a.Value)
}

func sortAlerts(as []alert) {
	slices.SortFunc(as, func(x, y alert) int {
		if c := x.Time.Compare(y.Time); c != 0 {
			return c
		}
		return strings.Compare(x.Host, y.Host)
	})
}

// readAlerts parses a Kapacitor alert log (one JSON event per line). A
// missing file means no alerts yet.
func readAlerts(path string) ([]alert, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	// The last element is "" after a complete line, or a line still being
	// written, which the next poll reads whole.
	lines = lines[:len(lines)-1]
	var out []alert
	for _, line := range lines {
		if line == "" {
			continue
		}
		var ev struct {
			ID    string `json:"id"`
			Level string `json:"level"`
			Data  struct {
				Series []struct {
					Tags    map[string]string `json:"tags"`
					Columns []string          `json:"columns"`
					Values  [][]any           `json:"values"`
				} `json:"series"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			return nil, fmt.Errorf("alert log %s: %w: %s", path, err, line)
		}
		// One event per line. Fed a batch, the alert node raises one event
		// for the whole batch, with every point in it: keep the first
		// point's fields and count them all.
		a := alert{ID: ev.ID, Level: ev.Level, Value: math.NaN(), Expected: math.NaN(), Score: math.NaN()}
		for _, s := range ev.Data.Series {
			for _, row := range s.Values {
				a.Points++
				if a.Points > 1 {
					continue
				}
				a.Host = s.Tags["host"]
				for i, col := range s.Columns {
					if i >= len(row) {
						break
					}
					switch col {
					case "time":
						ts, _ := row[i].(string)
						a.Time, err = time.Parse(time.RFC3339Nano, ts)
						if err != nil {
							return nil, fmt.Errorf("alert log %s: time %q: %w", path, ts, err)
						}
					case "value", "expected", "score":
						v, ok := row[i].(float64)
						if !ok {
							break
						}
						switch col {
						case "value":
							a.Value = v
						case "expected":
							a.Expected = v
						case "score":
							a.Score = v
						}
					}
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// waitAlerts waits until the alert log holds at least len(want) alerts and
// has not grown for quiet (so that late duplicates are caught), or timeout
// passes, and then checks that it holds exactly want: each expected alert
// once, with its host, time and value, and nothing else.
func (c *cluster) waitAlerts(task string, want []alert, quiet, timeout time.Duration) {
	t := c.t
	t.Helper()
	path := c.alertLog(task)
	deadline := time.Now().Add(timeout)
	var got []alert
	lastN, lastChange := -1, time.Now()
	for {
		var err error
		got, err = readAlerts(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != lastN {
			lastN, lastChange = len(got), time.Now()
		}
		if len(got) >= len(want) && time.Since(lastChange) >= quiet {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		if c.kapacitord.exited() {
			t.Fatalf("kapacitord exited while waiting for alerts: %v", c.kapacitord.waitErr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	checkAlerts(t, got, want)
}

// checkAlerts compares alerts as multisets and reports what is missing,
// unexpected or duplicated.
func checkAlerts(t testing.TB, got, want []alert) {
	t.Helper()
	key := func(a alert) string { return a.Host + "@" + a.Time.UTC().Format(time.RFC3339Nano) }
	wantBy := map[string]alert{}
	for _, a := range want {
		wantBy[key(a)] = a
	}
	seen := map[string]int{}
	var problems []string
	for _, a := range got {
		k := key(a)
		seen[k]++
		w, ok := wantBy[k]
		switch {
		case !ok:
			problems = append(problems, "unexpected alert: "+a.String())
		case seen[k] == 2:
			problems = append(problems, "duplicate alert: "+a.String())
		case seen[k] == 1 && a.Value != w.Value:
			problems = append(problems, fmt.Sprintf("alert %s: value %v, want the written %v", k, a.Value, w.Value))
		}
		if a.Points != 1 {
			problems = append(problems, fmt.Sprintf("alert %s carries %d points: anomalies that arrive as one batch raise one alert", k, a.Points))
		}
		if a.Level != "CRITICAL" {
			problems = append(problems, fmt.Sprintf("alert %s: level %q, want CRITICAL", k, a.Level))
		}
		// The group must be the host's own (Kapacitor recomputes it from
		// the point's dimensions), so each series keeps its alert state.
		if want := "anomaly:host=" + a.Host; a.ID != want {
			problems = append(problems, fmt.Sprintf("alert %s: id %q, want %q (the point's group)", k, a.ID, want))
		}
		if math.IsNaN(a.Expected) || math.IsNaN(a.Score) || !(a.Score > 0) {
			problems = append(problems, fmt.Sprintf("alert %s: expected %v, score %v; want both fields, score > 0", k, a.Expected, a.Score))
		}
	}
	for _, a := range want {
		if seen[key(a)] == 0 {
			problems = append(problems, "missing alert: "+a.String())
		}
	}
	if len(problems) > 0 {
		sortAlerts(got)
		var gs []string
		for _, a := range got {
			gs = append(gs, "  "+a.String())
		}
		t.Errorf("alerts are not one per anomalous point:\n%s\ngot %d alerts:\n%s",
			strings.Join(problems, "\n"), len(got), strings.Join(gs, "\n"))
	}
}
