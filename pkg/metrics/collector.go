package metrics

import (
	"runtime"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/anomalyd/anomalyd/pkg/agent"
)

// Source is what the collector reads; *agent.Server implements it.
type Source interface {
	Stats() *agent.Stats
	Nodes(fn func(agent.Node))
	DetectionsRunning() int
}

// NewRegistry returns a new registry holding the daemon's collector (see
// NewCollector) and the Go runtime and process collectors. Other parts of
// the daemon register their own collectors in it.
func NewRegistry(src Source, cfg Config, version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(src, cfg, version),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

const namespace = "anomalyd"

// stat is one metric read from agent.Stats.
type stat struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(st *agent.Stats) float64
	label string // the value of the desc's one label, if it has one
}

func u(f func(st *agent.Stats) *atomic.Uint64) func(st *agent.Stats) float64 {
	return func(st *agent.Stats) float64 { return float64(f(st).Load()) }
}

func i(f func(st *agent.Stats) *atomic.Int64) func(st *agent.Stats) float64 {
	return func(st *agent.Stats) float64 { return float64(f(st).Load()) }
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// Collector exports an agent.Server's counters. It reads them at scrape
// time, so it adds nothing to the protocol's hot paths.
type Collector struct {
	src        Source
	taskLabels bool
	stats      []stat
	open       *prometheus.Desc
	running    *prometheus.Desc
	duration   *prometheus.Desc
	build      *prometheus.Desc
	version    string
	node       nodeDescs
}

// nodeDescs are the per-task-node metrics (Config.MetricsTaskLabels).
type nodeDescs struct {
	batches, points, dropped, detections, emitted, groups, stored *prometheus.Desc
}

// NewCollector returns a collector of src's counters; version is reported
// in anomalyd_build_info.
func NewCollector(src Source, cfg Config, version string) *Collector {
	dropped := desc("points_dropped_total", "Points received but not analysed, by reason: bad data (missing_field, non_finite, non_numeric, bad_tags, duplicate_time) or a limit (over_batch_cap, over_group_cap, queue_full).", "reason")
	rejected := desc("frames_rejected_total", "Frames refused: incoming frames that broke the UDF protocol, each ending its connection (protocol_error), and outgoing responses that would crash kapacitord (invalid_response).", "reason")
	c := &Collector{
		src:        src,
		taskLabels: cfg.MetricsTaskLabels,
		version:    version,
		open:       desc("connections_open", "Connections from Kapacitor open now (task nodes, plus its short info connections)."),
		running:    desc("detections_running", "S-H-ESD runs in progress now (bounded by agent.max_detections)."),
		duration:   desc("detection_duration_seconds", "Duration of each S-H-ESD run, waiting for a detection slot excluded."),
		build:      desc("build_info", "Always 1; labelled with the anomalyd version and the Go version that built it.", "version", "goversion"),
		stats: []stat{
			{desc("connections_total", "Connections accepted since start."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.ConnsOpened }), ""},
			{desc("task_nodes_running", "Task nodes served now: connections past a successful init."), prometheus.GaugeValue, i(func(s *agent.Stats) *atomic.Int64 { return &s.NodesActive }), ""},
			{desc("groups", "Groups (series) held now, over all task nodes."), prometheus.GaugeValue, i(func(s *agent.Stats) *atomic.Int64 { return &s.GroupsActive }), ""},
			{desc("stored_points", "Points held now in all groups' histories."), prometheus.GaugeValue, i(func(s *agent.Stats) *atomic.Int64 { return &s.PointsStored }), ""},
			{desc("batches_received_total", "Batches received (EndBatch seen)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.BatchesIn }), ""},
			{desc("points_received_total", "Points received inside batches."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsIn }), ""},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsMissingField }), "missing_field"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsNonFinite }), "non_finite"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsNonNumeric }), "non_numeric"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsBadTags }), "bad_tags"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsDuplicate }), "duplicate_time"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsOverBatchCap }), "over_batch_cap"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsOverGroupCap }), "over_group_cap"},
			{dropped, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.PointsOverQueue }), "queue_full"},
			{desc("batches_dropped_total", "Batches dropped whole because detection could not keep up (agent.max_queued_points)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.BatchesOverQueue }), ""},
			{desc("groups_expired_total", "Idle groups removed (no data for 2 × history)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.GroupsExpired }), ""},
			{desc("detections_total", "S-H-ESD runs (one per group with new data; batches queued during a run are analysed together)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.Detections }), ""},
			{desc("detections_waiting_total", "Runs on a history still shorter than two periods (the group waits for more data)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.DetectionsWaiting }), ""},
			{desc("detection_errors_total", "Runs that failed for another reason (logged with task, node and group)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.DetectionErrors }), ""},
			{desc("anomalies_found_total", "Anomalies found by all runs, reported or not."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.AnomaliesFound }), ""},
			{desc("anomalies_emitted_total", "Anomalous points sent to Kapacitor."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.AnomaliesEmitted }), ""},
			{desc("keepalives_total", "Keepalives answered."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.KeepalivesAnswered }), ""},
			{desc("init_failures_total", "Init requests refused for bad TICKscript options (the task stops)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.InitFailures }), ""},
			{desc("snapshots_taken_total", "Snapshots sent to Kapacitor."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.Snapshots }), ""},
			{desc("snapshots_restored_total", "Snapshots restored."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.Restores }), ""},
			{desc("restores_dropped_total", "Unusable snapshots (corrupt, other version, other field/period/history) dropped; the task node started with no history."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.RestoresDropped }), ""},
			{desc("restores_refused_total", "Unusable snapshots refused with agent.strict_restore (the task stops)."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.RestoresFailed }), ""},
			{rejected, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.ProtocolErrors }), "protocol_error"},
			{rejected, prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.InvalidResponses }), "invalid_response"},
			{desc("panics_total", "Recovered panics; each ended its connection. Please report them."), prometheus.CounterValue, u(func(s *agent.Stats) *atomic.Uint64 { return &s.Panics }), ""},
		},
	}
	if c.taskLabels {
		c.node = nodeDescs{
			batches:    desc("node_batches_received_total", "Batches received by a running task node.", "task", "node"),
			points:     desc("node_points_received_total", "Points received by a running task node.", "task", "node"),
			dropped:    desc("node_points_dropped_total", "Points a running task node did not analyse, all reasons.", "task", "node"),
			detections: desc("node_detections_total", "S-H-ESD runs of a running task node.", "task", "node"),
			emitted:    desc("node_anomalies_emitted_total", "Anomalous points a running task node sent to Kapacitor.", "task", "node"),
			groups:     desc("node_groups", "Groups held by a running task node.", "task", "node"),
			stored:     desc("node_stored_points", "Points held by a running task node.", "task", "node"),
		}
	}
	return c
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	seen := make(map[*prometheus.Desc]bool)
	for _, s := range c.stats {
		if !seen[s.desc] {
			seen[s.desc] = true
			ch <- s.desc
		}
	}
	ch <- c.open
	ch <- c.running
	ch <- c.duration
	ch <- c.build
	if c.taskLabels {
		n := c.node
		for _, d := range []*prometheus.Desc{n.batches, n.points, n.dropped, n.detections, n.emitted, n.groups, n.stored} {
			ch <- d
		}
	}
}

