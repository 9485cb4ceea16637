package heal

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Task statuses in Kapacitor's API.
const (
	StatusEnabled  = "enabled"
	StatusDisabled = "disabled"
)

// Task is the part of a Kapacitor task (client/v1 Task) the healer reads.
type Task struct {
	ID        string `json:"id"`
	Status    string `json:"status"` // StatusEnabled or StatusDisabled
	Executing bool   `json:"executing"`
	Error     string `json:"error"`  // the last error; "" once started again
	Script    string `json:"script"` // the TICKscript, as written (raw)
	// Modified is when the task was last changed (any PATCH); it tells
	// whether someone else touched a task between two looks.
	Modified time.Time `json:"modified"`
}

// Limits of the client; they are variables so that tests can lower them.
var (
	// pageSize is the limit of one GET /kapacitor/v1/tasks (Kapacitor's
	// own default).
	pageSize = 100
	// maxBody caps every response body that is read.
	maxBody int64 = 32 << 20
	// maxTasks caps the tasks of one listing (a server that ignores the
	// offset would otherwise be paged forever).
	maxTasks = 1_000_000
	// maxSecretFile caps a password or token file.
	maxSecretFile int64 = 64 << 10
)

// listFields are the fields asked of each task: everything the healer
// reads, nothing large (no dot, no stats).
var listFields = []string{"status", "executing", "error", "script", "modified"}

// Client talks to Kapacitor's task API. It is safe for concurrent use.
type Client struct {
	base *url.URL // without a trailing slash
	http *http.Client
	cfg  Config
}

// NewClient makes a client for cfg.URL, with cfg's credentials, TLS
// settings and timeout. It reads cfg.CAFile now; secret files are read
// again before each request.
func NewClient(cfg Config) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("kapacitor url: empty")
	}
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("kapacitor url: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy from the environment would see the credentials
	if base.Scheme == "https" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	return &Client{
		base: base,
		cfg:  cfg,
		http: &http.Client{
			Transport: tr,
			Timeout:   cfg.Timeout,
			// Kapacitor never redirects; following one could send the
			// credentials or a PATCH elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// CloseIdleConnections closes the client's idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Tasks lists every task, page by page (GET /kapacitor/v1/tasks with
// offset and limit), with the fields the healer reads.
func (c *Client) Tasks(ctx context.Context) ([]Task, error) {
	var all []Task
	seen := make(map[string]bool)
	for offset := 0; ; {
		q := url.Values{
			"fields":        listFields,
			"script-format": {"raw"},
			"offset":        {strconv.Itoa(offset)},
			"limit":         {strconv.Itoa(pageSize)},
		}
		var page struct {
			Tasks *[]Task `json:"tasks"`
		}
		if err := c.do(ctx, http.MethodGet, "/kapacitor/v1/tasks", q, nil, http.StatusOK, &page); err != nil {
			return nil, err
		}
		if page.Tasks == nil {
			return nil, fmt.Errorf("GET /kapacitor/v1/tasks: %w: no \"tasks\" list", ErrBadResponse)
		}
		for _, t := range *page.Tasks {
			if err := checkTask(t); err != nil {
				return nil, fmt.Errorf("GET /kapacitor/v1/tasks: %w: %w", ErrBadResponse, err)
			}
			// Tasks created or deleted while paging shift the pages: a
			// task may show twice; keep the first.
			if !seen[t.ID] {
				seen[t.ID] = true
				all = append(all, t)
			}
		}
		n := len(*page.Tasks)
		if n < pageSize {
			return all, nil
		}
		offset += n
		if offset >= maxTasks {
			return nil, fmt.Errorf("GET /kapacitor/v1/tasks: %w: more than %d tasks", ErrBadResponse, maxTasks)
		}
	}
}

// Task gets one task.
func (c *Client) Task(ctx context.Context, id string) (Task, error) {
	var t Task
	q := url.Values{"script-format": {"raw"}}
	if err := c.do(ctx, http.MethodGet, taskPath(id), q, nil, http.StatusOK, &t); err != nil {
		return Task{}, err
	}
	if err := checkTask(t); err != nil {
		return Task{}, fmt.Errorf("GET %s: %w: %w", taskPath(id), ErrBadResponse, err)
	}
	return t, nil
}

// SetStatus enables or disables a task (PATCH /kapacitor/v1/tasks/ID) and
// returns the task as Kapacitor answers it. Enabling an enabled task does
// nothing in Kapacitor: to start a failed task, disable it first.
func (c *Client) SetStatus(ctx context.Context, id, status string) (Task, error) {
	body, err := json.Marshal(map[string]string{"status": status})
	if err != nil {
		return Task{}, err
	}
	var t Task
	if err := c.do(ctx, http.MethodPatch, taskPath(id), nil, body, http.StatusOK, &t); err != nil {
		return Task{}, err
	}
	if err := checkTask(t); err != nil {
		return Task{}, fmt.Errorf("PATCH %s: %w: %w", taskPath(id), ErrBadResponse, err)
	}
	return t, nil
}

func taskPath(id string) string { return "/kapacitor/v1/tasks/" + url.PathEscape(id) }

func checkTask(t Task) error {
	if t.ID == "" {
		return errors.New("a task without id")
	}
	if t.Status != StatusEnabled && t.Status != StatusDisabled {
		return fmt.Errorf("task %s: status %q", t.ID, t.Status)
	}
	return nil
}

// do sends one request and decodes a JSON answer with status want into
// out. The body is read up to maxBody.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, want int, out any) error {
	// path is escaped already (taskPath).
	u, err := url.Parse(c.base.String() + path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "anomalyd")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.authorize(req); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The *url.Error repeats the method and the whole URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w: %w", method, path, ErrUnreachable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%s %s: %w: %w", method, path, ErrUnreachable, err)
	}
	if resp.StatusCode != want {
		return &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: errorMessage(b)}
	}
	if int64(len(b)) > maxBody {
		return fmt.Errorf("%s %s: %w: body larger than %d bytes", method, path, ErrBadResponse, maxBody)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w: %s: %s", method, path, ErrBadResponse, jsonProblem(err), excerpt(b))
	}
	return nil
}

