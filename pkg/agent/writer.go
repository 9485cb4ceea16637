package agent

import (
	"bufio"
	"fmt"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// validateResponse refuses the responses that crash kapacitord or that a
// STREAM-providing UDF never sends: an empty Response, a oneof holding nil,
// BeginBatch/EndBatch (and with them a negative size), unknown types.
func validateResponse(r *udfpb.Response) error {
	if r == nil {
		return fmt.Errorf("%w: nil", ErrInvalidResponse)
	}
	var inner proto.Message
	switch m := r.GetMessage().(type) {
	case nil:
		return fmt.Errorf("%w: empty (no message set)", ErrInvalidResponse)
	case *udfpb.Response_Info:
		inner = m.Info
	case *udfpb.Response_Init:
		inner = m.Init
	case *udfpb.Response_Keepalive:
		inner = m.Keepalive
	case *udfpb.Response_Snapshot:
		inner = m.Snapshot
	case *udfpb.Response_Restore:
		inner = m.Restore
	case *udfpb.Response_Error:
		inner = m.Error
	case *udfpb.Response_Point:
		inner = m.Point
	default:
		// Begin and End: anomalyd provides STREAM, so batch framing is
		// never sent (an end without begin, or a negative size, crashes
		// kapacitord).
		return fmt.Errorf("%w: %T is never sent", ErrInvalidResponse, m)
	}
	if inner == nil || !inner.ProtoReflect().IsValid() {
		return fmt.Errorf("%w: %T holds nil", ErrInvalidResponse, r.GetMessage())
	}
	return nil
}

// writer owns the write side: it validates, encodes and writes every
// response, answers due keepalives and flushes whenever nothing more is
// queued. After a write error or a close order it keeps draining the
// queue, writing nothing, until the session closes it.
func (s *session) writer() {
	defer close(s.writerDone)
	defer func() {
		if p := recover(); p != nil {
			s.recovered("writer", p)
			s.closeConn()
		}
	}()
	bw := bufio.NewWriterSize(s.conn, writeBufSize)
	var buf []byte
	dead := false
	write := func(r *udfpb.Response) {
		if dead {
			return
		}
		if err := validateResponse(r); err != nil {
			s.stats.InvalidResponses.Add(1)
			s.logger().Error("response not sent", zap.Error(err))
			return
		}
		var err error
		if buf, err = (proto.MarshalOptions{}).MarshalAppend(buf[:0], r); err != nil {
			s.stats.InvalidResponses.Add(1)
			s.logger().Error("response not sent", zap.Error(err))
			return
		}
		if err := writeFrame(bw, buf); err != nil {
			s.writeFailed(err)
			dead = true
		}
	}
	keepalive := &udfpb.KeepaliveResponse{}
	for {
		select {
		case <-s.ka:
			keepalive.Time = s.kaTime.Load()
			write(&udfpb.Response{Message: &udfpb.Response_Keepalive{Keepalive: keepalive}})
			s.stats.KeepalivesAnswered.Add(1)
		case m, ok := <-s.out:
			if !ok {
				if !dead {
					if err := bw.Flush(); err != nil {
						s.writeFailed(err)
					}
				}
				return
			}
			if m.close {
				if !dead {
					if err := bw.Flush(); err != nil {
						s.writeFailed(err)
					}
				}
				dead = true
				s.closeConn()
				continue
			}
			write(m.resp)
		}
		if !dead && len(s.out) == 0 && len(s.ka) == 0 {
			if err := bw.Flush(); err != nil {
				s.writeFailed(err)
				dead = true
			}
		}
	}
}

func (s *session) writeFailed(err error) {
	if !s.closing.Load() {
		s.logger().Warn("write failed, closing the connection", zap.Error(err))
	}
	s.failed.Store(true)
	s.closeConn()
}
