package heal

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

// newTestHealer makes a Healer on a fake Kapacitor with a fake clock and
// a logger whose entries the test can read.
func newTestHealer(t *testing.T, cfg Config) (*Healer, *fakeClock, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core()))
	h, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	h.clock = clk
	t.Cleanup(h.client.CloseIdleConnections)
	return h, clk, logs
}

func pass(t *testing.T, h *Healer) Result {
	t.Helper()
	res, err := h.Pass(context.Background())
	if err != nil {
		t.Fatalf("Pass: %v", err)
	}
	return res
}

func TestHealer_Selection(t *testing.T) {
	f := newFakeKapacitor(t,
		lostTask("broken-pipe", errBrokenPipe),
		lostTask("reset", errReset),
		lostTask("keepalive", errKeepalive),
		lostTask("refused", errRefused),
		lostTask("no-socket", errNoSocket),
		// Left alone:
		fakeTask{ID: "other-udf", Script: scriptOtherUDF,
			Error: "movingAverage3: stopping UDF server: write error: write unix @->/run/ma.sock: write: broken pipe"},
		fakeTask{ID: "no-udf", Script: scriptPlain,
			Error: "alert2: Post http://127.0.0.1:9/alerts: dial tcp 127.0.0.1:9: connect: connection refused"},
		fakeTask{ID: "user-disabled", Status: StatusDisabled, Script: scriptAnomaly, Error: errBrokenPipe},
		fakeTask{ID: "user-disabled-clean", Status: StatusDisabled, Script: scriptAnomaly},
		fakeTask{ID: "running", Script: scriptAnomaly, Executing: true},
		fakeTask{ID: "bad-option", Script: scriptAnomaly, Error: errBadOption},
		fakeTask{ID: "commented-out", Script: "stream\n// @anomaly()\n|log()", Error: errBrokenPipe},
		fakeTask{ID: "never-started", Script: scriptAnomaly},
	)
	h, _, logs := newTestHealer(t, f.config())
	res := pass(t, h)

	want := []string{
		"broken-pipe disabled", "broken-pipe enabled",
		"keepalive disabled", "keepalive enabled",
		"no-socket disabled", "no-socket enabled",
		"refused disabled", "refused enabled",
		"reset disabled", "reset enabled",
	}
	if got := f.patches(); !slices.Equal(got, want) {
		t.Errorf("PATCHes:\n%q\nwant\n%q", got, want)
	}
	if res != (Result{Tasks: 13, Using: 10, Lost: 5, Reenabled: 5}) {
		t.Errorf("result %+v", res)
	}
	for _, id := range []string{"broken-pipe", "reset", "keepalive", "refused", "no-socket"} {
		if tk := f.task(id); tk.Status != StatusEnabled || !tk.Executing || tk.Error != "" {
			t.Errorf("%s after the pass: %+v", id, tk)
		}
	}
	for _, id := range []string{"user-disabled", "user-disabled-clean"} {
		if tk := f.task(id); tk.Status != StatusDisabled {
			t.Errorf("%s after the pass: %+v", id, tk)
		}
	}
	st := h.Stats()
	if st.Reenabled.Load() != 5 || st.Polls.Load() != 1 || st.ReenableFailures.Load() != 0 ||
		st.TasksUsing.Load() != 10 || st.TasksLost.Load() != 5 || st.LastPoll.Load() == 0 {
		t.Errorf("stats: reenabled %d polls %d failures %d using %d lost %d",
			st.Reenabled.Load(), st.Polls.Load(), st.ReenableFailures.Load(), st.TasksUsing.Load(), st.TasksLost.Load())
	}
	// Each re-enable is logged with the task and its previous error.
	entries := logs.FilterMessageSnippet("re-enabled task").All()
	if len(entries) != 5 {
		t.Fatalf("%d re-enable log entries, want 5", len(entries))
	}
	for _, e := range entries {
		m := e.ContextMap()
		if m["task"] == "broken-pipe" && (m["previous_error"] != errBrokenPipe || m["reason"] != ReasonBrokenPipe) {
			t.Errorf("log entry %v", m)
		}
	}

	// A second pass finds nothing to do.
	f.resetRequests()
	if res := pass(t, h); res.Reenabled != 0 || len(f.patches()) != 0 {
		t.Errorf("second pass: %+v, %q", res, f.patches())
	}
}

