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
		return nil, lengthError(err)
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("read frame: %d bytes, limit %d: %w", n, limit, ErrFrameTooLarge)
	}
	return readPayload(r, buf, int(n))
}

// lengthError classifies an error reading a frame's length.
func lengthError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("read frame length: %w", err)
	}
	return fmt.Errorf("read frame length: %w: %w", ErrProtocol, err)
}

// readPayload reads size bytes into buf (reusing its capacity). A buffer
// larger than frameChunk grows as the bytes arrive, so a peer that
// announces a large frame and sends little costs little.
func readPayload(r io.Reader, buf []byte, size int) ([]byte, error) {
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

// frameReader reads frames without copying those that fit in its read
// buffer: next returns a slice of that buffer, valid until the next call.
// Larger frames are read into a buffer of their own (readFrame).
type frameReader struct {
	r     *bufio.Reader
	buf   []byte
	limit int
}

func newFrameReader(r io.Reader, size, limit int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, size), limit: limit}
}

func (fr *frameReader) next() ([]byte, error) {
	n, err := binary.ReadUvarint(fr.r)
	if err != nil {
		return nil, lengthError(err)
	}
	if n > uint64(fr.limit) {
		return nil, &oversizeError{size: n, limit: fr.limit}
	}
	if int(n) <= fr.r.Size() {
		b, err := fr.r.Peek(int(n))
		if err != nil {
			return nil, fmt.Errorf("read frame: %w", unexpected(err))
		}
		fr.r.Discard(len(b)) // buffered: cannot fail, and b stays valid
		return b, nil
	}
	b, err := readPayload(fr.r, fr.buf, int(n))
	if err != nil {
		return nil, err
	}
	if cap(b) <= keepFrameSize {
		fr.buf = b[:0]
	}
	return b, nil
}

// oversizeError reports a frame over the size limit; the reader is left
// just after the frame's length prefix.
type oversizeError struct {
	size  uint64
	limit int
}

func (e *oversizeError) Error() string {
	return fmt.Sprintf("read frame: %d bytes, limit %d: %v", e.size, e.limit, ErrFrameTooLarge)
}

func (e *oversizeError) Unwrap() error { return ErrFrameTooLarge }

// skip discards the payload of a frame whose length prefix was read.
func (fr *frameReader) skip(n uint64) error {
	for n > 0 {
		step := int(min(n, 1<<30))
		if _, err := fr.r.Discard(step); err != nil {
			return fmt.Errorf("skip frame: %w", unexpected(err))
		}
		n -= uint64(step)
	}
	return nil
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
