package heal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Stats counts what the healer did. Fields are updated atomically and may
// be read at any time (e.g. by a metrics exporter).
type Stats struct {
	Polls            atomic.Uint64 // task lists read
	PollFailures     atomic.Uint64 // task lists that failed, Unreachable included
	Unreachable      atomic.Uint64 // task lists that got no answer from Kapacitor
	Reenabled        atomic.Uint64 // tasks re-enabled (disabled, then enabled)
	ReenableFailures atomic.Uint64 // re-enables that failed; the task is tried again later

	// Gauges, as of the last task list read.
	TasksUsing atomic.Int64 // tasks whose TICKscript calls the daemon's UDFs
	TasksLost  atomic.Int64 // of those: enabled, not executing, connection lost (before healing)
	LastPoll   atomic.Int64 // Unix time of the last task list read; 0 before the first
}

// Result says what one Pass saw and did.
type Result struct {
	Tasks     int // tasks listed
	Using     int // tasks calling the daemon's UDFs
	Lost      int // of those: enabled, not executing, connection lost
	Reenabled int // tasks re-enabled
	Failed    int // re-enables that failed
	Deferred  int // lost tasks left for later (backing off after repeated failures)
	// Suspects are tasks that were executing at the daemon's start with no
	// connection to it, not yet for zombieGrace (see WithConnectedTasks).
	Suspects int
}

// clock is time, replaceable in tests.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Healer re-enables the tasks that lost their connection to the daemon;
// see the package documentation.
type Healer struct {
	cfg    Config
	client *Client
	log    *zap.Logger
	stats  Stats
	clock  clock

	mu    sync.Mutex            // one Pass at a time
	tasks map[string]*taskState // tasks re-enabled lately, by ID

	// connected, if set, returns the IDs of the tasks with a UDF
	// connection to this daemon now.
	connected func() map[string]bool
	listed    bool                 // a task list was read since start
	suspects  map[string]time.Time // executing at start, not connected: since when
}

// zombieGrace is how long a task that was executing when the daemon
// started must stay without a connection to it before it is re-enabled:
// time for Kapacitor to connect the tasks it is starting right then.
const zombieGrace = 10 * time.Second

// Option changes a Healer made by New.
type Option func(*Healer)

// WithConnectedTasks lets the healer also restart the tasks that still
// show as executing but lost their connection when the daemon restarted.
// Kapacitor marks a task failed only when its UDF node next handles data
// (the node waits for its parent, not for the socket), so after a restart
// a task fed every hour looks healthy for up to an hour, and the batch
// that reveals the failure is lost. fn returns the IDs of the tasks with a
// connection to this daemon now (the task IDs Kapacitor sends in its init
// requests). A task of the daemon's UDFs that is executing at the first
// task list with no connection, and still without one zombieGrace later,
// is re-enabled. Only tasks seen so at start qualify: a connection that
// ends later ends because of the task or the daemon (an error response,
// a stop), and Kapacitor reports that failure with the task's error.
func WithConnectedTasks(fn func() map[string]bool) Option {
	return func(h *Healer) { h.connected = fn }
}

// taskState remembers the re-enables of one task.
type taskState struct {
	attempts int       // re-enables since the task was last seen executing
	last     time.Time // the latest
	// disabled: the healer disabled the task and has not enabled it
	// again yet (the enable failed); disabledAt is the task's Modified
	// time that the disable answered (zero if unknown). Only such a
	// disabled task is ever enabled.
	disabled   bool
	disabledAt time.Time
}

// enableRetries are the waits before the retries of an enable that got no
// answer, right after the healer disabled the task.
var enableRetries = []time.Duration{time.Second, 2 * time.Second}

// New makes a Healer for cfg, which must be valid and enabled.
func New(cfg Config, log *zap.Logger, opts ...Option) (*Healer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	h := &Healer{
		cfg:      cfg,
		client:   client,
		log:      log,
		clock:    realClock{},
		tasks:    make(map[string]*taskState),
		suspects: make(map[string]time.Time),
	}
	for _, o := range opts {
		o(h)
	}
	return h, nil
}

