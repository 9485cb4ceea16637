package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"time"
)

const fp = `field="value" period=24h0m0s history=0s`

func sampleStore(t testing.TB) *Store {
	t.Helper()
	s := New(Config{})
	b := &Batch{TagSets: []Tags{{{"host", "a"}}, {{"host", "a"}, {"pod", "x"}}}}
	for i := range 100 {
		b.Append(int64(i)*minute, float64(i)*1.5, uint16(i/50))
	}
	b.TagIdx[7] = NoTags
	if _, err := s.Merge("cpu\nhost=a", Meta{Name: "cpu", ByName: true, Tags: Tags{{"host", "a"}}}, b); err != nil {
		t.Fatal(err)
	}
	s.Group("cpu\nhost=a").SetWatermark(42 * minute)
	b2 := &Batch{}
	b2.Append(-5, -1e300, NoTags)
	if _, err := s.Merge("", Meta{}, b2); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSnapshot_RoundTrip(t *testing.T) {
	s := sampleStore(t)
	blob := s.Snapshot(nil, fp)
	r := New(Config{})
	st, err := r.Restore(blob, fp)
	if err != nil {
		t.Fatal(err)
	}
	if st.Groups != 2 || st.Points != 101 {
		t.Fatalf("stats = %+v", st)
	}
	for _, k := range []string{"cpu\nhost=a", ""} {
		g, h := s.Group(k), r.Group(k)
		checkGroup(t, h, g.Times(), g.Values())
		for i := range g.Len() {
			if !g.PointTags(i).Equal(h.PointTags(i)) {
				t.Fatalf("group %q point %d: tags %v, want %v", k, i, h.PointTags(i), g.PointTags(i))
			}
		}
		if gm, hm := g.Meta(), h.Meta(); gm.Name != hm.Name || gm.ByName != hm.ByName || !gm.Tags.Equal(hm.Tags) {
			t.Fatalf("meta %+v, want %+v", hm, gm)
		}
		gw, gok := g.Watermark()
		hw, hok := h.Watermark()
		if gw != hw || gok != hok {
			t.Fatalf("watermark %d %v, want %d %v", hw, hok, gw, gok)
		}
	}
	// Encoding is deterministic, so a restored store snapshots identically.
	if again := r.Snapshot(nil, fp); !bytes.Equal(again, blob) {
		t.Fatal("snapshot of restored store differs")
	}
}

func TestSnapshot_NeverEmpty(t *testing.T) {
	blob := New(Config{}).Snapshot(nil, fp)
	if len(blob) == 0 {
		t.Fatal("empty snapshot")
	}
	r := New(Config{})
	if st, err := r.Restore(blob, fp); err != nil || st.Groups != 0 {
		t.Fatalf("restore empty: %+v %v", st, err)
	}
}

func TestSnapshot_Compact(t *testing.T) {
	s := fillStore(1, 14*1440)
	blob := s.Snapshot(nil, fp)
	// 8 value bytes plus 1 byte of delta of deltas per point.
	if per := float64(len(blob)) / float64(s.Points()); per > 9.1 {
		t.Fatalf("%.1f snapshot bytes per point", per)
	}
}

func TestSnapshot_MaxGroupsOnRestore(t *testing.T) {
	blob := sampleStore(t).Snapshot(nil, fp)
	r := New(Config{MaxGroups: 1})
	st, err := r.Restore(blob, fp)
	if err != nil || st.Groups != 1 || st.Dropped != 1 {
		t.Fatalf("stats = %+v, err = %v", st, err)
	}
}

func TestSnapshot_TrimsOnRestore(t *testing.T) {
	blob := sampleStore(t).Snapshot(nil, fp)
	r := New(Config{History: 10 * time.Minute})
	if _, err := r.Restore(blob, fp); err != nil {
		t.Fatal(err)
	}
	if n := r.Group("cpu\nhost=a").Len(); n != 10 {
		t.Fatalf("%d points after restore with 10m history", n)
	}
}

// reseal recomputes the checksum after tampering with the body.
func reseal(b []byte) []byte {
	body := b[:len(b)-trailerLen]
	return binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, castagnoli))
}