func TestHealer_SeveralUDFNames(t *testing.T) {
	f := newFakeKapacitor(t,
		lostTask("default", errBrokenPipe),
		fakeTask{ID: "hourly", Script: "stream @anomalyHourly().field('v')",
			Error: "anomalyHourly2: stopping UDF server: write error: write unix @->/run/h.sock: write: broken pipe"},
	)
	cfg := f.config()
	cfg.UDFNames = []string{"anomalyHourly"}
	h, _, _ := newTestHealer(t, cfg)
	pass(t, h)
	if got, want := f.patches(), []string{"hourly disabled", "hourly enabled"}; !slices.Equal(got, want) {
		t.Errorf("PATCHes %q, want %q", got, want)
	}
	cfg.UDFNames = []string{"anomaly", "anomalyHourly"}
	h2, _, _ := newTestHealer(t, cfg)
	f.setTask(fakeTask{ID: "hourly", Status: StatusEnabled, Script: "stream @anomalyHourly()", Error: "anomalyHourly2: stopping UDF server: keepalive timedout, last keepalive received was: x"})
	if res := pass(t, h2); res.Reenabled != 2 {
		t.Errorf("result %+v, want 2 re-enabled", res)
	}
}

func TestHealer_AmbiguousNodeName(t *testing.T) {
	// Node "anomaly23" may be node 3 of a UDF "anomaly2" the task also
	// calls: not ours to restart.
	f := newFakeKapacitor(t, fakeTask{ID: "t", Status: StatusEnabled, Script: "stream @anomaly() @anomaly2()",
		Error: "anomaly23: stopping UDF server: write error: write unix @->/run/other.sock: write: broken pipe"})
	h, _, _ := newTestHealer(t, f.config())
	if res := pass(t, h); res.Reenabled != 0 || len(f.patches()) != 0 {
		t.Errorf("result %+v, PATCHes %q", res, f.patches())
	}
}

func TestHealer_Paginated(t *testing.T) {
	f := newFakeKapacitor(t)
	for i, id := range taskIDs(250, "t") {
		tk := fakeTask{ID: id, Status: StatusEnabled, Script: scriptAnomaly, Executing: true}
		if i == 5 || i == 150 || i == 249 {
			tk = lostTask(id, errBrokenPipe)
		}
		f.setTask(tk)
	}
	h, _, _ := newTestHealer(t, f.config())
	res := pass(t, h)
	want := []string{"t0005 disabled", "t0005 enabled", "t0150 disabled", "t0150 enabled", "t0249 disabled", "t0249 enabled"}
	if got := f.patches(); !slices.Equal(got, want) {
		t.Errorf("PATCHes %q, want %q", got, want)
	}
	if res.Tasks != 250 || res.Using != 250 || res.Reenabled != 3 {
		t.Errorf("result %+v", res)
	}
}

func TestHealer_TaskChangedSinceListed(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodGet && r.URL.Path == "/kapacitor/v1/tasks/t" {
			// A user disabled it between the list and the re-check.
			f.mu.Lock()
			f.tasks["t"].Status = StatusDisabled
			f.mu.Unlock()
		}
		return false
	})
	h, _, _ := newTestHealer(t, f.config())
	if res := pass(t, h); res.Reenabled != 0 || len(f.patches()) != 0 {
		t.Errorf("result %+v, PATCHes %q", res, f.patches())
	}
	if f.task("t").Status != StatusDisabled {
		t.Error("task enabled")
	}
}

func TestHealer_TaskDeletedSinceListed(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodGet && r.URL.Path == "/kapacitor/v1/tasks/t" {
			httpError(w, "no task exists", http.StatusNotFound)
			return true
		}
		return false
	})
	h, _, _ := newTestHealer(t, f.config())
	if res := pass(t, h); res.Reenabled != 0 || res.Failed != 0 || len(f.patches()) != 0 {
		t.Errorf("result %+v, PATCHes %q", res, f.patches())
	}
}

