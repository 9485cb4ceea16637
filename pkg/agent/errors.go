package agent

import "errors"

var (
	// ErrFrameTooLarge: a frame's length prefix exceeds Config.MaxFrameSize.
	ErrFrameTooLarge = errors.New("frame too large")

	// ErrProtocol is wrapped by every violation of the UDF protocol by the
	// peer: an undecodable frame, data before init, a point outside a
	// batch, and so on. Such errors end the connection with an
	// ErrorResponse.
	ErrProtocol = errors.New("protocol error")

	// ErrInvalidResponse: the writer refused to send a Response that would
	// crash kapacitord (empty, begin/end, negative size, unknown type).
	ErrInvalidResponse = errors.New("invalid response")
)
