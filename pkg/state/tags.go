package state

import (
	"encoding/binary"
	"sort"
)

// Tag is one tag of a point or group.
type Tag struct {
	Key, Value string
}

// Tags is a tag set sorted by key, without repeated keys.
type Tags []Tag

// Sort sorts t by key in place and returns it.
func (t Tags) Sort() Tags {
	sort.Slice(t, func(i, j int) bool { return t[i].Key < t[j].Key })
	return t
}

// Map returns the tags as a new map.
func (t Tags) Map() map[string]string {
	m := make(map[string]string, len(t))
	for _, kv := range t {
		m[kv.Key] = kv.Value
	}
	return m
}

// Equal reports whether t and u hold the same tags in the same order.
func (t Tags) Equal(u Tags) bool {
	if len(t) != len(u) {
		return false
	}
	for i := range t {
		if t[i] != u[i] {
			return false
		}
	}
	return true
}

// appendKey appends an unambiguous encoding of t (length-prefixed keys and
// values) to dst, for interning.
func (t Tags) appendKey(dst []byte) []byte {
	for _, kv := range t {
		dst = binary.AppendUvarint(dst, uint64(len(kv.Key)))
		dst = append(dst, kv.Key...)
		dst = binary.AppendUvarint(dst, uint64(len(kv.Value)))
		dst = append(dst, kv.Value...)
	}
	return dst
}

// NoTags is the tag index of a point whose own tags are unknown (its
// group's tag table was full): it is emitted with the group tags only.
const NoTags = ^uint16(0)

// maxTagSets is the size limit of a group's tag table; indices are uint16
// and NoTags is reserved.
const maxTagSets = int(NoTags)

// tagTable interns the distinct tag sets of one group's points, so that each
// stored point costs 2 bytes for its tags.
type tagTable struct {
	sets  []Tags
	index map[string]uint16
	key   []byte // scratch
	// compactAt is the table size at which unreferenced sets are dropped.
	compactAt int
}

// intern returns the index of t, adding it if needed, or NoTags if the
// table is full.
func (tt *tagTable) intern(t Tags) uint16 {
	tt.key = t.appendKey(tt.key[:0])
	if i, ok := tt.index[string(tt.key)]; ok {
		return i
	}
	if len(tt.sets) >= maxTagSets {
		return NoTags
	}
	if tt.index == nil {
		tt.index = make(map[string]uint16)
	}
	i := uint16(len(tt.sets))
	tt.sets = append(tt.sets, t)
	tt.index[string(tt.key)] = i
	return i
}

// get returns the tag set at i, or nil for NoTags.
func (tt *tagTable) get(i uint16) Tags {
	if int(i) < len(tt.sets) {
		return tt.sets[i]
	}
	return nil
}

// compact drops the sets that idx no longer references and rewrites idx.
func (tt *tagTable) compact(idx []uint16) {
	used := make([]int32, len(tt.sets))
	for _, i := range idx {
		if int(i) < len(used) {
			used[i] = 1
		}
	}
	sets := tt.sets[:0:0]
	clear(tt.index)
	for i, u := range used {
		if u == 0 {
			used[i] = -1
			continue
		}
		used[i] = int32(len(sets))
		tt.key = tt.sets[i].appendKey(tt.key[:0])
		tt.index[string(tt.key)] = uint16(len(sets))
		sets = append(sets, tt.sets[i])
	}
	for k, i := range idx {
		if int(i) < len(used) {
			idx[k] = uint16(used[i])
		}
	}
	tt.sets = sets
	tt.compactAt = max(2*len(sets), 64)
}