func TestHealer_DisableFails(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("a", errBrokenPipe), lostTask("b", errBrokenPipe))
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodPatch && r.URL.Path == "/kapacitor/v1/tasks/a" {
			httpError(w, "failed to replace task definition: timeout", http.StatusInternalServerError)
			return true
		}
		return false
	})
	h, clk, logs := newTestHealer(t, f.config())
	res := pass(t, h)
	// a fails, b is still healed.
	if res.Failed != 1 || res.Reenabled != 1 || h.Stats().ReenableFailures.Load() != 1 {
		t.Errorf("result %+v", res)
	}
	if logs.FilterMessageSnippet("re-enabling task failed").Len() != 1 {
		t.Error("failure not logged")
	}
	if tk := f.task("a"); tk.Status != StatusEnabled {
		t.Errorf("a: %+v", tk)
	}
	// Next look: a is tried again.
	f.setIntercept(nil)
	f.resetRequests()
	clk.advance(30 * time.Second)
	if res := pass(t, h); res.Reenabled != 1 {
		t.Errorf("second pass %+v", res)
	}
	if got, want := f.patches(), []string{"a disabled", "a enabled"}; !slices.Equal(got, want) {
		t.Errorf("PATCHes %q, want %q", got, want)
	}
}

func TestHealer_EnableFailsThenRetried(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe), fakeTask{ID: "user", Status: StatusDisabled, Script: scriptAnomaly, Error: errBrokenPipe})
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodPatch && strings.Contains(readBody(r), `"enabled"`) {
			httpError(w, "invalid TICKscript: kapacitor is shutting down", http.StatusBadRequest)
			return true
		}
		return false
	})
	h, clk, logs := newTestHealer(t, f.config())
	res := pass(t, h)
	if res.Failed != 1 || res.Reenabled != 0 || f.task("t").Status != StatusDisabled {
		t.Fatalf("result %+v, task %+v", res, f.task("t"))
	}
	if logs.FilterMessageSnippet("may be left disabled").Len() != 1 {
		t.Error("a task left disabled is not logged as an error")
	}
	// Next look: the task anomalyd disabled is enabled, and only it.
	f.setIntercept(nil)
	f.resetRequests()
	clk.advance(30 * time.Second)
	res = pass(t, h)
	if got, want := f.patches(), []string{"t enabled"}; !slices.Equal(got, want) {
		t.Errorf("PATCHes %q, want %q", got, want)
	}
	if res.Reenabled != 1 || f.task("t").Status != StatusEnabled || f.task("user").Status != StatusDisabled {
		t.Errorf("result %+v, tasks %+v %+v", res, f.task("t"), f.task("user"))
	}
}

func TestHealer_EnableAfterDisableSurvivesUserChange(t *testing.T) {
	// The enable failed; then a user changed (here: disabled again, with a
	// new modification time) the task: it stays as the user left it.
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	failEnable := true
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if failEnable && r.Method == http.MethodPatch && strings.Contains(readBody(r), `"enabled"`) {
			httpError(w, "boom", http.StatusInternalServerError)
			return true
		}
		return false
	})
	h, clk, logs := newTestHealer(t, f.config())
	pass(t, h)
	tk := f.task("t")
	f.setTask(fakeTask{ID: "t", Status: StatusDisabled, Script: tk.Script, Error: tk.Error}) // the user's PATCH
	failEnable = false
	f.resetRequests()
	clk.advance(time.Minute)
	if res := pass(t, h); res.Reenabled != 0 || len(f.patches()) != 0 {
		t.Errorf("result %+v, PATCHes %q", res, f.patches())
	}
	if logs.FilterMessageSnippet("changed by someone else").Len() != 1 {
		t.Error("not logged")
	}
}

func TestHealer_EnableRetriedWhenUnanswered(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	enables := 0
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodPatch && strings.Contains(readBody(r), `"enabled"`) {
			enables++
			if enables <= 2 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close() // no answer
				return true
			}
		}
		return false
	})
	h, clk, _ := newTestHealer(t, f.config())
	res := pass(t, h)
	if res.Reenabled != 1 || enables != 3 || f.task("t").Status != StatusEnabled {
		t.Errorf("result %+v, %d enables, task %+v", res, enables, f.task("t"))
	}
	if got, want := clk.Waits(), enableRetries; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestHealer_ShutdownBetweenDisableAndEnable(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodPatch && strings.Contains(readBody(r), `"disabled"`) {
			cancel() // SIGTERM arrives now
		}
		return false
	})
	h, _, _ := newTestHealer(t, f.config())
	_, _ = h.Pass(ctx)
	if got, want := f.patches(), []string{"t disabled", "t enabled"}; !slices.Equal(got, want) {
		t.Errorf("PATCHes %q, want %q", got, want)
	}
	if f.task("t").Status != StatusEnabled {
		t.Error("task left disabled at shutdown")
	}
}

