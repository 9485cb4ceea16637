package agent

import "sync/atomic"

// Stats counts what the server did, over all connections. Fields are
// updated atomically and may be read at any time (e.g. by a metrics
// exporter).
type Stats struct {
	ConnsOpened atomic.Uint64
	ConnsClosed atomic.Uint64

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

	GroupsExpired atomic.Uint64
	GroupsActive  atomic.Int64 // groups held now, over all connections (a gauge)

	Detections        atomic.Uint64 // S-H-ESD runs that returned
	DetectionsWaiting atomic.Uint64 // runs on too short a history (wait for more data)
	DetectionErrors   atomic.Uint64 // runs that failed otherwise
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
