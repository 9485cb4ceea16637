package state

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

const minute = int64(time.Minute)

func batchOf(times []int64, values []float64) *Batch {
	b := &Batch{TagSets: []Tags{{{"host", "a"}}}}
	for i, t := range times {
		b.Append(t, values[i], 0)
	}
	return b
}

func series(start, step int64, n int, f func(i int) float64) ([]int64, []float64) {
	ts, vs := make([]int64, n), make([]float64, n)
	for i := range n {
		ts[i], vs[i] = start+int64(i)*step, f(i)
	}
	return ts, vs
}

func checkGroup(t testing.TB, g *Group, wantT []int64, wantV []float64) {
	t.Helper()
	if !slices.Equal(g.Times(), wantT) {
		t.Fatalf("times = %v, want %v", g.Times(), wantT)
	}
	if !slices.Equal(g.Values(), wantV) {
		t.Fatalf("values = %v, want %v", g.Values(), wantV)
	}
}

func TestStore_MergeAppendOverlapLate(t *testing.T) {
	s := New(Config{History: time.Hour})
	meta := Meta{Name: "cpu", Tags: Tags{{"host", "a"}}}
	if _, err := s.Merge("g", meta, batchOf([]int64{10, 20, 30}, []float64{1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	// Overlap: 20 and 30 again with new values, 40 new.
	st, err := s.Merge("g", meta, batchOf([]int64{20, 30, 40}, []float64{22, 33, 4}))
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 1 || st.Replaced != 2 {
		t.Fatalf("stats = %+v, want 1 added, 2 replaced", st)
	}
	// Late points, unsorted, with an in-batch duplicate (last wins).
	st, _ = s.Merge("g", meta, batchOf([]int64{25, 5, 25, 15}, []float64{0, 0.5, 2.5, 1.5}))
	if st.Added != 3 || st.Duplicates != 1 {
		t.Fatalf("stats = %+v, want 3 added, 1 duplicate", st)
	}
	checkGroup(t, s.Group("g"), []int64{5, 10, 15, 20, 25, 30, 40}, []float64{0.5, 1, 1.5, 22, 2.5, 33, 4})
	if m := s.Group("g").Meta(); m.Name != "cpu" || !m.Tags.Equal(meta.Tags) {
		t.Fatalf("meta = %+v", m)
	}
}

// TestStore_MergeRandom checks Merge against a map-based model.
func TestStore_MergeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := New(Config{History: time.Duration(500)})
	model := map[int64]float64{}
	newest := int64(0)
	for range 300 {
		n := rng.IntN(40)
		b := &Batch{}
		base := newest - 100 + rng.Int64N(150)
		for range n {
			ts := base + rng.Int64N(60)
			v := rng.Float64()
			b.Append(ts, v, NoTags)
		}
		if b.Len() == 0 {
			continue
		}
		// model: last of each timestamp wins
		for i, ts := range b.Times {
			model[ts] = b.Values[i]
			newest = max(newest, ts)
		}
		for ts := range model {
			if ts <= newest-500 {
				delete(model, ts)
			}
		}
		if _, err := s.Merge("g", Meta{}, b); err != nil {
			t.Fatal(err)
		}
		g := s.Group("g")
		keys := make([]int64, 0, len(model))
		for ts := range model {
			keys = append(keys, ts)
		}
		slices.Sort(keys)
		vals := make([]float64, len(keys))
		for i, k := range keys {
			vals[i] = model[k]
		}
		checkGroup(t, g, keys, vals)
	}
}

func TestStore_DefaultHistory(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		step int64
		want int64 // history in ns
	}{
		{"minutely derives 1d", Config{}, minute, 14 * day},
		{"hourly derives 1d", Config{}, 60 * minute, 14 * day},
		{"daily derives 1w", Config{}, day, 14 * week},
		{"period given", Config{Period: 2 * time.Hour}, minute, 28 * 60 * minute},
		{"history given", Config{Period: time.Hour, History: 3 * time.Hour}, minute, 3 * 60 * minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.cfg)
			n := int(2*tt.want/tt.step) + 3
			ts, vs := series(0, tt.step, n, func(i int) float64 { return float64(i) })
			if _, err := s.Merge("g", Meta{}, batchOf(ts, vs)); err != nil {
				t.Fatal(err)
			}
			g := s.Group("g")
			got := g.Times()
			if newest := got[len(got)-1]; got[0] <= newest-tt.want || got[0]-tt.step > newest-tt.want {
				t.Fatalf("history spans %d ns, want %d", newest-got[0], tt.want)
			}
		})
	}
}

func TestStore_Expire(t *testing.T) {
	s := New(Config{History: time.Hour})
	h := int64(time.Hour)
	s.Merge("idle", Meta{}, batchOf([]int64{0, minute}, []float64{1, 2}))
	s.Merge("busy", Meta{}, batchOf([]int64{0, minute}, []float64{1, 2}))
	// Data time moves on in "busy" only; "idle" expires once it is more than
	// 2 × history behind the newest point of the store.
	var expired int
	for ts := 2 * minute; ts <= minute+2*h; ts += minute {
		st, _ := s.Merge("busy", Meta{}, batchOf([]int64{ts}, []float64{1}))
		expired += st.Expired
	}
	if expired != 0 || s.Group("idle") == nil {
		t.Fatalf("idle group expired at exactly 2 × history")
	}
	s.Merge("busy", Meta{}, batchOf([]int64{2*minute + 2*h}, []float64{1}))
	if s.Expire(); s.Group("idle") != nil {
		t.Fatal("idle group still there after 2 × history")
	}
	if s.Group("busy") == nil || s.Len() != 1 {
		t.Fatal("busy group expired")
	}
}

