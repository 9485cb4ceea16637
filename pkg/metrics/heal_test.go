package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anomalyd/anomalyd/pkg/heal"
)

func TestHealCollector(t *testing.T) {
	var st heal.Stats
	st.Polls.Add(7)
	st.PollFailures.Add(3)
	st.Unreachable.Add(2)
	st.Reenabled.Add(4)
	st.ReenableFailures.Add(1)
	st.TasksUsing.Store(5)
	st.TasksLost.Store(2)
	st.LastPoll.Store(1795000000)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewHealCollector(&st))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.GetCounter() != nil:
				got[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[name] = m.GetGauge().GetValue()
			}
		}
		if !strings.HasPrefix(mf.GetName(), "anomalyd_heal_") || mf.GetHelp() == "" {
			t.Errorf("metric %s: help %q", mf.GetName(), mf.GetHelp())
		}
	}
	want := map[string]float64{
		"anomalyd_heal_polls_total":                             7,
		"anomalyd_heal_poll_failures_total{reason=unreachable}": 2,
		"anomalyd_heal_poll_failures_total{reason=error}":       1,
		"anomalyd_heal_tasks_reenabled_total":                   4,
		"anomalyd_heal_reenable_failures_total":                 1,
		"anomalyd_heal_tasks_using_udf":                         5,
		"anomalyd_heal_tasks_lost":                              2,
		"anomalyd_heal_last_poll_timestamp_seconds":             1795000000,
	}
	if len(got) != len(want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
