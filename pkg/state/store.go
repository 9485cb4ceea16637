// Package state keeps the per-group state of one Kapacitor task node: for
// each group a bounded, time-ordered history of (time, value) points with
// their tags, the group's metadata and a watermark, plus the snapshot
// encoding of all of it. It knows nothing of the wire protocol.
package state

import (
	"fmt"
	"time"
)

const (
	day  = int64(24 * time.Hour)
	week = 7 * day

	// HistoryPeriods is how many periods of history are kept when the
	// history is not given.
	HistoryPeriods = 14
)

// Config says how much history a Store keeps.
type Config struct {
	// Period is the seasonal period; 0 derives it per group from the step
	// between the group's two newest points: 1 day for steps under a day,
	// else 1 week.
	Period time.Duration
	// History is how far back from a group's newest point its history
	// reaches; 0 means HistoryPeriods × period.
	History time.Duration
	// MaxGroups caps the number of groups; 0 means no cap.
	MaxGroups int
}

// Validate reports a negative duration or cap.
func (c Config) Validate() error {
	switch {
	case c.Period < 0:
		return fmt.Errorf("period: %s is negative", c.Period)
	case c.History < 0:
		return fmt.Errorf("history: %s is negative", c.History)
	case c.MaxGroups < 0:
		return fmt.Errorf("max groups: %d is negative", c.MaxGroups)
	}
	return nil
}

// history returns the history length in ns for a group whose newest
// timestamps are times, or 0 if it cannot be known yet (fewer than two
// points and no period).
func (c Config) history(times []int64) int64 {
	if c.History > 0 {
		return int64(c.History)
	}
	p := int64(c.Period)
	if p <= 0 {
		n := len(times)
		if n < 2 {
			return 0
		}
		if times[n-1]-times[n-2] < day {
			p = day
		} else {
			p = week
		}
	}
	return HistoryPeriods * p
}

// sweepEvery is how much data time passes between two expiry sweeps: a
// sixteenth of the configured history (or of the shortest derived one).
func (c Config) sweepEvery() int64 {
	if h := c.history(nil); h > 0 {
		return max(h/16, 1)
	}
	return HistoryPeriods * day / 16
}

// MergeStats tells what Merge did with a batch.
type MergeStats struct {
	Added      int // points new to the history
	Replaced   int // points that replaced a stored point of the same time
	Duplicates int // points dropped because a later point of the batch had the same time
	Trimmed    int // points dropped from the history because they fell out of it
	Expired    int // idle groups removed
	NewGroup   bool
}

// Store holds the groups of one connection. It is not safe for concurrent
// use: one goroutine owns it.
//
// Idle groups expire in data time: a group whose newest point is more than
// 2 × its history older than the newest point seen by the Store (in any
// group) is removed. Kapacitor never tells a UDF that a group is gone, and
// data time keeps replays and tests deterministic.
type Store struct {
	cfg       Config
	groups    map[string]*Group
	clock     int64 // newest point time seen
	nextSweep int64
}

// New returns an empty Store.
func New(cfg Config) *Store {
	return &Store{cfg: cfg, groups: make(map[string]*Group), clock: noWatermark, nextSweep: noWatermark}
}

// Config returns the Store's configuration.
func (s *Store) Config() Config { return s.cfg }

// Len returns the number of groups.
func (s *Store) Len() int { return len(s.groups) }

// Group returns the group with the given key, or nil.
func (s *Store) Group(key string) *Group { return s.groups[key] }

// Points returns the number of points stored in all groups.
func (s *Store) Points() int {
	n := 0
	for _, g := range s.groups {
		n += g.n
	}
	return n
}

// Merge merges b into the history of group key (creating the group) and
// records meta as the group's metadata. b is sorted and deduplicated in
// place (the last point of a timestamp wins, and a batch point replaces a
// stored point of the same time); points older than the group's history
// are dropped. It returns ErrTooManyGroups, storing nothing, when the group
// is new and the store is full. Merge may keep meta.Tags and the tag sets
// of b.TagSets (they must not be modified afterwards), never b's slices.
func (s *Store) Merge(key string, meta Meta, b *Batch) (MergeStats, error) {
	var st MergeStats
	g := s.groups[key]
	if g == nil {
		if s.cfg.MaxGroups > 0 && len(s.groups) >= s.cfg.MaxGroups {
			return st, fmt.Errorf("group %q: %w (%d)", key, ErrTooManyGroups, s.cfg.MaxGroups)
		}
		g = newGroup(key)
		s.groups[key] = g
		st.NewGroup = true
	}
	if !meta.Tags.Equal(g.meta.Tags) || meta.Name != g.meta.Name || meta.ByName != g.meta.ByName {
		g.meta = meta
	}
	st.Duplicates = b.normalize()

	// Map the batch's tag sets to the group's table, interning lazily.
	var remapBuf [16]int32
	remap := remapBuf[:0]
	for range b.TagSets {
		remap = append(remap, -1) // not yet interned
	}
	for k, i := range b.TagIdx {
		if int(i) >= len(remap) {
			b.TagIdx[k] = NoTags
			continue
		}
		if remap[i] < 0 {
			remap[i] = int32(g.tags.intern(b.TagSets[i]))
		}
		b.TagIdx[k] = uint16(remap[i])
	}

	st.Added, st.Replaced = g.merge(b.Times, b.Values, b.TagIdx)
	if h := s.cfg.history(g.Times()); h > 0 {
		if cutoff := g.newest() - h; cutoff < g.newest() { // no overflow
			st.Trimmed = g.trim(cutoff)
		}
	}
	if len(g.tags.sets) >= g.tags.compactAt {
		g.tags.compact(g.ibuf[g.off : g.off+g.n])
	}
	if g.n == 0 && st.NewGroup {
		delete(s.groups, key)
		return st, nil
	}
	if nt := g.newest(); nt > s.clock {
		s.clock = nt
	}
	if s.clock >= s.nextSweep {
		st.Expired = s.Expire()
	}
	return st, nil
}

// Expire removes the groups that are idle (see Store) and returns how
// many it removed.
func (s *Store) Expire() int {
	n := 0
	for k, g := range s.groups {
		h := s.cfg.history(g.Times())
		if h == 0 {
			h = HistoryPeriods * day
		}
		// Unsigned: clock ≥ newest, and the difference may exceed MaxInt64.
		if g.n == 0 || uint64(s.clock)-uint64(g.newest()) > 2*uint64(h) {
			delete(s.groups, k)
			n++
		}
	}
	s.nextSweep = s.clock + s.cfg.sweepEvery()
	return n
}