// Stats returns the healer's counters.
func (h *Healer) Stats() *Stats { return &h.stats }

// Run heals at once, then every Interval, until ctx ends; it returns nil
// then. A failed pass (Kapacitor unreachable, an error answer) is logged
// and retried after a backoff that doubles up to MaxBackoff.
func (h *Healer) Run(ctx context.Context) error {
	defer h.client.CloseIdleConnections()
	h.log.Info("self-healing on: re-enabling tasks that lost their connection to anomalyd",
		zap.String("kapacitor_url", h.cfg.URL), zap.Strings("udf_names", h.cfg.UDFNames),
		zap.Duration("interval", h.cfg.Interval))
	failures := 0
	for ctx.Err() == nil {
		res, err := h.Pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := h.cfg.Interval
		switch {
		case err != nil:
			failures++
			wait = h.backoff(failures)
			msg := "cannot look at Kapacitor's tasks"
			if errors.Is(err, ErrUnreachable) {
				msg = "kapacitor unreachable"
			}
			h.log.Warn(msg+", retrying", zap.Error(err), zap.Int("failures", failures), zap.Duration("retry_in", wait))
		default:
			if failures > 0 {
				h.log.Info("kapacitor answers again", zap.Int("failures", failures))
			}
			failures = 0
			h.log.Debug("looked at Kapacitor's tasks", zap.Int("tasks", res.Tasks), zap.Int("using_udf", res.Using),
				zap.Int("lost", res.Lost), zap.Int("reenabled", res.Reenabled), zap.Int("failed", res.Failed),
				zap.Int("deferred", res.Deferred), zap.Int("suspects", res.Suspects))
			if res.Suspects > 0 {
				wait = min(wait, zombieGrace)
			}
		}
		select {
		case <-ctx.Done():
		case <-h.clock.After(wait):
		}
	}
	return nil
}

// backoff is the wait after n consecutive failures: Interval·2ⁿ, capped
// at MaxBackoff.
func (h *Healer) backoff(n int) time.Duration {
	d := h.cfg.Interval
	for i := 0; i < n && d < h.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, h.cfg.MaxBackoff)
}

// retryDelay is how long after its latest re-enable a task that failed
// again waits, after n re-enables: the next look for the first repeat,
// then Interval, 2·Interval, … up to MaxBackoff. It keeps a task that
// fails at once after each start from being restarted every Interval.
func (h *Healer) retryDelay(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return h.backoff(n - 2)
}

