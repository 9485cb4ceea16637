package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// frameChunk is how much of a frame is allocated before its bytes arrive:
// a peer that announces a large frame and sends little costs little.
const frameChunk = 1 << 20

// readFrame reads one frame (uvarint length + payload) into buf, reusing
// its capacity, and returns the payload. io.EOF means a clean end at a
// frame boundary; an end inside a frame is io.ErrUnexpectedEOF. A length
// over limit is ErrFrameTooLarge, reported before any allocation.
func readFrame(r *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("read frame length: %w", err)
		}
		return nil, fmt.Errorf("read frame length: %w: %w", ErrProtocol, err)
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("read frame: %d bytes, limit %d: %w", n, limit, ErrFrameTooLarge)
	}
	size := int(n)
	if size <= cap(buf) {
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read frame: %w", unexpected(err))
		}
		return buf, nil
	}
	buf = buf[:0]
	for len(buf) < size {
		chunk := min(size-len(buf), max(frameChunk, len(buf)))
		start := len(buf)
		buf = append(buf, make([]byte, chunk)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, fmt.Errorf("read frame: %w", unexpected(err))
		}
	}
	return buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeFrame writes one frame: the uvarint length of msg, then msg.
func writeFrame(w io.Writer, msg []byte) error {
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(msg)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err := w.Write(msg)
	return err
}
