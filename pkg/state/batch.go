package state

import "sort"

// Batch is the decoded content of one Kapacitor batch: parallel slices of
// point times (Unix ns), values and tag-set indices into TagSets. The
// points need not be sorted and may repeat timestamps; Merge sorts them
// (stably) and keeps the last point of each timestamp.
type Batch struct {
	Times   []int64
	Values  []float64
	TagIdx  []uint16
	TagSets []Tags
}

// Len returns the number of points.
func (b *Batch) Len() int { return len(b.Times) }

// Reset empties b, keeping its buffers.
func (b *Batch) Reset() {
	b.Times = b.Times[:0]
	b.Values = b.Values[:0]
	b.TagIdx = b.TagIdx[:0]
	clear(b.TagSets)
	b.TagSets = b.TagSets[:0]
}

// Append adds one point whose tags are TagSets[tagSet] (NoTags if unknown).
func (b *Batch) Append(t int64, v float64, tagSet uint16) {
	b.Times = append(b.Times, t)
	b.Values = append(b.Values, v)
	b.TagIdx = append(b.TagIdx, tagSet)
}

func (b *Batch) Less(i, j int) bool { return b.Times[i] < b.Times[j] }
func (b *Batch) Swap(i, j int) {
	b.Times[i], b.Times[j] = b.Times[j], b.Times[i]
	b.Values[i], b.Values[j] = b.Values[j], b.Values[i]
	b.TagIdx[i], b.TagIdx[j] = b.TagIdx[j], b.TagIdx[i]
}

// normalize sorts b by time (stably, so arrival order decides among equal
// times) and keeps the last point of each timestamp. It returns the number
// of points dropped as duplicates.
func (b *Batch) normalize() int {
	sorted := true
	for i := 1; i < len(b.Times); i++ {
		if b.Times[i] <= b.Times[i-1] {
			sorted = false
			break
		}
	}
	if sorted {
		return 0
	}
	sort.Stable(b)
	w := 0
	for r := 0; r < len(b.Times); r++ {
		if r+1 < len(b.Times) && b.Times[r+1] == b.Times[r] {
			continue // a later point has the same time
		}
		b.Times[w], b.Values[w], b.TagIdx[w] = b.Times[r], b.Values[r], b.TagIdx[r]
		w++
	}
	dups := len(b.Times) - w
	b.Times, b.Values, b.TagIdx = b.Times[:w], b.Values[:w], b.TagIdx[:w]
	return dups
}
