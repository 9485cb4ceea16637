package agent

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/anomalyd/anomalyd/pkg/detect"
	"github.com/anomalyd/anomalyd/pkg/state"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// worker owns a connection's state and runs detection. It merges every
// queued batch as soon as it can and runs one detection per group that
// received data (a group whose batches queued up during a long detection is
// detected once on the merged history), so the queue drains even when
// detection is slow. Snapshots see every batch queued before them, with
// their detections done.
type worker struct {
	s           *session
	det         Detector
	store       *state.Store
	dirty       []string
	isDirty     map[string]bool
	anoms       []detect.Anomaly
	eof         bool
	warnedCap   bool
	warnedSize  bool
	groups      int // store.Len() as last added to Stats.GroupsActive
	points      int // points in the store, kept in step by merge and restore
	reported    int // points as last added to Stats.PointsStored
	fingerprint string
}

func (s *session) worker(det Detector, store *state.Store) {
	defer close(s.workerDone)
	w := &worker{s: s, det: det, store: store, isDirty: make(map[string]bool), fingerprint: s.opts.Fingerprint()}
	defer func() {
		s.stats.GroupsActive.Add(-int64(w.groups))
		s.stats.PointsStored.Add(-int64(w.reported))
	}()
	defer func() {
		if p := recover(); p != nil {
			s.recovered("worker", p)
			s.send(errorResponse("anomalyd internal error, see its log"))
			s.sendClose()
			// Keep the reader from waiting on a queue nobody reads.
			for range s.work {
			}
		}
	}()
	for !w.eof {
		it, ok := <-s.work
		if !ok {
			return
		}
		w.handle(it)
		for len(w.dirty) > 0 {
			w.drain()
			w.detectNext()
		}
	}
}

// drain handles every item queued now, without waiting.
func (w *worker) drain() {
	for !w.eof {
		select {
		case it, ok := <-w.s.work:
			if !ok {
				w.eof = true
				return
			}
			w.handle(it)
		default:
			return
		}
	}
}

func (w *worker) handle(it workItem) {
	defer w.syncGroups()
	s := w.s
	if s.failed.Load() {
		if it.batch != nil {
			s.queued.Add(-int64(it.batch.Len()))
		}
		return
	}
	switch it.kind {
	case workBatch:
		w.merge(it)
	case workSnapshot:
		for len(w.dirty) > 0 {
			w.detectNext()
		}
		blob := w.store.Snapshot(nil, w.fingerprint)
		s.stats.Snapshots.Add(1)
		if len(blob)+16 > s.cfg.MaxFrameSize && !w.warnedSize {
			w.warnedSize = true
			s.logger().Warn("snapshot is larger than --max-frame-size: it cannot be restored; raise the limit or shorten the history",
				zap.Int("bytes", len(blob)), zap.Int("max_frame_size", s.cfg.MaxFrameSize), zap.Int("groups", w.store.Len()))
		}
		s.send(&udfpb.Response{Message: &udfpb.Response_Snapshot{Snapshot: &udfpb.SnapshotResponse{Snapshot: blob}}})
	case workRestore:
		w.restore(it)
	}
}

func (w *worker) merge(it workItem) {
	s := w.s
	n := it.batch.Len()
	before := 0
	if g := w.store.Group(it.key); g != nil {
		before = g.Len()
	}
	st, err := w.store.Merge(it.key, it.meta, it.batch)
	s.queued.Add(-int64(n))
	s.recycle(it.batch)
	if errors.Is(err, state.ErrTooManyGroups) {
		s.stats.PointsOverGroupCap.Add(uint64(n))
		s.node.PointsDropped.Add(uint64(n))
		if !w.warnedCap {
			w.warnedCap = true
			s.logger().Warn("max groups reached: points of new groups are dropped (see --max-groups)",
				zap.String("group", it.key), zap.Int("max_groups", s.cfg.MaxGroups))
		} else if s.debug {
			s.logger().Debug("max groups reached, batch dropped", zap.String("group", it.key), zap.Int("points", n))
		}
		return
	}
	s.stats.PointsDuplicate.Add(uint64(st.Duplicates))
	s.node.PointsDropped.Add(uint64(st.Duplicates))
	if st.Expired > 0 {
		w.points = w.store.Points() // a sweep visits every group anyway
	} else if g := w.store.Group(it.key); g != nil {
		w.points += g.Len() - before
	} else {
		w.points -= before
	}
	if st.Expired > 0 {
		s.stats.GroupsExpired.Add(uint64(st.Expired))
		s.logger().Info("idle groups expired", zap.Int("expired", st.Expired), zap.Int("groups", w.store.Len()))
	}
	if st.Duplicates > 0 {
		s.logger().Info("duplicate timestamps in batch, the last point of each won", zap.String("group", it.key), zap.Int("duplicates", st.Duplicates))
	}
	if !w.isDirty[it.key] {
		w.isDirty[it.key] = true
		w.dirty = append(w.dirty, it.key)
	}
}