// Pass lists the tasks once and re-enables those that lost their
// connection to the daemon. It returns an error when the tasks cannot be
// listed, or when a re-enable shows that Kapacitor is unreachable or
// refuses the credentials (the rest of the pass is then skipped); other
// failures of one task are logged, counted and retried at a later pass.
func (h *Healer) Pass(ctx context.Context) (Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var res Result
	tasks, err := h.client.Tasks(ctx)
	if err != nil && ctx.Err() != nil {
		return res, ctx.Err() // shutting down: not a failure
	}
	if err != nil {
		h.stats.PollFailures.Add(1)
		if errors.Is(err, ErrUnreachable) {
			h.stats.Unreachable.Add(1)
		}
		return res, fmt.Errorf("list tasks: %w", err)
	}
	h.stats.Polls.Add(1)
	now := h.clock.Now()
	h.stats.LastPoll.Store(now.Unix())
	res.Tasks = len(tasks)
	first := !h.listed
	h.listed = true
	var conns map[string]bool // nil (empty) when nobody is connected
	checkConns := h.connected != nil && (first || len(h.suspects) > 0)
	if checkConns {
		conns = h.connected()
	}
	seen := make(map[string]bool)
	var passErr error
	for _, t := range tasks {
		ours, others := h.split(UDFCalls(t.Script))
		if len(ours) == 0 {
			continue // never touch a task that does not call the daemon
		}
		res.Using++
		seen[t.ID] = true
		if passErr != nil {
			continue // still count the tasks, heal nothing more
		}
		log := h.log.With(zap.String("task", t.ID))
		st := h.tasks[t.ID]
		if st != nil && st.disabled {
			if t.Status == StatusDisabled && (st.disabledAt.IsZero() || t.Modified.Equal(st.disabledAt)) {
				// The healer disabled it, and its enable failed.
				if !h.retryDue(st) || ctx.Err() != nil {
					res.Deferred++
					continue
				}
				st.attempts++
				st.last = h.clock.Now()
				if err := h.enable(ctx, t.ID, st, log); err != nil {
					res.Failed++
					passErr = h.taskFailed(err, st, log)
				} else {
					res.Reenabled++
					log.Info("enabled again the task anomalyd had disabled to restart it", zap.Int("attempt", st.attempts))
				}
				continue
			}
			st.disabled = false
			if t.Status == StatusDisabled {
				log.Info("task changed by someone else after anomalyd disabled it; leaving it disabled")
			}
		}
		if t.Status == StatusEnabled && t.Executing && checkConns {
			if first && !conns[t.ID] && t.Error == "" {
				h.suspects[t.ID] = now
			}
			if since, ok := h.suspects[t.ID]; ok && !conns[t.ID] {
				if now.Sub(since) < zombieGrace || ctx.Err() != nil {
					res.Suspects++
					continue
				}
				res.Lost++
				if !h.retryDue(st) {
					res.Deferred++
					continue
				}
				var failed bool
				if failed, passErr = h.restart(ctx, t, ReasonNotConnected, &res, log); !failed {
					delete(h.suspects, t.ID) // restarted, or changed meanwhile
				}
				continue
			}
		}
		delete(h.suspects, t.ID)
		if t.Status != StatusEnabled || t.Executing {
			// Disabled by a user (never enabled here), or running.
			delete(h.tasks, t.ID)
			continue
		}
		reason, lost := LostConnection(t.Error, ours)
		if !lost {
			if t.Error != "" {
				log.Debug("task not executing for another reason than a lost connection; left alone", zap.String("error", t.Error))
			}
			continue
		}
		if _, also := LostConnection(t.Error, others); also {
			// "anomaly23" could be node 3 of a UDF "anomaly2" that the
			// task calls too, served by someone else.
			log.Debug("lost connection of a node that may belong to another UDF; left alone", zap.String("error", t.Error))
			continue
		}
		res.Lost++
		if !h.retryDue(st) {
			res.Deferred++
			log.Debug("task lost its connection again soon after being re-enabled; backing off",
				zap.Int("attempts", st.attempts), zap.Time("next", st.last.Add(h.retryDelay(st.attempts))))
			continue
		}
		if ctx.Err() != nil {
			continue
		}
		_, passErr = h.restart(ctx, t, reason, &res, log)
	}
	for id := range h.tasks {
		if !seen[id] {
			delete(h.tasks, id) // deleted, or no longer calls the daemon
		}
	}
	for id := range h.suspects {
		if !seen[id] {
			delete(h.suspects, id)
		}
	}
	h.stats.TasksUsing.Store(int64(res.Using))
	h.stats.TasksLost.Store(int64(res.Lost))
	return res, passErr
}

// retryDue reports whether a task with state st may be tried again: it
// never was, or the back-off since its latest attempt has passed.
func (h *Healer) retryDue(st *taskState) bool {
	return st == nil || !h.clock.Now().Before(st.last.Add(h.retryDelay(st.attempts)))
}

// restart re-enables t and counts the outcome in res. It reports whether
// the attempt failed and, if so, the error that ends the pass (see
// taskFailed; nil when the next pass may retry).
func (h *Healer) restart(ctx context.Context, t Task, reason string, res *Result, log *zap.Logger) (failed bool, passErr error) {
	done, err := h.reenable(ctx, t, reason, log)
	switch {
	case err != nil:
		res.Failed++
		return true, h.taskFailed(err, h.tasks[t.ID], log)
	case done:
		res.Reenabled++
	}
	return false, nil
}

