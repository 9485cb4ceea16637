package heal

import (
	"errors"
	"fmt"
)

var (
	// ErrUnreachable wraps every failure to get an HTTP answer from
	// Kapacitor at all: a refused or timed-out connection, a TLS handshake
	// that failed, a request that timed out.
	ErrUnreachable = errors.New("kapacitor unreachable")

	// ErrBadResponse wraps an answer that is not what Kapacitor's API
	// sends: not JSON, JSON of another shape, or a body over the size cap.
	ErrBadResponse = errors.New("bad response from kapacitor")

	// ErrCredentials wraps a failure to read a password or token file.
	ErrCredentials = errors.New("kapacitor credentials")
)

// APIError is an HTTP answer from Kapacitor with a status other than the
// one expected, e.g. 401 (credentials refused), 403 (the user lacks a
// privilege), 404 (no such task), 500.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	// Message is Kapacitor's {"error": ...} text, or the start of the
	// body when it is not JSON.
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.StatusCode, e.Message)
}