func TestRestore_Errors(t *testing.T) {
	good := sampleStore(t).Snapshot(nil, fp)
	versioned := append([]byte(nil), good...)
	versioned[4] = 2
	tests := []struct {
		name string
		data []byte
		fp   string
		want error
	}{
		{"nil", nil, fp, ErrCorrupt},
		{"garbage", []byte("hello, this is not a snapshot at all"), fp, ErrCorrupt},
		{"gob-like", []byte{0x0e, 0xff, 0x81, 0x03, 0x01, 0x01, 0x05, 0x73, 0x74, 0x61}, fp, ErrCorrupt},
		{"future version", versioned, fp, ErrVersion},
		{"version zero", append([]byte("ANMD\x00"), good[5:]...), fp, ErrVersion},
		{"other fingerprint", good, `field="other" period=24h0m0s history=0s`, ErrFingerprint},
		{"trailing bytes resealed", reseal(append(append([]byte(nil), good[:len(good)-4]...), 0, 0, 0, 0, 0)), fp, ErrCorrupt},
		{"count too large resealed", reseal(append([]byte("ANMD\x01\x00\xff\xff\xff\x0f"), 0, 0, 0, 0)), "", ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sampleStore(t)
			_, err := s.Restore(tt.data, tt.fp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s.Len() != 2 {
				t.Fatal("failed restore changed the store")
			}
		})
	}
}

func TestRestore_TruncatedAtEveryLength(t *testing.T) {
	good := sampleStore(t).Snapshot(nil, fp)
	for n := range len(good) {
		s := New(Config{})
		if _, err := s.Restore(good[:n], fp); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrCorrupt", n, len(good), err)
		}
	}
}

func TestRestore_BitFlips(t *testing.T) {
	good := sampleStore(t).Snapshot(nil, fp)
	for i := range len(good) {
		for bit := range 8 {
			bad := append([]byte(nil), good...)
			bad[i] ^= 1 << bit
			_, err := New(Config{}).Restore(bad, fp)
			want := ErrCorrupt
			if i == 4 {
				want = ErrVersion
			}
			if !errors.Is(err, want) {
				t.Fatalf("bit %d of byte %d flipped: err = %v, want %v", bit, i, err, want)
			}
		}
	}
}

// TestRestore_ResealedBitFlips flips bits and fixes the checksum, so the
// structural checks are exercised: they may accept the data (a flipped value
// bit is a valid value) but must never panic or return another error kind.
func TestRestore_ResealedBitFlips(t *testing.T) {
	good := sampleStore(t).Snapshot(nil, fp)
	for i := headerLen; i < len(good)-trailerLen; i++ {
		for bit := range 8 {
			bad := append([]byte(nil), good...)
			bad[i] ^= 1 << bit
			_, err := New(Config{}).Restore(reseal(bad), fp)
			if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFingerprint) {
				t.Fatalf("byte %d bit %d: err = %v", i, bit, err)
			}
		}
	}
}

func FuzzRestore(f *testing.F) {
	f.Add(sampleStore(f).Snapshot(nil, fp))
	f.Add(New(Config{}).Snapshot(nil, fp))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(Config{})
		if _, err := s.Restore(data, fp); err != nil {
			return
		}
		// Whatever restores must snapshot and restore again.
		again := s.Snapshot(nil, fp)
		if _, err := New(Config{}).Restore(again, fp); err != nil {
			t.Fatalf("re-restore: %v", err)
		}
	})
}

func BenchmarkSnapshot(b *testing.B) {
	s := fillStore(100, 14*1440)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Snapshot(buf[:0], fp)
	}
	b.ReportMetric(float64(len(buf))/float64(s.Points()), "bytes/point")
}

func BenchmarkRestore(b *testing.B) {
	blob := fillStore(100, 14*1440).Snapshot(nil, fp)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Config{}).Restore(blob, fp); err != nil {
			b.Fatal(err)
		}
	}
}