// split separates the UDFs a task calls into the daemon's and others.
func (h *Healer) split(calls []string) (ours, others []string) {
	for _, c := range calls {
		if contains(h.cfg.UDFNames, c) {
			ours = append(ours, c)
		} else {
			others = append(others, c)
		}
	}
	return ours, others
}

// taskFailed counts and logs a failed re-enable. It returns the error if
// the rest of the pass would fail the same way (Kapacitor unreachable,
// credentials refused), nil otherwise.
func (h *Healer) taskFailed(err error, st *taskState, log *zap.Logger) error {
	h.stats.ReenableFailures.Add(1)
	if st != nil && st.disabled {
		log.Error("enabling the task again failed, it may be left disabled; trying again at the next looks", zap.Error(err))
	} else {
		log.Warn("re-enabling task failed; trying again later", zap.Error(err))
	}
	var apiErr *APIError
	if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrCredentials) ||
		errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		return err
	}
	return nil
}

// reenable disables and enables a task that lost its connection. It
// reports false, nil when the task changed since it was listed.
func (h *Healer) reenable(ctx context.Context, t Task, reason string, log *zap.Logger) (bool, error) {
	// The list may be a while old: look at the task again right before.
	cur, err := h.client.Task(ctx, t.ID)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return false, nil // deleted meanwhile
	}
	if err != nil && ctx.Err() != nil {
		return false, nil // shutting down
	}
	if err != nil {
		return false, fmt.Errorf("get task: %w", err)
	}
	if cur.Status != StatusEnabled || cur.Executing != t.Executing || cur.Error != t.Error ||
		reason == ReasonNotConnected && h.connected()[t.ID] {
		log.Debug("task changed since it was listed; left for the next look",
			zap.String("status", cur.Status), zap.Bool("executing", cur.Executing), zap.String("error", cur.Error))
		return false, nil
	}

	st := h.tasks[t.ID]
	if st == nil {
		st = &taskState{}
		h.tasks[t.ID] = st
	}
	st.attempts++
	st.last = h.clock.Now()
	// From here on the task must not be left disabled: the daemon
	// shutting down cancels neither the disable nor the enable.
	st.disabled, st.disabledAt = true, time.Time{}
	d, err := h.client.SetStatus(context.WithoutCancel(ctx), t.ID, StatusDisabled)
	if err != nil {
		if errors.As(err, &apiErr) {
			st.disabled = false // refused: the status did not change
		}
		return false, fmt.Errorf("disable task: %w", err)
	}
	st.disabledAt = d.Modified
	if err := h.enable(ctx, t.ID, st, log); err != nil {
		return false, err
	}
	log.Info("re-enabled task that had lost its connection to anomalyd",
		zap.String("reason", reason), zap.String("previous_error", t.Error), zap.Int("attempt", st.attempts))
	return true, nil
}

// enable enables a task the healer disabled, retrying a request that got
// no answer. On success the task is no longer marked disabled.
func (h *Healer) enable(ctx context.Context, id string, st *taskState, log *zap.Logger) error {
	// A task the healer disabled is enabled even when the daemon is
	// shutting down (once, without retries then).
	reqCtx := context.WithoutCancel(ctx)
	var (
		e   Task
		err error
	)
	for i := 0; ; i++ {
		e, err = h.client.SetStatus(reqCtx, id, StatusEnabled)
		if err == nil || !errors.Is(err, ErrUnreachable) || i == len(enableRetries) || ctx.Err() != nil {
			break
		}
		select {
		case <-h.clock.After(enableRetries[i]):
		case <-ctx.Done():
		}
	}
	if err != nil {
		// Whether the task is still disabled shows at the next look: a 500
		// (the task failed to start) comes after Kapacitor stored the
		// status, a 400 (the TICKscript no longer validates) before.
		return fmt.Errorf("enable task: %w", err)
	}
	st.disabled = false
	h.stats.Reenabled.Add(1)
	if !e.Executing && e.Error != "" {
		log.Warn("re-enabled task did not start", zap.String("error", e.Error))
	}
	return nil
}
