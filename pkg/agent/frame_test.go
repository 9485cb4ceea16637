package agent

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFrame_SpecVectors checks the test vectors of spec/udf-protocol.md §2,
// produced with Kapacitor's own encoder.
func TestFrame_SpecVectors(t *testing.T) {
	tests := []struct {
		name  string
		msg   proto.Message
		frame string
	}{
		{"Request.info", &udfpb.Request{Message: &udfpb.Request_Info{Info: &udfpb.InfoRequest{}}}, "02 0a 00"},
		{"Request.snapshot", &udfpb.Request{Message: &udfpb.Request_Snapshot{Snapshot: &udfpb.SnapshotRequest{}}}, "02 22 00"},
		{"Request.keepalive", &udfpb.Request{Message: &udfpb.Request_Keepalive{Keepalive: &udfpb.KeepaliveRequest{Time: 1}}}, "04 1a 02 08 01"},
		{"Response.keepalive", &udfpb.Response{Message: &udfpb.Response_Keepalive{Keepalive: &udfpb.KeepaliveResponse{}}}, "02 1a 00"},
		{"Response.init", &udfpb.Response{Message: &udfpb.Response_Init{Init: &udfpb.InitResponse{Success: true}}}, "04 12 02 08 01"},
		{"Response.info", &udfpb.Response{Message: &udfpb.Response_Info{Info: &udfpb.InfoResponse{
			Wants: udfpb.EdgeType_BATCH, Provides: udfpb.EdgeType_STREAM,
			Options: map[string]*udfpb.OptionInfo{"w": {ValueTypes: []udfpb.ValueType{udfpb.ValueType_INT, udfpb.ValueType_DURATION}}},
		}}}, "0f 0a 0d 08 01 1a 09 0a 01 77 12 04 0a 02 01 04"},
		{"Request.end", &udfpb.Request{Message: &udfpb.Request_End{End: &udfpb.EndBatch{Name: "m", Tmax: 2}}}, "08 92 01 05 0a 01 6d 18 02"},
		{"Response.point", &udfpb.Response{Message: &udfpb.Response_Point{Point: &udfpb.Point{ByName: true, FieldsBool: map[string]bool{"x": true}}}}, "0c 8a 01 09 58 01 62 05 0a 01 78 10 01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := proto.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			var w bytes.Buffer
			if err := writeFrame(&w, msg); err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.frame); !bytes.Equal(w.Bytes(), want) {
				t.Fatalf("frame % x, want % x", w.Bytes(), want)
			}
			got, err := readFrame(bufio.NewReader(&w), nil, 1<<20)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("read back % x, %v", got, err)
			}
		})
	}
}

func TestReadFrame_Ends(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"clean EOF", "", io.EOF},
		{"EOF in length", "ff", io.ErrUnexpectedEOF},
		{"EOF in payload", "03 0a 00", io.ErrUnexpectedEOF},
		{"too large", "ff ff ff ff 0f", ErrFrameTooLarge},
		{"just over the cap", "81 08", ErrFrameTooLarge}, // 1025
		{"varint overflow", "ff ff ff ff ff ff ff ff ff ff 01", ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFrame(bufio.NewReader(bytes.NewReader(unhex(t, tt.in))), nil, 1024)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestReadFrame_LargeGrowsWithData: a frame above the chunk size is read
// whole, and reuses a large enough buffer.
func TestReadFrame_Large(t *testing.T) {
	msg := bytes.Repeat([]byte{7}, 3*frameChunk+5)
	var w bytes.Buffer
	writeFrame(&w, msg)
	writeFrame(&w, msg[:10])
	r := bufio.NewReader(&w)
	got, err := readFrame(r, nil, 64<<20)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("large frame: %d bytes, %v", len(got), err)
	}
	got2, err := readFrame(r, got[:0], 64<<20)
	if err != nil || !bytes.Equal(got2, msg[:10]) || &got2[0] != &got[0] {
		t.Fatal("buffer not reused")
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}) // claims 4 GiB
	f.Add([]byte{0x02, 0x0a, 0x00})
	f.Add([]byte{0x04, 0x1a, 0x02, 0x08, 0x01, 0x02, 0x22})
	f.Add([]byte{})
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var buf []byte
		for {
			got, err := readFrame(r, buf, limit)
			if err != nil {
				break
			}
			if len(got) > limit || cap(got) > max(limit, cap(buf)) {
				t.Fatalf("frame of %d bytes (cap %d) past the %d limit", len(got), cap(got), limit)
			}
			buf = got[:0]
		}
		// The session's zero-copy reader sees the same frames.
		r = bufio.NewReader(bytes.NewReader(in))
		fr := newFrameReader(bytes.NewReader(in), 16, limit)
		for {
			want, werr := readFrame(r, nil, limit)
			got, gerr := fr.next()
			if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
				t.Fatalf("frameReader: %q %v, readFrame: %q %v", got, gerr, want, werr)
			}
			if werr != nil {
				break
			}
		}
		var w bytes.Buffer
		if err := writeFrame(&w, in); err != nil {
			t.Fatal(err)
		}
		got, err := readFrame(bufio.NewReader(&w), nil, 1<<20)
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("round trip: %q, %v", got, err)
		}
	})
}
