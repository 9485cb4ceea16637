package heal

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfig_Valid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Enabled() {
		t.Error("self-healing is on by default")
	}
	if cfg.Interval != 30*time.Second || len(cfg.UDFNames) != 1 || cfg.UDFNames[0] != "anomaly" {
		t.Errorf("defaults %+v", cfg)
	}
}

func TestConfig_Validate(t *testing.T) {
	valid := func(set func(*Config)) Config {
		c := DefaultConfig()
		c.URL = "http://127.0.0.1:9092"
		set(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"http", valid(func(c *Config) {}), ""},
		{"https with CA", valid(func(c *Config) { c.URL, c.CAFile = "https://kapacitor:9092/", "/etc/ssl/ca.pem" }), ""},
		{"path prefix", valid(func(c *Config) { c.URL = "https://proxy/kapacitor-prod" }), ""},
		{"basic auth", valid(func(c *Config) { c.Username, c.PasswordFile = "heal", "/run/secrets/pw" }), ""},
		{"token", valid(func(c *Config) { c.TokenFile = "/run/secrets/token" }), ""},
		{"several names", valid(func(c *Config) { c.UDFNames = []string{"anomaly", "anomalyHourly", "détecteur_2"} }), ""},

		{"not http", valid(func(c *Config) { c.URL = "unix:///run/kapacitor.sock" }), "url: "},
		{"no scheme", valid(func(c *Config) { c.URL = "localhost:9092" }), "url: "},
		{"no host", valid(func(c *Config) { c.URL = "http://" }), "url: 'http://' has no host"},
		{"credentials in URL", valid(func(c *Config) { c.URL = "http://heal:pw@localhost:9092" }), "url: credentials in the URL"},
		{"query", valid(func(c *Config) { c.URL = "http://localhost:9092?u=a&p=b" }), "query"},
		{"no UDF name", valid(func(c *Config) { c.UDFNames = nil }), "udf_names: empty"},
		{"UDF name with @", valid(func(c *Config) { c.UDFNames = []string{"@anomaly"} }), "udf_names: '@anomaly'"},
		{"UDF name with parens", valid(func(c *Config) { c.UDFNames = []string{"anomaly()"} }), "udf_names"},
		{"UDF name starting with a digit", valid(func(c *Config) { c.UDFNames = []string{"2anomaly"} }), "udf_names"},
		{"UDF name starting with _", valid(func(c *Config) { c.UDFNames = []string{"_anomaly"} }), "udf_names"},
		{"interval too short", valid(func(c *Config) { c.Interval = 100 * time.Millisecond }), "interval: 100ms"},
		{"backoff below interval", valid(func(c *Config) { c.MaxBackoff = time.Second }), "max_backoff: 1s"},
		{"no timeout", valid(func(c *Config) { c.Timeout = 0 }), "timeout: 0s"},
		{"password and password file", valid(func(c *Config) { c.Username, c.Password, c.PasswordFile = "u", "p", "/f" }), "password_file: set together with password"},
		{"token and token file", valid(func(c *Config) { c.Token, c.TokenFile = "t", "/f" }), "token_file: set together with token"},
		{"token and username", valid(func(c *Config) { c.Token, c.Username, c.Password = "t", "u", "p" }), "token: set together with username"},
		{"username without password", valid(func(c *Config) { c.Username = "u" }), "username: set without password"},
		{"password without username", valid(func(c *Config) { c.PasswordFile = "/f" }), "password: set without username"},
		{"CA file with http", valid(func(c *Config) { c.CAFile = "/ca.pem" }), "ca_file: set, but url is http"},
		{"skip verify with http", valid(func(c *Config) { c.InsecureSkipVerify = true }), "insecure_skip_verify: set, but url is http"},
		{"off: URL empty, rest still checked", func() Config { c := DefaultConfig(); c.Interval = 0; return c }(), "interval: 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestConfig_ValidateReportsAll(t *testing.T) {
	c := DefaultConfig()
	c.URL, c.Interval, c.Timeout, c.UDFNames = "ftp://x", 0, 0, []string{"1"}
	err := c.Validate()
	for _, key := range []string{"url:", "interval:", "timeout:", "udf_names:"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate = %v, want a %s error", err, key)
		}
	}
}

func TestSecret_Redacted(t *testing.T) {
	c := DefaultConfig()
	c.Username, c.Password, c.Token = "heal", "hunter2", "jwt-token"
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(c.Password),
		func() string { b, _ := json.Marshal(c); return string(b) }(),
	} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "jwt-token") {
			t.Errorf("secret shows: %s", s)
		}
	}
	var s Secret
	if err := s.UnmarshalText([]byte("from-env")); err != nil || string(s) != "from-env" {
		t.Errorf("UnmarshalText: %q, %v", s, err)
	}
}
