package heal

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Config is the [kapacitor] section of the configuration file: where
// Kapacitor's HTTP API is, how to authenticate, and how often to look for
// tasks to heal. Self-healing is off while URL is empty. Every error of
// Validate starts with its key.
//
// Secrets are never flags: Password and Token come from the configuration
// file or the environment (ANOMALYD_KAPACITOR_PASSWORD,
// ANOMALYD_KAPACITOR_TOKEN), PasswordFile and TokenFile name files that
// are read again before each request, so that a rotated token is picked up.
type Config struct {
	// URL is Kapacitor's HTTP API, e.g. http://localhost:9092 (a path
	// prefix is kept, for Kapacitor behind a proxy). Empty: off.
	URL string `toml:"url"`

	// UDFNames are the names anomalyd is registered under in
	// kapacitor.conf ([udf.functions.NAME]); only tasks whose TICKscript
	// calls @NAME() are healed.
	UDFNames []string `toml:"udf_names"`

	// Interval is the time between two looks at the task list.
	Interval time.Duration `toml:"interval"`

	// MaxBackoff caps the wait after consecutive failures (Kapacitor
	// unreachable or answering errors), and between repeated re-enables of
	// a task that keeps failing.
	MaxBackoff time.Duration `toml:"max_backoff"`

	// Timeout bounds each HTTP request.
	Timeout time.Duration `toml:"timeout"`

	// Username and a password (Password or PasswordFile) authenticate
	// with HTTP basic auth.
	Username     string `toml:"username"`
	Password     Secret `toml:"password"`
	PasswordFile string `toml:"password_file"`

	// Token (or TokenFile) is sent as "Authorization: Bearer TOKEN" (a JWT
	// signed with Kapacitor's [http] shared-secret).
	Token     Secret `toml:"token"`
	TokenFile string `toml:"token_file"`

	// CAFile is a PEM file of the CAs that sign Kapacitor's certificate
	// (https URLs); empty uses the system's roots.
	CAFile string `toml:"ca_file"`

	// InsecureSkipVerify accepts any certificate, as `kapacitor
	// -skipVerify` does. For tests only.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
}

// DefaultConfig returns the defaults: off (no URL), UDF name "anomaly",
// every 30 s, backoff up to 5 min, 10 s per request.
func DefaultConfig() Config {
	return Config{
		UDFNames:   []string{"anomaly"},
		Interval:   30 * time.Second,
		MaxBackoff: 5 * time.Minute,
		Timeout:    10 * time.Second,
	}
}

// Enabled reports whether self-healing is on.
func (c Config) Enabled() bool { return c.URL != "" }

// Validate reports every invalid setting, each error starting with its key.
func (c Config) Validate() error {
	var errs []error
	if c.URL != "" {
		if err := checkURL(c.URL); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	if len(c.UDFNames) == 0 {
		errs = append(errs, errors.New("udf_names: empty, name at least one UDF (the [udf.functions.NAME] of kapacitor.conf)"))
	}
	for _, n := range c.UDFNames {
		if !isIdent(n) {
			errs = append(errs, fmt.Errorf("udf_names: '%s' is not a TICKscript identifier (a letter, then letters, digits or _)", n))
		}
	}
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("interval: %s, must be at least 1s", c.Interval))
	}
	if c.MaxBackoff < c.Interval {
		errs = append(errs, fmt.Errorf("max_backoff: %s, must be at least interval (%s)", c.MaxBackoff, c.Interval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %s, must be positive", c.Timeout))
	}
	if c.Password != "" && c.PasswordFile != "" {
		errs = append(errs, errors.New("password_file: set together with password; use one"))
	}
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("token_file: set together with token; use one"))
	}
	hasPassword := c.Password != "" || c.PasswordFile != ""
	hasToken := c.Token != "" || c.TokenFile != ""
	switch {
	case hasToken && (c.Username != "" || hasPassword):
		errs = append(errs, errors.New("token: set together with username/password; use one way to authenticate"))
	case c.Username != "" && !hasPassword:
		errs = append(errs, errors.New("username: set without password or password_file"))
	case c.Username == "" && hasPassword:
		errs = append(errs, errors.New("password: set without username"))
	}
	if strings.HasPrefix(c.URL, "http://") {
		if c.CAFile != "" {
			errs = append(errs, errors.New("ca_file: set, but url is http, not https"))
		}
		if c.InsecureSkipVerify {
			errs = append(errs, errors.New("insecure_skip_verify: set, but url is http, not https"))
		}
	}
	return errors.Join(errs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("'%s' is not a URL", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("'%s' must start with http:// or https://", s)
	case u.Host == "":
		return fmt.Errorf("'%s' has no host", s)
	case u.User != nil:
		// Anything in the URL shows in process lists and logs.
		return errors.New("credentials in the URL; use username with password_file, or token_file")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("'%s' has a query or fragment", s)
	}
	return nil
}

// isIdent reports whether s is a TICKscript identifier, as Kapacitor's
// lexer reads them: a letter, then letters, digits and underscores.
func isIdent(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || i > 0 && (r == '_' || unicode.IsDigit(r))) {
			return false
		}
	}
	return s != ""
}

// Secret is a string that never shows in logs or dumps: String, GoString
// and MarshalText redact it.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText redacts the secret in JSON and TOML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the secret as it is.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}
