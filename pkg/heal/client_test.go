package heal

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// setLimit lowers one of the client's limits for a test.
func setLimit[T any](t *testing.T, p *T, v T) {
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

func TestClient_TasksPaginated(t *testing.T) {
	for _, n := range []int{0, 1, 99, 100, 101, 250} {
		t.Run("", func(t *testing.T) {
			var tasks []fakeTask
			for _, id := range taskIDs(n, "t") {
				tasks = append(tasks, fakeTask{ID: id, Script: scriptAnomaly})
			}
			f := newFakeKapacitor(t, tasks...)
			got, err := newTestClient(t, f.config()).Tasks(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tk := range got {
				ids = append(ids, tk.ID)
				if tk.Script != scriptAnomaly || tk.Status != StatusEnabled || tk.Modified.IsZero() {
					t.Fatalf("task %+v: fields missing", tk)
				}
			}
			if want := taskIDs(n, "t"); !slices.Equal(ids, want) && !(n == 0 && len(ids) == 0) {
				t.Fatalf("%d tasks listed, want %d", len(ids), n)
			}
			// Pages of 100 until a short one.
			var offsets []string
			for _, r := range f.reqs() {
				q, _ := url.ParseQuery(r.Query)
				offsets = append(offsets, q.Get("offset"))
				if q.Get("limit") != "100" || q.Get("script-format") != "raw" ||
					!slices.Equal(q["fields"], []string{"status", "executing", "error", "script", "modified"}) {
					t.Errorf("query %s", r.Query)
				}
			}
			var want []string
			for o := 0; o <= n; o += 100 {
				want = append(want, strconv.Itoa(o))
			}
			if !slices.Equal(offsets, want) {
				t.Errorf("offsets %q, want %q", offsets, want)
			}
		})
	}
}

func TestClient_TasksPagesShift(t *testing.T) {
	// A task created while paging shifts the next page: the task at the
	// edge shows twice and is kept once.
	f := newFakeKapacitor(t)
	for _, id := range taskIDs(150, "t") {
		f.setTask(fakeTask{ID: id, Status: StatusEnabled, Script: scriptAnomaly})
	}
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 {
			f.setTask(fakeTask{ID: "a-new", Status: StatusEnabled, Script: scriptPlain})
		}
		return false
	})
	got, err := newTestClient(t, f.config()).Tasks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 {
		t.Errorf("%d tasks, want 150 (t0099 once)", len(got))
	}
}

func TestClient_TasksServerIgnoresOffset(t *testing.T) {
	setLimit(t, &maxTasks, 1000)
	f := newFakeKapacitor(t)
	for _, id := range taskIDs(100, "t") {
		f.setTask(fakeTask{ID: id, Status: StatusEnabled})
	}
	f.setIntercept(func(w http.ResponseWriter, r *http.Request, n int) bool {
		r.URL.RawQuery = "limit=100" // always the first page
		return false
	})
	_, err := newTestClient(t, f.config()).Tasks(context.Background())
	if !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err = %v, want ErrBadResponse", err)
	}
}

