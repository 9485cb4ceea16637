package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anomalyd/anomalyd/pkg/heal"
)

// HealCollector exports the counters of the self-healing loop (pkg/heal),
// read at scrape time. Register it in the registry of NewRegistry when
// self-healing is on.
type HealCollector struct {
	st                                             *heal.Stats
	polls, pollFailures, reenabled, reenableFailed *prometheus.Desc
	using, lost, lastPoll                          *prometheus.Desc
}

// NewHealCollector returns a collector of st.
func NewHealCollector(st *heal.Stats) *HealCollector {
	return &HealCollector{
		st:             st,
		polls:          desc("heal_polls_total", "Task lists read from Kapacitor's API by the self-healing loop."),
		pollFailures:   desc("heal_poll_failures_total", "Task lists that could not be read: Kapacitor unreachable (no answer: refused, timed out, TLS) or an error answer (HTTP status, malformed body, credentials refused).", "reason"),
		reenabled:      desc("heal_tasks_reenabled_total", "Tasks that had lost their connection to anomalyd and were re-enabled (disabled, then enabled)."),
		reenableFailed: desc("heal_reenable_failures_total", "Re-enables that failed; the task is tried again later, with backoff."),
		using:          desc("heal_tasks_using_udf", "Tasks whose TICKscript calls anomalyd's UDF names, at the last task list."),
		lost:           desc("heal_tasks_lost", "Of those, tasks enabled but not executing after a lost connection, at the last task list (before re-enabling them)."),
		lastPoll:       desc("heal_last_poll_timestamp_seconds", "When the task list was last read (Unix time); 0 before the first."),
	}
}

// Describe sends every metric's description.
func (c *HealCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.polls, c.pollFailures, c.reenabled, c.reenableFailed, c.using, c.lost, c.lastPoll} {
		ch <- d
	}
}

// Collect reads the counters now.
func (c *HealCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.st
	unreachable := st.Unreachable.Load() // before the total: never negative
	failures := st.PollFailures.Load()
	ch <- prometheus.MustNewConstMetric(c.polls, prometheus.CounterValue, float64(st.Polls.Load()))
	ch <- prometheus.MustNewConstMetric(c.pollFailures, prometheus.CounterValue, float64(unreachable), "unreachable")
	ch <- prometheus.MustNewConstMetric(c.pollFailures, prometheus.CounterValue, float64(failures-unreachable), "error")
	ch <- prometheus.MustNewConstMetric(c.reenabled, prometheus.CounterValue, float64(st.Reenabled.Load()))
	ch <- prometheus.MustNewConstMetric(c.reenableFailed, prometheus.CounterValue, float64(st.ReenableFailures.Load()))
	ch <- prometheus.MustNewConstMetric(c.using, prometheus.GaugeValue, float64(st.TasksUsing.Load()))
	ch <- prometheus.MustNewConstMetric(c.lost, prometheus.GaugeValue, float64(st.TasksLost.Load()))
	ch <- prometheus.MustNewConstMetric(c.lastPoll, prometheus.GaugeValue, float64(st.LastPoll.Load()))
}
