// Package heal re-enables the Kapacitor tasks that lost their connection
// to anomalyd.
//
// Kapacitor never reconnects a socket UDF (influxdata/kapacitor issues
// #1174 and #2526): when the daemon restarts, every task that uses it
// fails with a broken pipe (or a keepalive timeout, or a refused dial) and
// stays enabled but not executing, its error saved, until someone disables
// and enables it again. A Healer does that through Kapacitor's HTTP API,
// once right after the daemon listens and then on an interval:
//
//   - it lists the tasks (GET /kapacitor/v1/tasks, page by page);
//   - it keeps those whose TICKscript calls one of the daemon's UDF names
//     (@anomaly()), that are enabled, not executing, and whose error says
//     that a node of that UDF lost its connection (see LostConnection);
//   - it disables and enables each of them (PATCH status), which starts the
//     task again; the task restores its last snapshot.
//
// A task a user disabled is never enabled; a task that does not call the
// daemon is never touched. Failures back off; Kapacitor being unreachable
// is retried. What happened is counted in Stats.
package heal