func TestStore_MaxGroups(t *testing.T) {
	s := New(Config{MaxGroups: 2})
	for _, k := range []string{"a", "b"} {
		if _, err := s.Merge(k, Meta{}, batchOf([]int64{1}, []float64{1})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Merge("c", Meta{}, batchOf([]int64{1}, []float64{1})); !errors.Is(err, ErrTooManyGroups) {
		t.Fatalf("err = %v, want ErrTooManyGroups", err)
	}
	if _, err := s.Merge("a", Meta{}, batchOf([]int64{2}, []float64{1})); err != nil {
		t.Fatalf("existing group refused: %v", err)
	}
	if s.Len() != 2 {
		t.Fatalf("len = %d", s.Len())
	}
}

func TestStore_PointTags(t *testing.T) {
	s := New(Config{})
	b := &Batch{TagSets: []Tags{{{"host", "a"}, {"pod", "1"}}, {{"host", "a"}, {"pod", "2"}}}}
	b.Append(30, 3, 1)
	b.Append(10, 1, 0)
	b.Append(20, 2, NoTags)
	s.Merge("g", Meta{}, b)
	g := s.Group("g")
	if got := g.PointTags(0); !got.Equal(Tags{{"host", "a"}, {"pod", "1"}}) {
		t.Fatalf("tags[0] = %v", got)
	}
	if got := g.PointTags(1); got != nil {
		t.Fatalf("tags[1] = %v, want nil", got)
	}
	if got := g.PointTags(2); !got.Equal(Tags{{"host", "a"}, {"pod", "2"}}) {
		t.Fatalf("tags[2] = %v", got)
	}
	// A second batch with the same tag sets reuses the table.
	b2 := &Batch{TagSets: []Tags{{{"host", "a"}, {"pod", "2"}}}}
	b2.Append(40, 4, 0)
	s.Merge("g", Meta{}, b2)
	if n := len(g.tags.sets); n != 2 {
		t.Fatalf("%d tag sets, want 2", n)
	}
}

func TestStore_TagTableCompacts(t *testing.T) {
	s := New(Config{History: time.Duration(10)})
	for i := range 1000 {
		b := &Batch{TagSets: []Tags{{{"id", string(rune('a' + i%26))}, {"n", string(rune(i))}}}}
		b.Append(int64(i), 1, 0)
		s.Merge("g", Meta{}, b)
	}
	g := s.Group("g")
	if n := len(g.tags.sets); n > 128 {
		t.Fatalf("%d tag sets kept for %d points", n, g.Len())
	}
	for i := range g.Len() {
		want := string(rune(int(g.Times()[i])))
		if got := g.PointTags(i); got[1].Value != want {
			t.Fatalf("point %d: tags %v after compaction", i, got)
		}
	}
}

// fillStore makes groups × points minutely points, each with its own tags.
func fillStore(groups, points int) *Store {
	s := New(Config{})
	b := &Batch{}
	for gi := range groups {
		key := string(rune('A'+gi%26)) + string(rune(gi))
		for off := 0; off < points; off += 60 {
			b.Reset()
			b.TagSets = append(b.TagSets, Tags{{"host", key}})
			for i := off; i < min(off+60, points); i++ {
				b.Append(int64(i)*minute, float64(i%97), 0)
			}
			s.Merge(key, Meta{Name: "cpu", Tags: Tags{{"host", key}}}, b)
		}
	}
	return s
}

// bytesPerPoint measures the heap held by a store of 14 days of minutely
// points per group.
func bytesPerPoint(tb testing.TB) float64 {
	const groups, points = 20, 14 * 1440
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := fillStore(groups, points)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s.Points() != groups*points {
		tb.Fatalf("%d points stored, want %d", s.Points(), groups*points)
	}
	perPoint := float64(after.HeapAlloc-before.HeapAlloc) / float64(s.Points())
	runtime.KeepAlive(s)
	return perPoint
}

func TestStore_BytesPerPoint(t *testing.T) {
	if got := bytesPerPoint(t); got > 24 {
		t.Fatalf("%.1f bytes per stored point, want ≤ 24", got)
	}
}

func BenchmarkStore_BytesPerPoint(b *testing.B) {
	var got float64
	for b.Loop() {
		got = bytesPerPoint(b)
	}
	b.ReportMetric(got, "bytes/point")
}

// BenchmarkStore_Merge: hourly batches of 60 minutely points into a full
// 14-day history.
func BenchmarkStore_Merge(b *testing.B) {
	s := fillStore(1, 14*1440)
	batch := &Batch{}
	next := int64(14 * 1440)
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset()
		batch.TagSets = append(batch.TagSets, Tags{{"host", "A\x00"}})
		for range 60 {
			batch.Append(next*minute, 1, 0)
			next++
		}
		if _, err := s.Merge("A\x00", Meta{Name: "cpu"}, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*60)/b.Elapsed().Seconds(), "points/s")
}
