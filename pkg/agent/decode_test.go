package agent

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/state"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// reference decodes a Request frame with the generated code and returns
// what decodePoint should find.
func reference(t testing.TB, frame []byte, field string) (pointFrame, map[string]string, bool) {
	var r udfpb.Request
	if err := proto.Unmarshal(frame, &r); err != nil {
		return pointFrame{}, nil, false
	}
	p := r.GetPoint()
	if p == nil {
		return pointFrame{}, nil, false
	}
	want := pointFrame{time: p.Time}
	if _, ok := p.FieldsString[field]; ok {
		want.kind = fieldString
	}
	if v, ok := p.FieldsInt[field]; ok {
		want.kind, want.value = fieldInt, float64(v)
	}
	if v, ok := p.FieldsDouble[field]; ok {
		want.kind, want.value = fieldDouble, v
	}
	if _, ok := p.FieldsBool[field]; ok {
		want.kind = fieldBool
	}
	return want, p.Tags, true
}

func checkDecode(t testing.TB, frame []byte, field string) {
	want, wantTags, ok := reference(t, frame, field)
	if !ok {
		return
	}
	num, payload, err := splitRequest(frame)
	if err != nil || num != reqPoint {
		t.Fatalf("split: %d %v", num, err)
	}
	var got pointFrame
	if err := decodePoint(payload, field, &got); err != nil {
		t.Fatalf("decodePoint: %v (proto.Unmarshal accepted it)", err)
	}
	if got.time != want.time || got.kind != want.kind {
		t.Fatalf("got time %d kind %d, want %d %d", got.time, got.kind, want.time, want.kind)
	}
	if (got.kind == fieldDouble || got.kind == fieldInt) && !(got.value == want.value || math.IsNaN(got.value) && math.IsNaN(want.value)) {
		t.Fatalf("value %v, want %v", got.value, want.value)
	}
	var bb batchBuilder
	bb.b = new(state.Batch)
	idx, ok := bb.tagSet(got.tags)
	if !ok {
		t.Fatal("valid tags refused")
	}
	tags := bb.b.TagSets[idx]
	if len(tags) != len(wantTags) {
		t.Fatalf("tags %v, want %v", tags, wantTags)
	}
	for _, kv := range tags {
		if wantTags[kv.Key] != kv.Value {
			t.Fatalf("tags %v, want %v", tags, wantTags)
		}
	}
}

func randomPoint(rng *rand.Rand) *udfpb.Point {
	p := &udfpb.Point{Time: rng.Int64() - math.MaxInt64/2, Group: "g", Name: "cpu", Dimensions: []string{"a"}}
	keys := []string{"value", "other", "x"}
	pick := func() string { return keys[rng.IntN(len(keys))] }
	if rng.IntN(2) == 0 {
		p.Tags = map[string]string{}
		for range rng.IntN(5) {
			p.Tags[string(rune('a'+rng.IntN(6)))] = string(rune('A' + rng.IntN(26)))
		}
	}
	if rng.IntN(2) == 0 {
		p.FieldsDouble = map[string]float64{pick(): rng.NormFloat64()}
	}
	if rng.IntN(3) == 0 {
		p.FieldsInt = map[string]int64{pick(): rng.Int64()}
	}
	if rng.IntN(4) == 0 {
		p.FieldsString = map[string]string{pick(): "s"}
	}
	if rng.IntN(5) == 0 {
		p.FieldsBool = map[string]bool{pick(): rng.IntN(2) == 0}
	}
	return p
}

// TestDecodePoint_MatchesProto compares the hand-written decoder with the
// generated one on random points, including Kapacitor's field precedence.
func TestDecodePoint_MatchesProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		frame, err := proto.Marshal(&udfpb.Request{Message: &udfpb.Request_Point{Point: randomPoint(rng)}})
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, frame, "value")
	}
}

func TestDecodeBegin(t *testing.T) {
	frame, _ := proto.Marshal(&udfpb.BeginBatch{Name: "cpu", Group: "cpu\nhost=a", Tags: map[string]string{"z": "1", "a": "2"}, Size: 12, ByName: true})
	b, err := decodeBegin(frame)
	if err != nil {
		t.Fatal(err)
	}
	if b.name != "cpu" || b.group != "cpu\nhost=a" || b.size != 12 || !b.byName ||
		!slices.Equal(b.tags, state.Tags{{Key: "a", Value: "2"}, {Key: "z", Value: "1"}}) {
		t.Fatalf("begin = %+v", b)
	}
}

func FuzzDecodePoint(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		frame, _ := proto.Marshal(&udfpb.Request{Message: &udfpb.Request_Point{Point: randomPoint(rng)}})
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		// Never panics; agrees with proto.Unmarshal whenever that accepts.
		if num, payload, err := splitRequest(frame); err == nil && num == reqPoint {
			var p pointFrame
			_ = decodePoint(payload, "value", &p)
			_, _ = decodeBegin(payload)
		}
		checkDecode(t, frame, "value")
	})
}

func TestValidateResponse(t *testing.T) {
	bad := []*udfpb.Response{
		nil,
		{},
		{Message: &udfpb.Response_Begin{Begin: &udfpb.BeginBatch{Size: -1}}},
		{Message: &udfpb.Response_Begin{Begin: &udfpb.BeginBatch{}}},
		{Message: &udfpb.Response_End{End: &udfpb.EndBatch{}}},
		{Message: &udfpb.Response_Point{}},
		{Message: &udfpb.Response_Info{}},
		{Message: &udfpb.Response_Keepalive{}},
	}
	for i, r := range bad {
		if err := validateResponse(r); err == nil {
			t.Errorf("case %d: %v accepted", i, r)
		}
	}
	good := []*udfpb.Response{
		{Message: &udfpb.Response_Point{Point: &udfpb.Point{}}},
		{Message: &udfpb.Response_Keepalive{Keepalive: &udfpb.KeepaliveResponse{}}},
		errorResponse("x"),
	}
	for i, r := range good {
		if err := validateResponse(r); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
}