func TestClient_Auth(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(pwFile, []byte("s3cret:pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte("  eyJhbGciOi.token.v1\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	basic := func(u, p string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	}
	tests := []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"none", func(*Config) {}, ""},
		{"basic, password in config or environment", func(c *Config) { c.Username, c.Password = "heal", "pw" }, basic("heal", "pw")},
		{"basic, password file", func(c *Config) { c.Username, c.PasswordFile = "heal", pwFile }, basic("heal", "s3cret:pw")},
		{"bearer, token in config or environment", func(c *Config) { c.Token = "abc.def.ghi" }, "Bearer abc.def.ghi"},
		{"bearer, token file", func(c *Config) { c.TokenFile = tokFile }, "Bearer eyJhbGciOi.token.v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKapacitor(t, lostTask("t1", errBrokenPipe))
			cfg := f.config()
			tt.set(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			c := newTestClient(t, cfg)
			ctx := context.Background()
			if _, err := c.Tasks(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Task(ctx, "t1"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.SetStatus(ctx, "t1", StatusDisabled); err != nil {
				t.Fatal(err)
			}
			for _, r := range f.reqs() {
				if r.Auth != tt.want {
					t.Errorf("%s: Authorization %q, want %q", r, r.Auth, tt.want)
				}
			}
		})
	}
}

func TestClient_TokenFileRotated(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "token")
	write := func(s string) {
		if err := os.WriteFile(tokFile, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first\n")
	f := newFakeKapacitor(t)
	cfg := f.config()
	cfg.TokenFile = tokFile
	c := newTestClient(t, cfg)
	ctx := context.Background()
	if _, err := c.Tasks(ctx); err != nil {
		t.Fatal(err)
	}
	write("second\n")
	if _, err := c.Tasks(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.reqs() {
		got = append(got, r.Auth)
	}
	if want := []string{"Bearer first", "Bearer second"}; !slices.Equal(got, want) {
		t.Errorf("Authorization %q, want %q", got, want)
	}
}

func TestClient_SecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	twoLines := filepath.Join(dir, "two")
	huge := filepath.Join(dir, "huge")
	_ = os.WriteFile(empty, []byte(" \n"), 0o600)
	_ = os.WriteFile(twoLines, []byte("a\nb\n"), 0o600)
	_ = os.WriteFile(huge, []byte(strings.Repeat("x", int(maxSecretFile)+1)), 0o600)
	for _, file := range []string{filepath.Join(dir, "missing"), empty, twoLines, huge} {
		f := newFakeKapacitor(t)
		cfg := f.config()
		cfg.Username, cfg.PasswordFile = "heal", file
		_, err := newTestClient(t, cfg).Tasks(context.Background())
		if !errors.Is(err, ErrCredentials) {
			t.Errorf("%s: err = %v, want ErrCredentials", filepath.Base(file), err)
		}
		if len(f.reqs()) != 0 {
			t.Errorf("%s: a request was sent without credentials", filepath.Base(file))
		}
	}
}

// writeCA writes the PEM certificate of a TLS test server to a file.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestClient_TLS(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t1", errBrokenPipe))
	srv := httptest.NewUnstartedServer(f.srv.Config.Handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := f.config()
	cfg.URL = srv.URL
	ctx := context.Background()

	t.Run("unknown CA", func(t *testing.T) {
		_, err := newTestClient(t, cfg).Tasks(ctx)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("err = %v, want a certificate error", err)
		}
	})
	t.Run("CA file", func(t *testing.T) {
		c := cfg
		c.CAFile = writeCA(t, srv)
		if _, err := newTestClient(t, c).Tasks(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("insecure skip verify", func(t *testing.T) {
		c := cfg
		c.InsecureSkipVerify = true
		if _, err := newTestClient(t, c).Tasks(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("CA file without a certificate", func(t *testing.T) {
		c := cfg
		c.CAFile = filepath.Join(t.TempDir(), "ca.pem")
		_ = os.WriteFile(c.CAFile, []byte("not a certificate"), 0o600)
		if _, err := NewClient(c); err == nil || !strings.Contains(err.Error(), "ca_file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("CA file missing", func(t *testing.T) {
		c := cfg
		c.CAFile = filepath.Join(t.TempDir(), "none.pem")
		if _, err := NewClient(c); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestClient_PathPrefixAndEscaping(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.EscapedPath())
		writeJSON(w, http.StatusOK, map[string]any{"id": "a b", "status": "enabled", "tasks": []any{}})
	}))
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.URL = srv.URL + "/kap/"
	c := newTestClient(t, cfg)
	ctx := context.Background()
	if _, err := c.Tasks(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetStatus(ctx, "a b", StatusEnabled); err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /kap/kapacitor/v1/tasks", "PATCH /kap/kapacitor/v1/tasks/a%20b"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
}

func TestClient_SetStatusRequest(t *testing.T) {
	f := newFakeKapacitor(t, lostTask("t1", errBrokenPipe))
	c := newTestClient(t, f.config())
	got, err := c.SetStatus(context.Background(), "t1", StatusDisabled)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusDisabled || got.Executing || !got.Modified.Equal(f.task("t1").Modified) {
		t.Errorf("answer %+v", got)
	}
	r := f.reqs()[0]
	if r.Method != http.MethodPatch || r.Path != "/kapacitor/v1/tasks/t1" || r.Body != `{"status":"disabled"}` {
		t.Errorf("request %+v", r)
	}
}

func TestClient_BadAnswers(t *testing.T) {
	huge := strings.Repeat("x", 4096)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error  // sentinel, or nil for *APIError
		status  int    // for *APIError
		text    string // in the error
	}{
		{"not JSON", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"tasks": [`))
		}, ErrBadResponse, 0, "not JSON"},
		{"HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
		}, ErrBadResponse, 0, "<html>"},
		{"empty body", func(w http.ResponseWriter, r *http.Request) {}, ErrBadResponse, 0, "empty body"},
		{"no tasks list", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"error": ""})
		}, ErrBadResponse, 0, `no "tasks" list`},
		{"tasks of another type", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"tasks": "none"})
		}, ErrBadResponse, 0, "unexpected JSON"},
		{"executing as a string", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"tasks": []any{map[string]any{"id": "t", "status": "enabled", "executing": "no"}}})
		}, ErrBadResponse, 0, "unexpected JSON"},
		{"task without id", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"tasks": []any{map[string]any{"status": "enabled"}}})
		}, ErrBadResponse, 0, "without id"},
		{"unknown status", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"tasks": []any{map[string]any{"id": "t", "status": "paused"}}})
		}, ErrBadResponse, 0, `"paused"`},
		{"huge body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"tasks": [], "x": "` + huge + `"}`))
		}, ErrBadResponse, 0, "larger than 1024 bytes"},
		{"500 with Kapacitor's error", func(w http.ResponseWriter, r *http.Request) {
			httpError(w, "failed to list tasks with pattern \"\": boltdb closed", http.StatusInternalServerError)
		}, nil, 500, "boltdb closed"},
		{"502 from a proxy, HTML", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>502 Bad Gateway " + huge + "</html>"))
		}, nil, 502, "502 Bad Gateway"},
		{"401", func(w http.ResponseWriter, r *http.Request) {
			httpError(w, "authorization failed", http.StatusUnauthorized)
		}, nil, 401, "authorization failed"},
		{"403", func(w http.ResponseWriter, r *http.Request) {
			httpError(w, `user heal does not have "read" privilege for API endpoint "/kapacitor/v1/tasks"`, http.StatusForbidden)
		}, nil, 403, "privilege"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://example.invalid/", http.StatusFound)
		}, nil, 302, ""},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, ErrUnreachable, 0, ""},
		{"answer too slow", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(500 * time.Millisecond)
		}, ErrUnreachable, 0, "Timeout"},
	}
	setLimit(t, &maxBody, 1024)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			cfg := DefaultConfig()
			cfg.URL = srv.URL
			cfg.Timeout = 200 * time.Millisecond
			_, err := newTestClient(t, cfg).Tasks(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
					t.Errorf("err = %v, want an APIError with status %d", err, tt.status)
				}
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v, want it to contain %q", err, tt.text)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error message of %d bytes", len(err.Error()))
			}
		})
	}
}

func TestClient_Unreachable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.URL = "http://" + closedAddr(t)
	_, err := newTestClient(t, cfg).Tasks(context.Background())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want ErrUnreachable (connection refused)", err)
	}
}
