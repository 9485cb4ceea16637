package agent

import (
	"sync/atomic"
	"time"
)

// Stats counts what the server did, over all connections. Fields are
// updated atomically and may be read at any time (e.g. by a metrics
// exporter).
type Stats struct {
	ConnsOpened atomic.Uint64
	ConnsClosed atomic.Uint64
	NodesActive atomic.Int64 // connections past a successful init, not yet ended (a gauge)

	BatchesIn atomic.Uint64 // batches received (end seen)
	PointsIn  atomic.Uint64 // points received inside batches

	// Points skipped as bad data, by reason.
	PointsMissingField atomic.Uint64 // the point lacks the analysed field
	PointsNonFinite    atomic.Uint64 // NaN or ±Inf
	PointsNonNumeric   atomic.Uint64 // the field is a string or a bool
	PointsBadTags      atomic.Uint64 // tags that are not valid UTF-8
	PointsDuplicate    atomic.Uint64 // a later point of the batch had the same time

	// Points dropped by a limit.
	PointsOverBatchCap atomic.Uint64 // beyond Config.MaxBatchPoints
	PointsOverGroupCap atomic.Uint64 // of new groups beyond Config.MaxGroups
	BatchesOverQueue   atomic.Uint64 // batches dropped: worker queue full
	PointsOverQueue    atomic.Uint64 // the points of those batches

	GroupsExpired atomic.Uint64
	GroupsActive  atomic.Int64 // groups held now, over all connections (a gauge)
	PointsStored  atomic.Int64 // points held in all groups' histories (a gauge)

	Detections        atomic.Uint64 // S-H-ESD runs that returned
	DetectionsWaiting atomic.Uint64 // runs on too short a history (wait for more data)
	DetectionErrors   atomic.Uint64 // runs that failed otherwise
	DetectionSeconds  Histogram     // how long each run took, slot wait excluded
	AnomaliesFound    atomic.Uint64 // anomalies found in all runs
	AnomaliesEmitted  atomic.Uint64 // points sent to Kapacitor

	KeepalivesAnswered atomic.Uint64
	InitFailures       atomic.Uint64
	Snapshots          atomic.Uint64
	Restores           atomic.Uint64 // restores that restored state
	RestoresDropped    atomic.Uint64 // unusable snapshots dropped (success=true)
	RestoresFailed     atomic.Uint64 // unusable snapshots refused (strict)

	ProtocolErrors   atomic.Uint64 // connections ended by a protocol violation
	InvalidResponses atomic.Uint64 // responses the writer refused to send
	Panics           atomic.Uint64 // recovered panics (each ends its connection)
}

// NodeStats counts what one task node (one connection past init) did. The
// server keeps them while the connection lasts (see Server.Nodes).
type NodeStats struct {
	BatchesIn        atomic.Uint64
	PointsIn         atomic.Uint64
	PointsDropped    atomic.Uint64 // skipped as bad data or dropped by a limit, all reasons
	Detections       atomic.Uint64
	AnomaliesEmitted atomic.Uint64
	Groups           atomic.Int64 // a gauge
	PointsStored     atomic.Int64 // a gauge
}

// detectionBounds are the upper bounds, in seconds, of the buckets of
// Stats.DetectionSeconds: from a short series (~1 ms) to 100,000-point
// histories with longterm (seconds).
var detectionBounds = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Histogram is a fixed-bucket histogram of durations, safe for concurrent
// use, for a metrics exporter to read (Prometheus' cumulative form).
type Histogram struct {
	counts [len(detectionBounds) + 1]atomic.Uint64 // the last one: above every bound
	nanos  atomic.Uint64
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(detectionBounds) && s > detectionBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.nanos.Add(uint64(max(d, 0)))
}

// Read returns the buckets' upper bounds in seconds, the cumulative count
// of each bucket (observations ≤ its bound), the total count and the sum
// of the observations in seconds.
func (h *Histogram) Read() (bounds []float64, cumulative []uint64, count uint64, sum float64) {
	bounds = append([]float64(nil), detectionBounds[:]...)
	cumulative = make([]uint64, len(bounds))
	for i := range bounds {
		count += h.counts[i].Load()
		cumulative[i] = count
	}
	count += h.counts[len(bounds)].Load()
	sum = float64(h.nanos.Load()) / float64(time.Second)
	return bounds, cumulative, count, sum
}