func TestHealer_CredentialsRefusedStopsPass(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("a", errBrokenPipe), lostTask("b", errBrokenPipe))
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/kapacitor/v1/tasks" {
			httpError(w, `user heal does not have "write" privilege for API endpoint "/kapacitor/v1/tasks/a"`, http.StatusForbidden)
			return true
		}
		return false
	})
	h, _, _ := newTestHealer(t, f.config())
	res, err := h.Pass(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden {
		t.Fatalf("err = %v, want the 403", err)
	}
	if res.Failed != 1 || len(f.reqs()) != 2 { // list, GET a; nothing for b
		t.Errorf("result %+v, %d requests", res, len(f.reqs()))
	}
}

func TestHealer_RepeatedFailureBacksOff(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	f.onEnable = func(tk *fakeTask) { // fails again at once, each time
		tk.Executing, tk.Error = false, errBrokenPipe
	}
	cfg := f.config()
	cfg.Interval, cfg.MaxBackoff = 10*time.Second, 50*time.Second
	h, clk, _ := newTestHealer(t, cfg)
	var healedAt []int // in intervals
	for i := 0; i < 25; i++ {
		if res := pass(t, h); res.Reenabled == 1 {
			healedAt = append(healedAt, i)
		}
		clk.advance(cfg.Interval)
	}
	// At once, at the next look, then after 1, 2, 4, 5, 5 intervals.
	if want := []int{0, 1, 2, 4, 8, 13, 18, 23}; !slices.Equal(healedAt, want) {
		t.Errorf("re-enabled at intervals %v, want %v", healedAt, want)
	}
	// Seen executing once: the count starts again.
	f.onEnable = nil
	f.setTask(fakeTask{ID: "t", Status: StatusEnabled, Executing: true, Script: scriptAnomaly})
	pass(t, h)
	f.setTask(lostTask("t", errBrokenPipe))
	if res := pass(t, h); res.Reenabled != 1 {
		t.Errorf("after running again: %+v", res)
	}
}

func TestHealer_RunBacksOffAndRecovers(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t", errBrokenPipe))
	lists := 0
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodGet && r.URL.Path == "/kapacitor/v1/tasks" {
			lists++
			if lists <= 6 {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("<html>maintenance</html>"))
				return true
			}
		}
		return false
	})
	cfg := f.config()
	cfg.Interval, cfg.MaxBackoff = time.Second, 10*time.Second
	h, clk, logs := newTestHealer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	clk.onAfter = func(n int) {
		if n == 9 {
			cancel()
		}
	}
	if err := h.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second,
		time.Second, time.Second, time.Second}
	if got := clk.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	st := h.Stats()
	if st.PollFailures.Load() != 6 || st.Unreachable.Load() != 0 || st.Polls.Load() != 3 || st.Reenabled.Load() != 1 {
		t.Errorf("stats: failures %d unreachable %d polls %d reenabled %d",
			st.PollFailures.Load(), st.Unreachable.Load(), st.Polls.Load(), st.Reenabled.Load())
	}
	if logs.FilterMessageSnippet("cannot look at Kapacitor's tasks").Len() != 6 || logs.FilterMessageSnippet("answers again").Len() != 1 {
		t.Error("failures or recovery not logged")
	}
}

func TestHealer_RunKapacitorUnreachable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.URL = "http://" + closedAddr(t)
	h, clk, logs := newTestHealer(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	clk.onAfter = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	if err := h.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if h.Stats().Unreachable.Load() != 3 || h.Stats().PollFailures.Load() != 3 {
		t.Errorf("unreachable %d", h.Stats().Unreachable.Load())
	}
	warns := logs.FilterMessageSnippet("kapacitor unreachable").All()
	if len(warns) != 3 || warns[0].Level != zap.WarnLevel {
		t.Errorf("%d warnings", len(warns))
	}
	if got, want := clk.Waits(), []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

func TestHealer_RunStopsAtOnce(t *testing.T) {
	f := newFakeKapacitor(t)
	cfg := f.config()
	h, err := New(cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if h.Stats().Polls.Load() != 1 {
		t.Errorf("polls %d, want 1 (right after start)", h.Stats().Polls.Load())
	}
}

func TestNew_InvalidConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.URL = "http://x:9092"
	cfg.Interval = 0
	if _, err := New(cfg, zap.NewNop()); err == nil {
		t.Fatal("no error")
	}
}

// connSet is the set of task IDs connected to the daemon, as the agent
// would report it.
type connSet struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (c *connSet) set(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = make(map[string]bool)
	for _, id := range ids {
		c.ids[id] = true
	}
}

func (c *connSet) get() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.ids)
}

