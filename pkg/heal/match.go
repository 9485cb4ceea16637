package heal

import "strings"

// Reasons LostConnection gives.
const (
	ReasonBrokenPipe        = "broken pipe"
	ReasonConnectionReset   = "connection reset"
	ReasonKeepaliveTimeout  = "keepalive timeout"
	ReasonConnectionRefused = "connection refused"
	ReasonSocketMissing     = "socket missing"
	ReasonTruncatedFrame    = "connection closed mid-frame"
	// ReasonNotConnected is not a task error: the task shows as executing
	// but has had no connection to the daemon since it started (see
	// WithConnectedTasks).
	ReasonNotConnected = "executing without a connection since anomalyd started"
)

// lostConnection lists the errors of Kapacitor's UDF socket code
// (kapacitor/udf/server.go, kapacitor/udf.go) that mean the connection to
// the daemon was lost or could not be opened. Each is what follows
// "NODE: " in the task's error, optionally after "stopping UDF server: ".
// Texts seen from Kapacitor 1.5.9 (PATH is the socket path):
//
//	anomaly3: stopping UDF server: write error: write unix @->PATH: write: broken pipe
//	anomaly3: stopping UDF server: read error: read unix @->PATH: read: connection reset by peer
//	anomaly3: stopping UDF server: keepalive timedout, last keepalive received was: 2026-11-23 23:41:19.044848765 +0000 UTC
//	anomaly3: dial unix PATH: connect: connection refused
//	anomaly3: dial unix PATH: connect: no such file or directory
//
// The first comes after the daemon died (killed, crashed, restarted) and
// Kapacitor wrote data or a keepalive; the second when it died with
// requests unread; the third when it hung or was stopped for longer than
// the UDF's timeout; the last two when a task started while the daemon was
// down (Kapacitor dials for up to 5 minutes, then gives up). A frame cut
// short by the daemon's death reads "read error: unexpected EOF".
var lostConnection = []struct {
	prefix, suffix, reason string
}{
	{"write error: write unix ", ": write: broken pipe", ReasonBrokenPipe},
	{"write error: write unix ", ": write: connection reset by peer", ReasonConnectionReset},
	{"read error: read unix ", ": read: connection reset by peer", ReasonConnectionReset},
	{"keepalive timedout", "", ReasonKeepaliveTimeout},
	{"dial unix ", ": connect: connection refused", ReasonConnectionRefused},
	{"dial unix ", ": connect: no such file or directory", ReasonSocketMissing},
	{"read error: unexpected EOF", "", ReasonTruncatedFrame},
}

// LostConnection reports whether taskErr, the error Kapacitor saved for a
// task, says that a node of one of the UDFs names lost its connection to
// the daemon, and why (one of the Reason constants). The error must name
// the node: Kapacitor prefixes a node's error with the node's name, the
// UDF's name followed by the node's number ("anomaly3: ..."). So a task
// that failed in another node (a broken pipe of another UDF, an InfluxDB
// write), or in an anomaly node for another reason (a bad option, a
// refused snapshot), does not match.
func LostConnection(taskErr string, names []string) (reason string, ok bool) {
	node, rest, found := strings.Cut(taskErr, ": ")
	if !found || !isNodeOf(node, names) {
		return "", false
	}
	rest = strings.TrimPrefix(rest, "stopping UDF server: ")
	for _, l := range lostConnection {
		if strings.HasPrefix(rest, l.prefix) && strings.HasSuffix(rest, l.suffix) &&
			len(rest) >= len(l.prefix)+len(l.suffix) {
			return l.reason, true
		}
	}
	return "", false
}

// isNodeOf reports whether node is the name Kapacitor gives a node of one
// of the UDFs names: the UDF's name and the node's number.
func isNodeOf(node string, names []string) bool {
	for _, n := range names {
		num, ok := strings.CutPrefix(node, n)
		if ok && num != "" && strings.Trim(num, "0123456789") == "" {
			return true
		}
	}
	return false
}
