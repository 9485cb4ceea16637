package state

import (
	"math"
	"sort"
)

// Meta is what a group's last BeginBatch said about it.
type Meta struct {
	Name   string
	ByName bool
	Tags   Tags // group tags (the dimensions and their values), sorted
}

// noWatermark is the watermark of a group that has reported nothing yet.
const noWatermark = math.MinInt64

// Group is the state of one Kapacitor group: a time-ordered history of
// points without repeated timestamps, the tags of each point (interned),
// the group's metadata and its watermark.
//
// The history lives in buffers of which [off, off+n) is used, so that
// trimming the oldest points is a reslice and the buffers are compacted
// only when they run out of room: a stored point costs 18 bytes plus at
// most 1/8 of slack.
type Group struct {
	key       string
	meta      Meta
	watermark int64

	tbuf   []int64
	vbuf   []float64
	ibuf   []uint16
	off, n int
	tags   tagTable
}

func newGroup(key string) *Group {
	return &Group{key: key, watermark: noWatermark, tags: tagTable{compactAt: 64}}
}

// Key returns the group ID (Kapacitor's opaque group string).
func (g *Group) Key() string { return g.key }

// Meta returns the group's metadata from its last batch.
func (g *Group) Meta() Meta { return g.meta }

// Len returns the number of points in the history.
func (g *Group) Len() int { return g.n }

// Times returns the history's timestamps (Unix ns, strictly ascending). The
// slice is valid until the next Merge or Restore and must not be modified.
func (g *Group) Times() []int64 { return g.tbuf[g.off : g.off+g.n] }

// Values returns the history's values, parallel to Times, with the same
// validity.
func (g *Group) Values() []float64 { return g.vbuf[g.off : g.off+g.n] }

// PointTags returns the tags of the i-th point of the history, or nil when
// they are unknown.
func (g *Group) PointTags(i int) Tags { return g.tags.get(g.ibuf[g.off+i]) }

// Watermark returns the time of the latest anomaly reported for the group,
// and false if none was.
func (g *Group) Watermark() (int64, bool) { return g.watermark, g.watermark != noWatermark }

// SetWatermark records t as the time of the latest anomaly reported.
func (g *Group) SetWatermark(t int64) { g.watermark = t }

// newest returns the time of the newest point, or noWatermark if none.
func (g *Group) newest() int64 {
	if g.n == 0 {
		return noWatermark
	}
	return g.tbuf[g.off+g.n-1]
}

// reserve makes room for extra more points after the used range.
func (g *Group) reserve(extra int) {
	need := g.n + extra
	if g.off+need <= len(g.tbuf) {
		return
	}
	if need <= len(g.tbuf) && g.off > 0 {
		copy(g.tbuf, g.tbuf[g.off:g.off+g.n])
		copy(g.vbuf, g.vbuf[g.off:g.off+g.n])
		copy(g.ibuf, g.ibuf[g.off:g.off+g.n])
		g.off = 0
		return
	}
	size := need + need/8 + 16
	tb, vb, ib := make([]int64, size), make([]float64, size), make([]uint16, size)
	copy(tb, g.Times())
	copy(vb, g.Values())
	copy(ib, g.ibuf[g.off:g.off+g.n])
	g.tbuf, g.vbuf, g.ibuf, g.off = tb, vb, ib, 0
}

// merge merges the normalized points bt/bv/bi into the history; a batch
// point replaces a stored point of the same time. It returns how many
// points were added and how many replaced.
func (g *Group) merge(bt []int64, bv []float64, bi []uint16) (added, replaced int) {
	m := len(bt)
	if m == 0 {
		return 0, 0
	}
	if g.n == 0 || bt[0] > g.newest() {
		g.reserve(m)
		end := g.off + g.n
		copy(g.tbuf[end:], bt)
		copy(g.vbuf[end:], bv)
		copy(g.ibuf[end:], bi)
		g.n += m
		return m, 0
	}
	times := g.Times()
	start := sort.Search(len(times), func(i int) bool { return times[i] >= bt[0] })
	for i, j := start, 0; i < len(times) && j < m; {
		switch {
		case times[i] < bt[j]:
			i++
		case times[i] > bt[j]:
			j++
		default:
			replaced++
			i++
			j++
		}
	}
	added = m - replaced
	g.reserve(added)
	t, v, x := g.tbuf[g.off:], g.vbuf[g.off:], g.ibuf[g.off:]
	i, j, k := g.n-1, m-1, g.n+added-1
	for j >= 0 {
		switch {
		case i >= 0 && t[i] > bt[j]:
			t[k], v[k], x[k] = t[i], v[i], x[i]
			i--
		case i >= 0 && t[i] == bt[j]:
			t[k], v[k], x[k] = bt[j], bv[j], bi[j]
			i--
			j--
		default:
			t[k], v[k], x[k] = bt[j], bv[j], bi[j]
			j--
		}
		k--
	}
	g.n += added
	return added, replaced
}

// trim drops the points at or before cutoff and returns how many.
func (g *Group) trim(cutoff int64) int {
	times := g.Times()
	k := sort.Search(len(times), func(i int) bool { return times[i] > cutoff })
	g.off += k
	g.n -= k
	return k
}
