package heal

import "testing"

func TestLostConnection(t *testing.T) {
	names := []string{"anomaly"}
	tests := []struct {
		name, err string
		names     []string
		want      string // "" for no match
	}{
		// Texts saved by Kapacitor 1.5.9 in the experiments of match.go
		// (socket /tmp/healexp/a.sock).
		{"broken pipe after a restart", "anomaly3: stopping UDF server: write error: write unix @->/tmp/healexp/a.sock: write: broken pipe", names, ReasonBrokenPipe},
		{"reset with requests unread", "anomaly3: stopping UDF server: read error: read unix @->/tmp/healexp/a.sock: read: connection reset by peer", names, ReasonConnectionReset},
		{"keepalive timeout", "anomaly3: stopping UDF server: keepalive timedout, last keepalive received was: 2026-11-23 23:41:19.044848765 +0000 UTC", names, ReasonKeepaliveTimeout},
		{"refused: stale socket file", "anomaly3: dial unix /tmp/healexp/a.sock: connect: connection refused", names, ReasonConnectionRefused},
		{"socket file missing", "anomalyb3: dial unix /tmp/healexp/b.sock: connect: no such file or directory", []string{"anomalyb"}, ReasonSocketMissing},
		// The same conditions at other places of Kapacitor's code.
		{"reset on write", "anomaly12: stopping UDF server: write error: write unix @->/run/a.sock: write: connection reset by peer", names, ReasonConnectionReset},
		{"broken pipe during init", "anomaly3: write error: write unix @->/run/a.sock: write: broken pipe", names, ReasonBrokenPipe},
		{"frame cut short", "anomaly3: stopping UDF server: read error: unexpected EOF", names, ReasonTruncatedFrame},
		{"second of several names", errBrokenPipe, []string{"other", "anomaly"}, ReasonBrokenPipe},

		// Not a lost connection of the daemon's UDF.
		{"no error", "", names, ""},
		{"another UDF", "movingAverage2: stopping UDF server: write error: write unix @->/run/ma.sock: write: broken pipe", names, ""},
		{"a UDF whose name starts like ours", "anomalyb3: dial unix /tmp/healexp/b.sock: connect: no such file or directory", names, ""},
		{"node name without number", "anomaly: stopping UDF server: write error: write unix @->/run/a.sock: write: broken pipe", names, ""},
		{"node name with a suffix", "anomaly3x: stopping UDF server: write error: write unix @->/run/a.sock: write: broken pipe", names, ""},
		{"bad option", errBadOption, names, ""},
		{"daemon's own error message", "anomaly3: protocol error: point outside a batch", names, ""},
		{"refused restore", "anomaly3: error restoring snapshot: snapshot of another field", names, ""},
		{"permission denied on the socket", "anomaly3: dial unix /run/a.sock: connect: permission denied", names, ""},
		{"alert endpoint refused", "alert4: Post http://127.0.0.1:9/alerts: dial tcp 127.0.0.1:9: connect: connection refused", names, ""},
		{"tcp in our node", "anomaly3: dial tcp 127.0.0.1:9: connect: connection refused", names, ""},
		{"pipeline changed", "task pipeline changed not using snapshot", names, ""},
		{"prefix only", "anomaly3: dial unix ", names, ""},
		{"no names", errBrokenPipe, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LostConnection(tt.err, tt.names)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("LostConnection(%q, %q) = %q, %v; want %q", tt.err, tt.names, got, ok, tt.want)
			}
		})
	}
}
