package heal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKapacitor serves the part of Kapacitor 1.5's task API the healer
// uses (services/task_store/service.go): the list with fields, offset and
// limit, one task, and PATCH of the status, which starts a task when it
// goes from disabled to enabled. Requests can be intercepted to inject
// failures.
type fakeKapacitor struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	tasks    map[string]*fakeTask
	requests []fakeRequest
	now      time.Time
	// intercept, if set, sees each request first; returning true means it
	// wrote the answer.
	intercept func(w http.ResponseWriter, r *http.Request, n int) bool
	// onEnable, if set, decides what a task looks like once started
	// (default: executing, no error).
	onEnable func(t *fakeTask)
}

type fakeTask struct {
	ID        string
	Status    string
	Executing bool
	Error     string
	Script    string
	Modified  time.Time
}

type fakeRequest struct {
	Method, Path, Query, Auth, Body string
}

func (r fakeRequest) String() string {
	s := r.Method + " " + r.Path
	if r.Body != "" {
		s += " " + r.Body
	}
	return s
}

func newFakeKapacitor(t testing.TB, tasks ...fakeTask) *fakeKapacitor {
	f := &fakeKapacitor{t: t, tasks: make(map[string]*fakeTask), now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	for _, tk := range tasks {
		tk := tk
		if tk.Status == "" {
			tk.Status = StatusEnabled
		}
		tk.Modified = f.now
		f.tasks[tk.ID] = &tk
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeKapacitor) config() Config {
	cfg := DefaultConfig()
	cfg.URL = f.srv.URL
	cfg.Timeout = 5 * time.Second
	return cfg
}

func (f *fakeKapacitor) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), string(body)})
	n := len(f.requests)
	intercept := f.intercept
	f.mu.Unlock()
	if intercept != nil && intercept(w, r, n) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	const base = "/kapacitor/v1/tasks"
	switch {
	case r.URL.Path == base && r.Method == http.MethodGet:
		f.list(w, r)
	case strings.HasPrefix(r.URL.Path, base+"/"):
		id := strings.TrimPrefix(r.URL.Path, base+"/")
		tk, ok := f.tasks[id]
		if !ok {
			httpError(w, "task does not exist, cannot update", http.StatusNotFound)
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, f.taskJSON(tk, nil))
		case http.MethodPatch:
			var u struct {
				Status string `json:"status"`
			}
			if err := json.Unmarshal(body, &u); err != nil {
				httpError(w, "invalid JSON", http.StatusBadRequest)
				return
			}
			f.now = f.now.Add(time.Second)
			tk.Modified = f.now
			if u.Status != "" && u.Status != tk.Status {
				tk.Status = u.Status
				if u.Status == StatusEnabled {
					tk.Executing, tk.Error = true, ""
					if f.onEnable != nil {
						f.onEnable(tk)
					}
				} else {
					tk.Executing = false
				}
			}
			writeJSON(w, http.StatusOK, f.taskJSON(tk, nil))
		default:
			httpError(w, "method not allowed", http.StatusMethodNotAllowed)
		}
	default:
		httpError(w, "not found", http.StatusNotFound)
	}
}

