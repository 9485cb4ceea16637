package main

import (
	"github.com/spf13/pflag"
)

// keyAnnotation is the pflag annotation that binds a flag to its
// configuration key ("agent.max_groups").
const keyAnnotation = "anomalyd/config-key"

// bindKey binds the flag name to a configuration key: when the user sets
// the flag, its value overrides the file and the environment.
func bindKey(fs *pflag.FlagSet, name, key string) {
	if err := fs.SetAnnotation(name, keyAnnotation, []string{key}); err != nil {
		panic(err) // no such flag: a programming error, caught by tests
	}
}

// addConfigFlags defines the flags of the configuration keys on fs, bound
// to the fields of c (which should hold the defaults, shown in help).
func addConfigFlags(fs *pflag.FlagSet, c *Config) {
	fs.String("config", "", "TOML configuration file (default $"+envConfigFile+"); see configs/anomalyd.toml")

	fs.StringVar(&c.Serve.Socket, "socket", c.Serve.Socket, "serve on this Unix socket path")
	bindKey(fs, "socket", "serve.socket")
	fs.Var(&c.Serve.SocketMode, "socket-mode", "permission bits of the socket file (kapacitord needs write access)")
	bindKey(fs, "socket-mode", "serve.socket_mode")
	fs.BoolVar(&c.Serve.Stdio, "stdio", c.Serve.Stdio, "serve one connection on stdin/stdout (Kapacitor process mode)")
	bindKey(fs, "stdio", "serve.stdio")

	a := &c.Agent
	fs.IntVar(&a.MaxGroups, "max-groups", a.MaxGroups, "groups kept per task node; points of further groups are dropped and counted")
	bindKey(fs, "max-groups", "agent.max_groups")
	fs.BoolVar(&a.StrictRestore, "strict-restore", a.StrictRestore, "fail the task (restore success=false) on an unusable snapshot instead of starting fresh")
	bindKey(fs, "strict-restore", "agent.strict_restore")
	fs.IntVar(&a.MaxFrameSize, "max-frame-size", a.MaxFrameSize, "largest accepted frame, in bytes (snapshots are the largest)")
	bindKey(fs, "max-frame-size", "agent.max_frame_size")
	fs.IntVar(&a.MaxBatchPoints, "max-batch-points", a.MaxBatchPoints, "points kept per batch; the rest is dropped and counted")
	bindKey(fs, "max-batch-points", "agent.max_batch_points")
	fs.IntVar(&a.MaxQueuedPoints, "max-queued-points", a.MaxQueuedPoints, "points waiting for detection per connection; batches beyond are dropped and counted")
	bindKey(fs, "max-queued-points", "agent.max_queued_points")
	fs.IntVar(&a.MaxDetections, "max-detections", a.MaxDetections, "concurrent S-H-ESD runs over all connections (0: one per CPU)")
	bindKey(fs, "max-detections", "agent.max_detections")
	fs.DurationVar(&a.ShutdownTimeout, "shutdown-timeout", a.ShutdownTimeout, "on SIGTERM/SIGINT, how long connections may take to finish queued work and in-flight detections before they are closed")
	bindKey(fs, "shutdown-timeout", "agent.shutdown_timeout")
	fs.DurationVar(&a.ShutdownTimeout, "drain-timeout", a.ShutdownTimeout, "old name of --shutdown-timeout")
	bindKey(fs, "drain-timeout", "agent.shutdown_timeout")
	if err := fs.MarkDeprecated("drain-timeout", "use --shutdown-timeout"); err != nil {
		panic(err)
	}

	d := &c.Detect
	fs.Var(&d.Period, "period", "default .period() of tasks: seasonal cycle (0: from the data's step)")
	bindKey(fs, "period", "detect.period")
	fs.Var(&d.History, "history", "default .history() of tasks: history kept per group (0: 14 × period)")
	bindKey(fs, "history", "detect.history")
	fs.Float64Var(&d.MaxAnoms, "max-anoms", d.MaxAnoms, "default .maxAnoms() of tasks, in (0, 0.49]")
	bindKey(fs, "max-anoms", "detect.max_anoms")
	fs.Float64Var(&d.Alpha, "alpha", d.Alpha, "default .alpha() of tasks, in (0, 1)")
	bindKey(fs, "alpha", "detect.alpha")
	fs.StringVar(&d.Direction, "direction", d.Direction, "default .direction() of tasks: pos, neg or both")
	bindKey(fs, "direction", "detect.direction")
	fs.StringVar(&d.Threshold, "threshold", d.Threshold, "default .threshold() of tasks: none, med_max, p95 or p99")
	bindKey(fs, "threshold", "detect.threshold")
	fs.BoolVar(&d.Longterm, "longterm", d.Longterm, "default .longterm() of tasks")
	bindKey(fs, "longterm", "detect.longterm")
	fs.IntVar(&d.PiecewiseMedianPeriodWeeks, "piecewise-median-period-weeks", d.PiecewiseMedianPeriodWeeks, "default .piecewiseMedianPeriodWeeks() of tasks, in [2, 520]")
	bindKey(fs, "piecewise-median-period-weeks", "detect.piecewise_median_period_weeks")
	fs.StringVar(&d.Emit, "emit", d.Emit, "default .emit() of tasks: new or all")
	bindKey(fs, "emit", "detect.emit")

	fs.StringVar(&c.Log.Level, "log-level", c.Log.Level, "debug, info, warn or error")
	bindKey(fs, "log-level", "log.level")
	fs.StringVar(&c.Log.Format, "log-format", c.Log.Format, "json or console")
	bindKey(fs, "log-format", "log.format")

	fs.StringVar(&c.HTTP.Addr, "http-addr", c.HTTP.Addr, "serve /metrics, /healthz and /readyz on this host:port, e.g. 127.0.0.1:9101 (default off)")
	bindKey(fs, "http-addr", "http.addr")
	fs.BoolVar(&c.HTTP.MetricsTaskLabels, "metrics-task-labels", c.HTTP.MetricsTaskLabels, "also export per-task-node metrics labelled task and node (anomalyd_node_*)")
	bindKey(fs, "metrics-task-labels", "http.metrics_task_labels")

	// Self-healing ([kapacitor]). Passwords and tokens have no flag: they
	// come from a file (--kapacitor-password-file, --kapacitor-token-file)
	// or the environment (ANOMALYD_KAPACITOR_PASSWORD, _TOKEN).
	k := &c.Kapacitor
	fs.StringVar(&k.URL, "kapacitor-url", k.URL, "Kapacitor's HTTP API, e.g. http://localhost:9092: re-enable the tasks that lost their connection to anomalyd (default off)")
	bindKey(fs, "kapacitor-url", "kapacitor.url")
	fs.StringSliceVar(&k.UDFNames, "udf-name", k.UDFNames, "name anomalyd is registered under in kapacitor.conf ([udf.functions.NAME]); only tasks calling @NAME() are re-enabled; repeatable")
	bindKey(fs, "udf-name", "kapacitor.udf_names")
	fs.DurationVar(&k.Interval, "heal-interval", k.Interval, "how often to look for tasks that lost their connection (and once at start)")
	bindKey(fs, "heal-interval", "kapacitor.interval")
	fs.StringVar(&k.Username, "kapacitor-username", k.Username, "user for Kapacitor's basic auth (password from --kapacitor-password-file or $ANOMALYD_KAPACITOR_PASSWORD)")
	bindKey(fs, "kapacitor-username", "kapacitor.username")
	fs.StringVar(&k.PasswordFile, "kapacitor-password-file", k.PasswordFile, "file holding the Kapacitor user's password (read before each request)")
	bindKey(fs, "kapacitor-password-file", "kapacitor.password_file")
	fs.StringVar(&k.TokenFile, "kapacitor-token-file", k.TokenFile, "file holding a bearer token (JWT) for Kapacitor (read before each request; or $ANOMALYD_KAPACITOR_TOKEN)")
	bindKey(fs, "kapacitor-token-file", "kapacitor.token_file")
	fs.StringVar(&k.CAFile, "kapacitor-ca-file", k.CAFile, "PEM file of the CA(s) of Kapacitor's HTTPS certificate")
	bindKey(fs, "kapacitor-ca-file", "kapacitor.ca_file")
	fs.BoolVar(&k.InsecureSkipVerify, "kapacitor-insecure-skip-verify", k.InsecureSkipVerify, "accept any certificate from Kapacitor (tests only)")
	bindKey(fs, "kapacitor-insecure-skip-verify", "kapacitor.insecure_skip_verify")
}

// configFile returns the value of --config, "" if fs has none.
func configFile(fs *pflag.FlagSet) string {
	s, err := fs.GetString("config")
	if err != nil {
		return ""
	}
	return s
}
