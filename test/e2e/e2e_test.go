//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// anomalyNode is the @anomaly() node every task uses: a 30-minute period
// (two periods are one hour of 1-minute points), both directions, only new
// anomalies.
const anomalyNode = `
    @anomaly()
        .field('value')
        .period(30m)
        .maxAnoms(0.05)
        .direction('both')
        .emit('new')`

// alertNode logs one event per point it receives. The ID holds the point's
// group, which Kapacitor recomputes from the dimensions anomalyd sends.
func alertNode(logPath string) string {
	return fmt.Sprintf(`
    |alert()
        .id('anomaly:{{ .Group }}')
        .message('{{ index .Tags "host" }}: value {{ index .Fields "value" }}, expected {{ index .Fields "expected" }}, score {{ index .Fields "score" }}')
        .crit(lambda: "score" > 0.0)
        .log('%s')
`, logPath)
}

// streamScript is a stream task over windows of two hours every ten
// minutes: each point reaches anomalyd twelve times. .fillPeriod() holds
// the first window back until it spans two hours (four cycles; see the
// data's comment).
func streamScript(logPath string) string {
	return `stream
    |from()
        .measurement('cpu')
        .groupBy('host')
    |window()
        .period(2h)
        .every(10m)
        .fillPeriod()` + anomalyNode + alertNode(logPath)
}

// streamData is the data of the stream and batch tests: five hours; four
// spikes for host a and four for host b, after the sixth cycle, on both
// sides of the sine, one at the sine's trough (minute 202: 55, below the
// peaks at 60), and two pairs close enough (a: 183 and 187, b: 233 and 236)
// to be found by the same detection, so that anomalies sent together as one
// batch (one alert) would show.
func streamData(start time.Time) *dataset {
	return newDataset(start, 300, 42,
		spike{"a", 183, +spikeSize}, spike{"a", 187, +spikeSize}, spike{"a", 202, +spikeSize}, spike{"a", 251, -spikeSize},
		spike{"b", 195, -spikeSize}, spike{"b", 233, +spikeSize}, spike{"b", 236, -spikeSize}, spike{"b", 276, +spikeSize},
	)
}

// writeChunks sends lines to Kapacitor in chunks, as an agent would.
func (c *cluster) writeChunks(lines []string, chunk int) {
	c.t.Helper()
	for len(lines) > 0 {
		n := min(chunk, len(lines))
		if err := c.writeKapacitor(lines[:n]); err != nil {
			c.t.Fatal(err)
		}
		lines = lines[n:]
	}
}

// runStream is test 1 (and 6, in process mode): the windows overlap, so
// every point reaches anomalyd twelve times; each anomaly must still alert
// exactly once, for its own host.
func runStream(t *testing.T, c *cluster) {
	const task = "stream"
	c.define(task, "stream", streamScript(c.alertLog(task)))
	c.enable(task)
	d := streamData(epoch)
	c.writeChunks(d.lines(0, d.n), 200)
	c.waitAlerts(task, d.want(d.spikes...), 3*time.Second, 60*time.Second)
	if st, err := c.task(task); err != nil || !st.Executing || st.Error != "" {
		t.Errorf("task after the data: %+v, %v; want executing without error", st, err)
	}
}

// Test 1.
func TestStream_OneAlertPerAnomaly(t *testing.T) {
	t.Parallel()
	runStream(t, newCluster(t, clusterConfig{}))
}

// Test 6: the same with Kapacitor spawning `anomalyd serve --stdio`.
func TestProcessMode_OneAlertPerAnomaly(t *testing.T) {
	t.Parallel()
	// Kapacitor 1.5.9 does not report a child's exit status once the task
	// is stopping, so a non-zero exit on EOF is not visible here; the
	// daemon's own tests cover it.
	runStream(t, newCluster(t, clusterConfig{processMode: true}))
}

// Test 2: the seed's scenario. The series is in influxd, and a batch task
// queries the whole of it every two seconds, so anomalyd sees the same
// points again and again.
func TestBatch_OneAlertPerAnomaly(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{influxd: true})
	const task = "batch"
	// Batch queries cover [now-period, now): the data ends a minute ago.
	start := time.Now().UTC().Truncate(time.Minute).Add(-300 * time.Minute)
	d := streamData(start)
	lines := d.lines(0, d.n)
	for len(lines) > 0 {
		n := min(500, len(lines))
		if err := c.writeInflux(lines[:n]); err != nil {
			t.Fatal(err)
		}
		lines = lines[n:]
	}
	c.define(task, "batch", `batch
    |query('SELECT mean("value") AS "value" FROM "`+testDB+`"."`+testRP+`"."cpu"')
        .period(6h)
        .every(2s)
        .groupBy(time(1m), 'host')
        .fill('none')`+anomalyNode+alertNode(c.alertLog(task)))
	c.enable(task)
	// A quiet spell of several queries: a repeated alert would show.
	c.waitAlerts(task, d.want(d.spikes...), 7*time.Second, 90*time.Second)
	if st, err := c.task(task); err != nil || !st.Executing || st.Error != "" {
		t.Errorf("task after the data: %+v, %v; want executing without error", st, err)
	}
}

