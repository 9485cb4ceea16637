//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// logEntries returns the JSON log entries of the latest anomalyd start
// whose message starts with msg.
func logEntries(log, msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(lastStart(log)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			if m, _ := e["msg"].(string); strings.HasPrefix(m, msg) {
				out = append(out, e)
			}
		}
	}
	return out
}

// healScript is the task of TestRestart_RestoresHistory: 20-minute windows
// are too short for S-H-ESD (1 h = two periods), so the spikes written
// after a restart are found only with the history restored from the
// snapshot. Its data is newDataset(epoch, 221, 67, ...): see the data's
// comment.
func healScript(alertLog string) string {
	return `stream
    |from()
        .measurement('cpu')
        .groupBy('host')
    |window()
        .period(20m)
        .every(20m)` + anomalyNode + alertNode(alertLog)
}

// TestHeal_Kill9RestartReenablesTask is the acceptance test of
// self-healing: a stream task runs through anomalyd; anomalyd is killed
// with SIGKILL and started again at once with --kapacitor-url (default
// interval, 30 s). With no manual step the task executes again within 60 s
// of the kill, restores its snapshot, and the anomalies written after the
// restart alert, the one alerted before does not alert again. Tasks
// disabled by their users, one without anomalyd and one with it, stay
// disabled; /metrics counts the re-enable.
func TestHeal_Kill9RestartReenablesTask(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{snapshotInterval: time.Second})
	const task, other, paused = "heal", "other", "paused"
	c.define(task, "stream", healScript(c.alertLog(task)))
	c.enable(task)
	// Disabled by their users: one does not use anomalyd, one does.
	c.define(other, "stream", `stream
    |from()
        .measurement('cpu')
    |alert()
        .crit(lambda: "value" > 1000.0)
        .log('`+c.alertLog(other)+`')
`)
	c.define(paused, "stream", healScript(c.alertLog(paused)))
	for _, name := range []string{other, paused} {
		c.enable(name)
		if _, err := c.kapacitor("disable", name); err != nil {
			t.Fatal(err)
		}
	}

	// Noise seed 67: see the data's comment.
	d := newDataset(epoch, 221, 67, spike{"a", 150, +spikeSize}, spike{"b", 190, -spikeSize}, spike{"a", 205, +spikeSize})
	// Phase A: three hours; the window ending at minute 160 holds the spike.
	c.writeChunks(d.lines(0, 181), 200)
	c.waitAlerts(task, d.want(d.spikes[0]), 2*time.Second, 60*time.Second)
	if t.Failed() {
		return
	}
	time.Sleep(3 * time.Second) // let a snapshot (every second) take the whole history

	c.anomalyd.kill9()
	killed := time.Now()
	t.Logf("killed anomalyd (pid %d) with SIGKILL", c.anomalyd.pid())
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.startAnomalyd("--kapacitor-url", c.kapURL, "--http-addr", httpAddr)
	t.Logf("anomalyd started again %s after the kill, with --kapacitor-url %s", time.Since(killed).Round(time.Millisecond), c.kapURL)

	// No manual step. Kapacitor still shows the task executing (it notices
	// a dead UDF only when the node next handles data); the new daemon sees
	// that the task has no connection to it and re-enables it 10 s after
	// its start.
	var reenabled map[string]any
	err := waitUntil(c.anomalyd, 60*time.Second-time.Since(killed), func() error {
		for _, e := range logEntries(c.anomalyd.logText(), "re-enabled task") {
			if e["task"] == task {
				reenabled = e
			}
		}
		if reenabled == nil {
			return errors.New("anomalyd has not re-enabled the task")
		}
		st, err := c.task(task)
		if err != nil {
			return err
		}
		if !st.Executing || st.Error != "" {
			return fmt.Errorf("task %s: %+v", task, st)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("task not executing again within 60 s of the kill: %v", err)
	}
	t.Logf("task %s executing again %s after the kill; anomalyd logged: reason %q, previous error %q",
		task, time.Since(killed).Round(time.Millisecond), reenabled["reason"], reenabled["previous_error"])

	// It restored its snapshot on the new connection.
	restored := false
	for _, e := range logEntries(c.anomalyd.logText(), "snapshot restored") {
		if e["task"] == task {
			restored = true
			t.Logf("snapshot restored: %v groups, %v points", e["groups"], e["points"])
		}
	}
	if !restored {
		t.Errorf("the new daemon did not restore %s's snapshot", task)
	}

	// Phase B: 40 minutes, two windows; alone far too short to detect. The
	// spike alerted before the kill must not alert again.
	c.writeChunks(d.lines(180, 221), 200)
	c.waitAlerts(task, d.want(d.spikes...), 3*time.Second, 60*time.Second)

	// The tasks their users disabled stay disabled, untouched.
	for _, name := range []string{other, paused} {
		st, err := c.task(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != "disabled" || st.Executing {
			t.Errorf("task %s: %+v, want disabled", name, st)
		}
	}
	for _, e := range logEntries(c.anomalyd.logText(), "") {
		if tk, _ := e["task"].(string); (tk == other || tk == paused) && strings.Contains(fmt.Sprint(e["msg"]), "enable") {
			t.Errorf("anomalyd touched %s: %v", tk, e)
		}
	}
	// Counted in /metrics.
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"anomalyd_heal_tasks_reenabled_total 1\n", "anomalyd_heal_reenable_failures_total 0\n", "anomalyd_heal_tasks_using_udf 2\n"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(m))
		}
	}
}