// Collect reads the counters now.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	for _, s := range c.stats {
		if s.label != "" {
			ch <- prometheus.MustNewConstMetric(s.desc, s.typ, s.value(st), s.label)
		} else {
			ch <- prometheus.MustNewConstMetric(s.desc, s.typ, s.value(st))
		}
	}
	closed := st.ConnsClosed.Load() // before opened: never negative
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.ConnsOpened.Load()-closed))
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(c.src.DetectionsRunning()))
	bounds, cumulative, count, sum := st.DetectionSeconds.Read()
	buckets := make(map[float64]uint64, len(bounds))
	for k, b := range bounds {
		buckets[b] = cumulative[k]
	}
	ch <- prometheus.MustNewConstHistogram(c.duration, count, sum, buckets)
	ch <- prometheus.MustNewConstMetric(c.build, prometheus.GaugeValue, 1, c.version, runtime.Version())
	if c.taskLabels {
		c.collectNodes(ch)
	}
}

// nodeKey identifies a task node's series. Two connections can serve the
// same task node for a moment (a task re-enabled while its old connection
// drains); their values are added up.
type nodeKey struct{ task, node string }

type nodeValues struct {
	batches, points, dropped, detections, emitted float64
	groups, stored                                float64
}

func (c *Collector) collectNodes(ch chan<- prometheus.Metric) {
	vals := make(map[nodeKey]*nodeValues)
	c.src.Nodes(func(n agent.Node) {
		k := nodeKey{n.Task, n.Node}
		v := vals[k]
		if v == nil {
			v = new(nodeValues)
			vals[k] = v
		}
		s := n.Stats
		v.batches += float64(s.BatchesIn.Load())
		v.points += float64(s.PointsIn.Load())
		v.dropped += float64(s.PointsDropped.Load())
		v.detections += float64(s.Detections.Load())
		v.emitted += float64(s.AnomaliesEmitted.Load())
		v.groups += float64(s.Groups.Load())
		v.stored += float64(s.PointsStored.Load())
	})
	d := c.node
	for k, v := range vals {
		for _, m := range []struct {
			desc *prometheus.Desc
			typ  prometheus.ValueType
			v    float64
		}{
			{d.batches, prometheus.CounterValue, v.batches},
			{d.points, prometheus.CounterValue, v.points},
			{d.dropped, prometheus.CounterValue, v.dropped},
			{d.detections, prometheus.CounterValue, v.detections},
			{d.emitted, prometheus.CounterValue, v.emitted},
			{d.groups, prometheus.GaugeValue, v.groups},
			{d.stored, prometheus.GaugeValue, v.stored},
		} {
			ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.v, k.task, k.node)
		}
	}
}