func TestHealer_ZombieAfterRestart(t *testing.T) {
	f := newFakeKapacitor(t,
		fakeTask{ID: "zombie", Script: scriptAnomaly, Executing: true},
		fakeTask{ID: "live", Script: scriptAnomaly, Executing: true},
		fakeTask{ID: "late", Script: scriptAnomaly, Executing: true},
		fakeTask{ID: "not-ours", Script: scriptOtherUDF, Executing: true},
		fakeTask{ID: "user-disabled", Script: scriptAnomaly, Status: StatusDisabled},
	)
	conns := &connSet{}
	conns.set("live", "late") // "late" connects, then loses it after the start
	h, clk, logs := newTestHealer(t, f.config())
	WithConnectedTasks(conns.get)(h)

	if res := pass(t, h); res.Suspects != 1 || res.Reenabled != 0 || len(f.patches()) != 0 {
		t.Fatalf("first pass %+v, PATCHes %q", res, f.patches())
	}
	conns.set("live")
	clk.advance(zombieGrace / 2)
	if res := pass(t, h); res.Suspects != 1 || len(f.patches()) != 0 {
		t.Fatalf("within the grace: %+v, PATCHes %q", res, f.patches())
	}
	clk.advance(zombieGrace / 2)
	res := pass(t, h)
	if got, want := f.patches(), []string{"zombie disabled", "zombie enabled"}; !slices.Equal(got, want) {
		t.Fatalf("PATCHes %q, want %q", got, want)
	}
	if res.Reenabled != 1 || res.Suspects != 0 {
		t.Errorf("result %+v", res)
	}
	e := logs.FilterMessageSnippet("re-enabled task").All()
	if len(e) != 1 || e[0].ContextMap()["reason"] != ReasonNotConnected {
		t.Errorf("log %v", e)
	}
	// Later disconnections are Kapacitor's to report.
	conns.set()
	f.resetRequests()
	for range 3 {
		clk.advance(time.Minute)
		pass(t, h)
	}
	if len(f.patches()) != 0 {
		t.Errorf("PATCHes after the start: %q", f.patches())
	}
}

func TestHealer_ZombieConnectsWithinGrace(t *testing.T) {
	f := newFakeKapacitor(t, fakeTask{ID: "slow", Script: scriptAnomaly, Executing: true})
	conns := &connSet{}
	h, clk, _ := newTestHealer(t, f.config())
	WithConnectedTasks(conns.get)(h)
	pass(t, h)
	conns.set("slow") // Kapacitor was still dialing
	clk.advance(zombieGrace)
	if res := pass(t, h); res.Suspects != 0 || len(f.patches()) != 0 {
		t.Errorf("result %+v, PATCHes %q", res, f.patches())
	}
}

func TestHealer_ZombieConnectsBeforeRecheck(t *testing.T) {
	f := newFakeKapacitor(t, fakeTask{ID: "z", Script: scriptAnomaly, Executing: true})
	conns := &connSet{}
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodGet && r.URL.Path == "/kapacitor/v1/tasks/z" {
			conns.set("z")
		}
		return false
	})
	h, clk, _ := newTestHealer(t, f.config())
	WithConnectedTasks(conns.get)(h)
	pass(t, h)
	clk.advance(zombieGrace)
	pass(t, h)
	if len(f.patches()) != 0 {
		t.Errorf("PATCHes %q", f.patches())
	}
}

func TestHealer_RunChecksSuspectsSooner(t *testing.T) {
	f := newFakeKapacitor(t, fakeTask{ID: "z", Script: scriptAnomaly, Executing: true})
	conns := &connSet{}
	f.onEnable = func(tk *fakeTask) { conns.set(tk.ID) }
	h, clk, _ := newTestHealer(t, f.config())
	WithConnectedTasks(conns.get)(h)
	ctx, cancel := context.WithCancel(context.Background())
	clk.onAfter = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	if err := h.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := clk.Waits(), []time.Duration{zombieGrace, 30 * time.Second, 30 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if got, want := f.patches(), []string{"z disabled", "z enabled"}; !slices.Equal(got, want) {
		t.Errorf("PATCHes %q, want %q", got, want)
	}
}
