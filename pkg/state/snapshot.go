package state

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// Snapshot format, version 1. All integers are varints (u = unsigned, z =
// zigzag-signed) unless a size is given; strings are u(len) + bytes.
//
//	magic "ANMD" | version byte | fingerprint string | u(groups)
//	per group, in key order:
//	  key string | name string | byName byte | u(tags) (key string, value string)*
//	  z(watermark; MinInt64 = none)
//	  u(tag sets) (u(pairs) (key string, value string)*)*
//	  u(points) | z(first time) z(delta of time deltas)* | float64 bits LE × points
//	  u(runs) (u(run length) u(tag index))*
//	CRC-32C (Castagnoli) of everything before it, 4 bytes LE
const (
	snapshotMagic   = "ANMD"
	snapshotVersion = 1
	headerLen       = len(snapshotMagic) + 1
	trailerLen      = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot appends the encoding of every group to dst and returns it. The
// result is never empty. fingerprint identifies the options that give the
// history its meaning; Restore refuses a snapshot with another one.
func (s *Store) Snapshot(dst []byte, fingerprint string) []byte {
	start := len(dst)
	dst = append(dst, snapshotMagic...)
	dst = append(dst, snapshotVersion)
	dst = appendString(dst, fingerprint)
	keys := make([]string, 0, len(s.groups))
	for k := range s.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = s.groups[k].appendTo(dst)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func (g *Group) appendTo(dst []byte) []byte {
	dst = appendString(dst, g.key)
	dst = appendString(dst, g.meta.Name)
	dst = append(dst, b2u(g.meta.ByName))
	dst = appendTags(dst, g.meta.Tags)
	dst = binary.AppendVarint(dst, g.watermark)
	dst = binary.AppendUvarint(dst, uint64(len(g.tags.sets)))
	for _, t := range g.tags.sets {
		dst = appendTags(dst, t)
	}
	times, values, idx := g.Times(), g.Values(), g.ibuf[g.off:g.off+g.n]
	dst = binary.AppendUvarint(dst, uint64(len(times)))
	// Delta of deltas: a regular series costs one byte per timestamp. The
	// arithmetic wraps like the decoder's, so any ascending times round-trip.
	var prevDelta int64
	for i, t := range times {
		if i == 0 {
			dst = binary.AppendVarint(dst, t)
			continue
		}
		delta := t - times[i-1]
		dst = binary.AppendVarint(dst, delta-prevDelta)
		prevDelta = delta
	}
	for _, v := range values {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	runs := 0
	for i := range idx {
		if i == 0 || idx[i] != idx[i-1] {
			runs++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(runs))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && idx[j] == idx[i] {
			j++
		}
		dst = binary.AppendUvarint(dst, uint64(j-i))
		dst = binary.AppendUvarint(dst, uint64(idx[i]))
		i = j
	}
	return dst
}

// RestoreStats tells what Restore did.
type RestoreStats struct {
	Groups  int // groups restored
	Points  int // points restored
	Dropped int // groups dropped because of MaxGroups
}

// Restore replaces the content of s with the snapshot in data, which must
// carry the given fingerprint. On error s is left unchanged; the error
// wraps ErrCorrupt, ErrVersion or ErrFingerprint. Groups beyond MaxGroups
// are dropped and counted; each restored history is trimmed to the
// configured history.
func (s *Store) Restore(data []byte, fingerprint string) (RestoreStats, error) {
	var st RestoreStats
	if len(data) < headerLen+trailerLen {
		return st, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(data))
	}
	if string(data[:len(snapshotMagic)]) != snapshotMagic {
		return st, fmt.Errorf("%w: not an anomalyd snapshot", ErrCorrupt)
	}
	if v := data[len(snapshotMagic)]; v != snapshotVersion {
		return st, fmt.Errorf("%w: version %d, want %d", ErrVersion, v, snapshotVersion)
	}
	body := data[:len(data)-trailerLen]
	if want, got := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); want != got {
		return st, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	d := decoder{buf: body[headerLen:]}
	fp := d.string()
	if d.err != nil {
		return st, d.err
	}
	if fp != fingerprint {
		return st, fmt.Errorf("%w: snapshot has %s, task has %s", ErrFingerprint, fp, fingerprint)
	}
	n := d.count(1)
	groups := make(map[string]*Group, min(n, 1024))
	clock := int64(noWatermark)
	prev := ""
	for i := 0; i < n && d.err == nil; i++ {
		g := d.group()
		if d.err != nil {
			break
		}
		if i > 0 && g.key <= prev {
			d.fail("group keys out of order")
			break
		}
		prev = g.key
		if s.cfg.MaxGroups > 0 && len(groups) >= s.cfg.MaxGroups {
			st.Dropped++
			continue
		}
		if h := s.cfg.history(g.Times()); h > 0 && g.n > 0 {
			if cutoff := g.newest() - h; cutoff < g.newest() {
				g.trim(cutoff)
			}
		}
		if g.n == 0 {
			continue
		}
		groups[g.key] = g
		clock = max(clock, g.newest())
		st.Points += g.n
	}
	if d.err == nil && len(d.buf) != 0 {
		d.fail("%d trailing bytes", len(d.buf))
	}
	if d.err != nil {
		return RestoreStats{}, d.err
	}
	st.Groups = len(groups)
	s.groups, s.clock, s.nextSweep = groups, clock, noWatermark
	return st, nil
}

// decoder reads the snapshot body; the first error sticks.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	d.buf = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// count reads an element count and checks that the remaining bytes can hold
// that many elements of at least minSize bytes, so that no allocation is
// larger than the snapshot.
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if v > uint64(len(d.buf)/minSize) {
		d.fail("count %d exceeds the remaining %d bytes", v, len(d.buf))
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf) {
		d.fail("truncated")
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) string() string { return string(d.bytes(d.count(1))) }

func (d *decoder) tags() Tags {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	t := make(Tags, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		kv := Tag{Key: d.string(), Value: d.string()}
		if i > 0 && kv.Key <= t[i-1].Key {
			d.fail("tag keys out of order")
		}
		t = append(t, kv)
	}
	return t
}

func (d *decoder) group() *Group {
	g := newGroup(d.string())
	g.meta.Name = d.string()
	switch b := d.bytes(1); {
	case d.err != nil:
		return g
	case b[0] > 1:
		d.fail("bad byName byte %d", b[0])
	default:
		g.meta.ByName = b[0] == 1
	}
	g.meta.Tags = d.tags()
	g.watermark = d.varint()
	nsets := d.count(1)
	if nsets > maxTagSets {
		d.fail("%d tag sets", nsets)
	}
	for i := 0; i < nsets && d.err == nil; i++ {
		t := d.tags()
		if g.tags.intern(t) != uint16(i) {
			d.fail("repeated tag set")
		}
	}
	g.tags.compactAt = max(2*len(g.tags.sets), 64)
	n := d.count(9) // ≥ 1 time byte + 8 value bytes
	if d.err != nil {
		return g
	}
	g.tbuf, g.vbuf, g.ibuf, g.n = make([]int64, n), make([]float64, n), make([]uint16, n), n
	var delta int64
	for i := 0; i < n && d.err == nil; i++ {
		if i == 0 {
			g.tbuf[0] = d.varint()
			continue
		}
		delta += d.varint()
		t := g.tbuf[i-1] + delta
		if delta <= 0 || t <= g.tbuf[i-1] {
			d.fail("times not ascending")
		}
		g.tbuf[i] = t
	}
	vb := d.bytes(8 * n)
	for i := 0; i < n && d.err == nil; i++ {
		v := math.Float64frombits(binary.LittleEndian.Uint64(vb[8*i:]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			d.fail("non-finite value")
		}
		g.vbuf[i] = v
	}
	runs := d.count(2)
	k := 0
	for r := 0; r < runs && d.err == nil; r++ {
		l, idx := d.uvarint(), d.uvarint()
		if l == 0 || l > uint64(n-k) || (idx >= uint64(len(g.tags.sets)) && idx != uint64(NoTags)) {
			d.fail("bad tag run")
			break
		}
		for range l {
			g.ibuf[k] = uint16(idx)
			k++
		}
	}
	if d.err == nil && k != n {
		d.fail("tag runs cover %d of %d points", k, n)
	}
	return g
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTags(dst []byte, t Tags) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(t)))
	for _, kv := range t {
		dst = appendString(dst, kv.Key)
		dst = appendString(dst, kv.Value)
	}
	return dst
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}
