package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// ErrNotAnomalyd: the peer answered, but not as anomalyd answers info.
var ErrNotAnomalyd = errors.New("not anomalyd's answer")

// probeFrameLimit caps the answer to a probe: an InfoResponse is small.
const probeFrameLimit = 1 << 20

// Probe asks the UDF at the other end of conn for its info, as kapacitord
// does when it starts, and checks that the answer is anomalyd's: an
// InfoResponse that wants BATCH, provides STREAM and has the option field
// (other options may differ between versions). It sets no deadline (the caller does) and does not close
// conn. A daemon that answers is alive and serving its protocol; it ends
// the probe's connection when conn is closed.
func Probe(conn io.ReadWriter) error {
	req, err := proto.Marshal(&udfpb.Request{Message: &udfpb.Request_Info{Info: &udfpb.InfoRequest{}}})
	if err != nil {
		return fmt.Errorf("encode info request: %w", err)
	}
	// One write: a peer that answers and closes after the first bytes it
	// reads must not turn into a broken pipe here.
	if _, err := conn.Write(append(binary.AppendUvarint(nil, uint64(len(req))), req...)); err != nil {
		return fmt.Errorf("send info request: %w", err)
	}
	frame, err := readFrame(bufio.NewReader(conn), nil, probeFrameLimit)
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("read info response: the daemon closed the connection without answering")
	case err != nil:
		return fmt.Errorf("read info response: %w", err)
	}
	var resp udfpb.Response
	if err := proto.Unmarshal(frame, &resp); err != nil {
		return fmt.Errorf("%w: undecodable response: %w", ErrNotAnomalyd, err)
	}
	info := resp.GetInfo()
	if info == nil {
		if e := resp.GetError(); e != nil {
			return fmt.Errorf("%w: error response %q", ErrNotAnomalyd, e.GetError())
		}
		return fmt.Errorf("%w: %T instead of an info response", ErrNotAnomalyd, resp.GetMessage())
	}
	if info.GetWants() != udfpb.EdgeType_BATCH || info.GetProvides() != udfpb.EdgeType_STREAM {
		return fmt.Errorf("%w: wants %s and provides %s, anomalyd wants BATCH and provides STREAM", ErrNotAnomalyd, info.GetWants(), info.GetProvides())
	}
	if f := info.GetOptions()["field"]; f == nil || !slices.Equal(f.GetValueTypes(), []udfpb.ValueType{udfpb.ValueType_STRING}) {
		return fmt.Errorf("%w: no option field of type STRING", ErrNotAnomalyd)
	}
	return nil
}