// Test 3: state survives a daemon restart through Kapacitor's snapshots.
// Windows are 20 minutes, shorter than the two periods (1 h) S-H-ESD
// needs: after the restart the spikes of phase B can only be found with
// the history restored from the snapshot, and the spike reported before
// the restart must not be reported again (the watermark is restored too).
func TestRestart_RestoresHistory(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{snapshotInterval: time.Second})
	const task = "restart"
	c.define(task, "stream", `stream
    |from()
        .measurement('cpu')
        .groupBy('host')
    |window()
        .period(20m)
        .every(20m)`+anomalyNode+alertNode(c.alertLog(task)))
	c.enable(task)
	// Noise seed 67: see the data's comment.
	d := newDataset(epoch, 221, 67, spike{"a", 150, +spikeSize}, spike{"b", 190, -spikeSize}, spike{"a", 205, +spikeSize})

	// Phase A: three hours; the window ending at minute 160 holds the spike.
	c.writeChunks(d.lines(0, 181), 200)
	c.waitAlerts(task, d.want(d.spikes[0]), 2*time.Second, 60*time.Second)
	if t.Failed() {
		return
	}
	time.Sleep(3 * time.Second) // let a snapshot (every second) take the whole history

	if err := c.anomalyd.stop(20 * time.Second); err != nil {
		t.Fatalf("anomalyd on SIGTERM: %v", err)
	}
	c.startAnomalyd()
	c.reenable(task)

	// Phase B: 40 minutes, two windows; alone far too short to detect.
	c.writeChunks(d.lines(180, 221), 200)
	c.waitAlerts(task, d.want(d.spikes...), 3*time.Second, 60*time.Second)
}

// Test 4: a bad option fails the task at Init with anomalyd's own message,
// which an operator sees in `kapacitor show`.
func TestBadOption_MessageInShow(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{})
	const task = "badoption"
	c.define(task, "stream", `stream
    |from()
        .measurement('cpu')
        .groupBy('host')
    |window()
        .period(1h)
        .every(10m)
    @anomaly()
        .field('value')
        .direction('sideways')`+alertNode(c.alertLog(task)))
	// Kapacitor 1.5.9 starts the task in the background: enable succeeds
	// and the task fails a moment later, when the node's Init is answered.
	if _, err := c.kapacitor("enable", task); err != nil {
		t.Logf("enable: %v", err)
	}
	err := waitUntil(c.kapacitord, 20*time.Second, func() error {
		st, err := c.task(task)
		if err != nil {
			return err
		}
		if st.Error == "" {
			return fmt.Errorf("task %s has no error yet: %+v", task, st)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	show, err := c.kapacitor("show", task)
	if err != nil {
		t.Fatal(err)
	}
	var errLine string
	for _, line := range strings.Split(show, "\n") {
		if strings.HasPrefix(line, "Error:") {
			errLine = line
		}
	}
	// anomalyd names the option, the bad value and what is accepted.
	for _, want := range []string{"direction", "sideways", "pos", "neg", "both"} {
		if !strings.Contains(errLine, want) {
			t.Errorf("kapacitor show %s: Error line %q does not contain %q; full output:\n%s", task, errLine, want, show)
		}
	}
	if st, err := c.task(task); err != nil || st.Executing {
		t.Errorf("task %s: %+v, %v; want not executing", task, st, err)
	}
	if err := c.pingKapacitor(); err != nil {
		t.Errorf("kapacitord after the failed task: %v", err)
	}
}

// Test 5: anomalyd killed with SIGKILL while data flows. kapacitord must
// stay up and keep answering; once anomalyd is back and the task is
// re-enabled, alerts flow again.
func TestKill9_KapacitordSurvives(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{snapshotInterval: time.Second})
	const task = "kill9"
	c.define(task, "stream", streamScript(c.alertLog(task)))
	c.enable(task)
	d := newDataset(epoch, 250, 42, spike{"a", 190, +spikeSize}, spike{"b", 215, -spikeSize}, spike{"a", 235, +spikeSize})

	// Phase A: three hours without anomalies, in 10-minute chunks; the
	// daemon dies after 160 minutes, mid-stream, when it has had four
	// windows.
	for m := 0; m <= 180; m += 10 {
		if err := c.writeKapacitor(d.lines(m, min(m+10, 181))); err != nil {
			t.Fatalf("write at minute %d: %v", m, err)
		}
		if m == 150 {
			c.anomalyd.kill9()
			t.Logf("killed anomalyd (pid %d) with SIGKILL after minute %d", c.anomalyd.pid(), m+10)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Several snapshot intervals pass with the daemon gone.
	for i := 0; i < 4; i++ {
		time.Sleep(time.Second)
		if err := c.pingKapacitor(); err != nil {
			t.Fatalf("kapacitord after anomalyd was killed: %v", err)
		}
	}
	if _, err := c.kapacitor("list", "tasks"); err != nil {
		t.Fatalf("kapacitord after anomalyd was killed: %v", err)
	}
	st, err := c.task(task)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("task with anomalyd gone: %+v", st)

	// The new daemon replaces the socket file the killed one left.
	c.startAnomalyd()
	c.reenable(task)
	// Phase B: the whole series again (the minutes anomalyd missed, and
	// the rest with the spikes); the restored history makes the repeated
	// points duplicates.
	c.writeChunks(d.lines(0, d.n), 200)
	c.waitAlerts(task, d.want(d.spikes...), 3*time.Second, 60*time.Second)
}