// TestHeal_FailedTaskReenabledAtStart: anomalyd is killed and Kapacitor
// notices (the next batch fails with a broken pipe) before anomalyd is
// started again with --kapacitor-url. Kapacitor's real error matches: the
// first look right after the start re-enables the task, and the anomalies
// written after it alert. A task using anomalyd that failed the same way
// and that its user then disabled stays disabled.
func TestHeal_FailedTaskReenabledAtStart(t *testing.T) {
	t.Parallel()
	c := newCluster(t, clusterConfig{snapshotInterval: time.Second})
	const task, paused = "failed", "paused"
	for _, name := range []string{task, paused} {
		c.define(name, "stream", healScript(c.alertLog(name)))
		c.enable(name)
	}
	d := newDataset(epoch, 221, 67, spike{"a", 150, +spikeSize}, spike{"b", 190, -spikeSize}, spike{"a", 205, +spikeSize})
	c.writeChunks(d.lines(0, 181), 200)
	c.waitAlerts(task, d.want(d.spikes[0]), 2*time.Second, 60*time.Second)
	if t.Failed() {
		return
	}
	time.Sleep(3 * time.Second) // let a snapshot (every second) take the whole history
	c.anomalyd.kill9()
	t.Logf("killed anomalyd (pid %d) with SIGKILL", c.anomalyd.pid())

	// The next window closes: both tasks write its batch to the dead
	// connection and fail. (Kapacitor reports nothing until a UDF node
	// handles data: keepalive timeouts and failed snapshots leave the task
	// executing.) The batch is lost; it is sent again after the restart.
	c.writeChunks(d.lines(181, 201), 200)
	var failedWith string
	err := waitUntil(c.kapacitord, 30*time.Second, func() error {
		for _, name := range []string{task, paused} {
			st, err := c.task(name)
			if err != nil {
				return err
			}
			if st.Executing || st.Error == "" {
				return fmt.Errorf("task %s: %+v", name, st)
			}
			failedWith = st.Error
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the tasks did not fail: %v", err)
	}
	t.Logf("Kapacitor's error: %q", failedWith)
	if _, err := c.kapacitor("disable", paused); err != nil { // its user
		t.Fatal(err)
	}

	started := time.Now()
	c.startAnomalyd("--kapacitor-url", c.kapURL)
	err = waitUntil(c.anomalyd, 60*time.Second, func() error {
		st, err := c.task(task)
		if err != nil {
			return err
		}
		if !st.Executing || st.Error != "" {
			return fmt.Errorf("task %s: %+v", task, st)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("task not executing again within 60 s of the start: %v", err)
	}
	t.Logf("task %s executing again %s after anomalyd started", task, time.Since(started).Round(time.Millisecond))
	entries := logEntries(c.anomalyd.logText(), "re-enabled task")
	if len(entries) != 1 || entries[0]["task"] != task || entries[0]["reason"] != "broken pipe" || entries[0]["previous_error"] != failedWith {
		t.Errorf("re-enable log entries %v; want one for %s, broken pipe, %q", entries, task, failedWith)
	}

	// Phase B: the anomalies after the restart alert, with the history
	// restored (the batch lost with the connection held only host c).
	c.writeChunks(d.lines(180, 221), 200)
	c.waitAlerts(task, d.want(d.spikes...), 3*time.Second, 60*time.Second)
	if st, err := c.task(paused); err != nil || st.Status != "disabled" || st.Executing {
		t.Errorf("task %s: %+v, %v; want disabled", paused, st, err)
	}
}