// authorize sets the Authorization header from the configured
// credentials, reading the secret files now.
func (c *Client) authorize(req *http.Request) error {
	switch {
	case c.cfg.Token != "" || c.cfg.TokenFile != "":
		tok, err := secret(c.cfg.Token, c.cfg.TokenFile)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case c.cfg.Username != "":
		pw, err := secret(c.cfg.Password, c.cfg.PasswordFile)
		if err != nil {
			return err
		}
		req.SetBasicAuth(c.cfg.Username, pw)
	}
	return nil
}

// secret returns value, or the content of file without surrounding
// whitespace (files usually end with a newline).
func secret(value Secret, file string) (string, error) {
	if file == "" {
		return string(value), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("%w: read %s: %w", ErrCredentials, file, err)
	}
	if int64(len(b)) > maxSecretFile {
		return "", fmt.Errorf("%w: %s is larger than %d bytes", ErrCredentials, file, maxSecretFile)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrCredentials, file)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%w: %s has more than one line", ErrCredentials, file)
	}
	return s, nil
}

// errorMessage returns Kapacitor's {"error": "..."} text, or else an
// excerpt of the body.
func errorMessage(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return excerpt(b)
}

// excerpt quotes the start of a body for an error message.
func excerpt(b []byte) string {
	const n = 120
	if len(b) == 0 {
		return "empty body"
	}
	s := b
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.Valid(s) {
			s = s[:len(s)-1]
		}
	}
	q := strconv.Quote(string(s))
	if len(b) > n {
		q += fmt.Sprintf(" (%d bytes)", len(b))
	}
	return q
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not JSON (offset %d: %v)", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Sprintf("unexpected JSON (%v)", err)
	}
	return err.Error()
}