func (f *fakeKapacitor) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, limit := 0, 100
	if s := q.Get("offset"); s != "" {
		offset, _ = strconv.Atoi(s)
	}
	if s := q.Get("limit"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	ids := make([]string, 0, len(f.tasks))
	for id := range f.tasks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := []map[string]any{}
	for i := offset; i < len(ids) && i < offset+limit; i++ {
		out = append(out, f.taskJSON(f.tasks[ids[i]], q["fields"]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": out})
}

// taskJSON renders a task with the given fields (all if none), plus id and
// link, as Kapacitor does.
func (f *fakeKapacitor) taskJSON(tk *fakeTask, fields []string) map[string]any {
	all := map[string]any{
		"id":        tk.ID,
		"link":      map[string]string{"rel": "self", "href": "/kapacitor/v1/tasks/" + tk.ID},
		"type":      "stream",
		"status":    tk.Status,
		"executing": tk.Executing,
		"error":     tk.Error,
		"script":    tk.Script,
		"modified":  tk.Modified,
		"dot":       "digraph " + tk.ID + " {}",
		"stats":     map[string]any{},
	}
	if len(fields) == 0 {
		return all
	}
	m := map[string]any{"id": tk.ID, "link": all["link"]}
	for _, k := range fields {
		m[k] = all[k]
	}
	return m
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// httpError answers as Kapacitor's httpd.HttpError does.
func httpError(w http.ResponseWriter, msg string, code int) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func (f *fakeKapacitor) task(id string) fakeTask {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.tasks[id]
}

func (f *fakeKapacitor) setTask(tk fakeTask) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(time.Second)
	tk.Modified = f.now
	f.tasks[tk.ID] = &tk
}

func (f *fakeKapacitor) setIntercept(fn func(w http.ResponseWriter, r *http.Request, n int) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.intercept = fn
}

// patches returns the PATCH requests so far as "ID status".
func (f *fakeKapacitor) patches() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if r.Method == http.MethodPatch {
			var u struct {
				Status string `json:"status"`
			}
			_ = json.Unmarshal([]byte(r.Body), &u)
			out = append(out, strings.TrimPrefix(r.Path, "/kapacitor/v1/tasks/")+" "+u.Status)
		}
	}
	return out
}

func (f *fakeKapacitor) reqs() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeKapacitor) resetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

// fakeClock advances only when the code under test waits: After moves
// the time forward by d and fires at once.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waits   []time.Duration
	onAfter func(n int) // called with the number of waits so far
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	n, now, hook := len(c.waits), c.now, c.onAfter
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// Scripts and errors used by the tests. The errors are the texts Kapacitor
// 1.5.9 saved (see match.go).
const (
	scriptAnomaly = `dbrp "telegraf"."autogen"

stream
    |from()
        .measurement('cpu')
        .groupBy('host')
    |window()
        .period(2h)
        .every(10m)
    @anomaly()
        .field('usage_user')
        .period(30m)
    |alert()
        .crit(lambda: "score" > 0.0)
        .log('/tmp/alerts.log')
`
	scriptOtherUDF = `stream
    |from()
        .measurement('cpu')
    |window()
        .period(1h)
        .every(1m)
    @movingAverage()
        .field('usage_user')
        .size(10)
    |alert()
        .crit(lambda: "avg" > 90.0)
`
	scriptPlain = `stream
    |from()
        .measurement('cpu')
    |alert()
        .crit(lambda: "usage_user" > 90.0)
        .post('http://127.0.0.1:9/alerts')
`
	errBrokenPipe = "anomaly3: stopping UDF server: write error: write unix @->/run/anomalyd/anomalyd.sock: write: broken pipe"
	errReset      = "anomaly3: stopping UDF server: read error: read unix @->/run/anomalyd/anomalyd.sock: read: connection reset by peer"
	errKeepalive  = "anomaly3: stopping UDF server: keepalive timedout, last keepalive received was: 2026-11-23 23:41:19.044848765 +0000 UTC"
	errRefused    = "anomaly3: dial unix /run/anomalyd/anomalyd.sock: connect: connection refused"
	errNoSocket   = "anomaly3: dial unix /run/anomalyd/anomalyd.sock: connect: no such file or directory"
	errBadOption  = "anomaly3: failed to initialize processes direction: 'sideways' is not one of 'pos', 'neg', 'both'"
)

func lostTask(id, errText string) fakeTask {
	return fakeTask{ID: id, Status: StatusEnabled, Error: errText, Script: scriptAnomaly}
}

func taskIDs(n int, prefix string) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return ids
}

// readBody returns a request's body and leaves it readable again.
func readBody(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

// closedAddr returns a loopback host:port on which nothing listens (a
// port just released): connections to it are refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