func (w *worker) restore(it workItem) {
	s := w.s
	blob := it.snapshot
	var st state.RestoreStats
	var err error
	if it.oversize > 0 {
		err = fmt.Errorf("snapshot of %d bytes exceeds --max-frame-size (%d)", it.oversize, s.cfg.MaxFrameSize)
	} else {
		st, err = w.store.Restore(blob, w.fingerprint)
		w.points = w.store.Points()
	}
	if err == nil {
		s.stats.Restores.Add(1)
		s.logger().Info("snapshot restored", zap.Int("groups", st.Groups), zap.Int("points", st.Points), zap.Int("groups_over_cap", st.Dropped))
		s.send(&udfpb.Response{Message: &udfpb.Response_Restore{Restore: &udfpb.RestoreResponse{Success: true}}})
		return
	}
	if s.cfg.StrictRestore {
		s.stats.RestoresFailed.Add(1)
		s.logger().Warn("snapshot refused (strict restore)", zap.Error(err), zap.Int("bytes", len(blob)))
		s.failed.Store(true)
		s.send(&udfpb.Response{Message: &udfpb.Response_Restore{Restore: &udfpb.RestoreResponse{Success: false, Error: err.Error()}}})
		s.sendClose()
		return
	}
	s.stats.RestoresDropped.Add(1)
	s.logger().Warn("unusable snapshot dropped, starting with no history", zap.Error(err), zap.Int("bytes", len(blob)))
	s.send(&udfpb.Response{Message: &udfpb.Response_Restore{Restore: &udfpb.RestoreResponse{Success: true}}})
}

// syncGroups keeps the gauges of Stats and NodeStats (groups, stored
// points) in step with the store.
func (w *worker) syncGroups() {
	if n := w.store.Len(); n != w.groups {
		w.s.stats.GroupsActive.Add(int64(n - w.groups))
		w.s.node.Groups.Store(int64(n))
		w.groups = n
	}
	if w.points != w.reported {
		w.s.stats.PointsStored.Add(int64(w.points - w.reported))
		w.s.node.PointsStored.Store(int64(w.points))
		w.reported = w.points
	}
}

// waiting reports errors that mean "not enough history yet".
func waiting(err error) bool {
	return errors.Is(err, detect.ErrTooFewPeriods) || errors.Is(err, detect.ErrNotPeriodic) ||
		errors.Is(err, detect.ErrTooFewObservations) || errors.Is(err, detect.ErrNoPeriod)
}

// detectNext runs detection on the oldest dirty group and emits its
// anomalies.
func (w *worker) detectNext() {
	if len(w.dirty) == 0 {
		return
	}
	key := w.dirty[0]
	w.dirty[0] = ""
	w.dirty = w.dirty[1:]
	delete(w.isDirty, key)
	s := w.s
	g := w.store.Group(key)
	if g == nil || s.failed.Load() {
		return
	}
	p := s.opts.Detect
	p.Period = s.opts.Period
	anoms, took, err := w.ts(g, p)
	w.anoms = anoms[:0]
	s.stats.Detections.Add(1)
	s.stats.DetectionSeconds.Observe(took)
	s.node.Detections.Add(1)
	if err != nil {
		if waiting(err) {
			s.stats.DetectionsWaiting.Add(1)
			if s.debug {
				s.logger().Debug("waiting for more history", zap.String("group", key), zap.Int("points", g.Len()), zap.Error(err))
			}
		} else {
			s.stats.DetectionErrors.Add(1)
			s.logger().Warn("detection failed", zap.String("group", key), zap.Int("points", g.Len()), zap.Error(err))
		}
		return
	}
	s.stats.AnomaliesFound.Add(uint64(len(anoms)))
	n := w.emit(g, anoms)
	if s.debug {
		s.logger().Debug("detection done", zap.String("group", key), zap.Int("points", g.Len()), zap.Duration("took", took),
			zap.Int("anomalies", len(anoms)), zap.Int("emitted", n))
	}
}

// ts runs the detector in one of the daemon's detection slots and says
// how long the run took (the wait for a slot excluded).
func (w *worker) ts(g *state.Group, p detect.Params) ([]detect.Anomaly, time.Duration, error) {
	w.s.srv.acquire()
	defer w.s.srv.release()
	start := time.Now()
	anoms, err := w.det.Ts(w.anoms[:0], g.Times(), g.Values(), p)
	return anoms, time.Since(start), err
}

// emit sends the anomalies to report as points, in time order, and raises
// the group's watermark. It returns how many it sent.
func (w *worker) emit(g *state.Group, anoms []detect.Anomaly) int {
	if len(anoms) == 0 {
		return 0
	}
	s := w.s
	slices.SortFunc(anoms, func(a, b detect.Anomaly) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
	wm, has := g.Watermark()
	meta := g.Meta()
	dims := make([]string, len(meta.Tags))
	for i, t := range meta.Tags {
		dims[i] = t.Key
	}
	times := g.Times()
	sent := 0
	for i, a := range anoms {
		if i > 0 && a.Time == anoms[i-1].Time {
			continue // a detector reporting a time twice
		}
		if s.opts.Emit == EmitNew && has && a.Time <= wm {
			continue
		}
		idx := a.Index
		if idx < 0 || idx >= len(times) || times[idx] != a.Time {
			idx = sort.Search(len(times), func(i int) bool { return times[i] >= a.Time })
		}
		var own state.Tags
		if idx < len(times) && times[idx] == a.Time {
			own = g.PointTags(idx)
		}
		tags := make(map[string]string, len(own)+len(meta.Tags))
		for _, t := range own {
			tags[t.Key] = t.Value
		}
		for _, t := range meta.Tags {
			tags[t.Key] = t.Value
		}
		pt := &udfpb.Point{
			Time:       a.Time,
			Name:       meta.Name,
			Group:      g.Key(),
			ByName:     meta.ByName,
			Dimensions: dims,
			Tags:       tags,
			FieldsDouble: map[string]float64{
				s.opts.Field:  a.Value,
				FieldExpected: a.Expected,
				FieldScore:    a.Score,
			},
		}
		if !s.send(&udfpb.Response{Message: &udfpb.Response_Point{Point: pt}}) {
			break
		}
		sent++
		if !has || a.Time > wm {
			wm, has = a.Time, true
		}
	}
	if has {
		g.SetWatermark(wm)
	}
	s.stats.AnomaliesEmitted.Add(uint64(sent))
	s.node.AnomaliesEmitted.Add(uint64(sent))
	return sent
}
