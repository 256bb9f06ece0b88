package h3parse

import (
	"errors"
	"fmt"
)

// Kinds of Error, for errors.Is.
var (
	// ErrProtocol means a control stream or a QPACK encoder stream broke
	// RFC 9114 or RFC 9204 in a way the peers would have closed the
	// connection for, or in a way that leaves the observer out of step.
	ErrProtocol = errors.New("protocol error")
	// ErrLimit means a size limit this package sets to bound its memory
	// was exceeded (SETTINGS frame, dynamic table capacity, encoder
	// instruction).
	ErrLimit = errors.New("limit exceeded")
)

// errBlocked reports a field section that needs dynamic table entries
// (or the peer's SETTINGS) not seen yet (RFC 9204 §2.1.2). It never
// leaves the package.
var errBlocked = errors.New("blocked on the encoder stream")

// Error tells why and where parsing of a connection stopped.
type Error struct {
	// FromClient is the direction whose bytes were at fault.
	FromClient bool
	// Stream is the QUIC stream id (RFC 9000 §2.1) whose bytes were at
	// fault: a control or QPACK encoder stream.
	Stream uint64
	// Offset is the byte offset in that stream of the frame or encoder
	// instruction at fault.
	Offset int64
	// Err wraps ErrProtocol or ErrLimit.
	Err error
}

func (e *Error) Error() string {
	dir := "server"
	if e.FromClient {
		dir = "client"
	}
	return fmt.Sprintf("h3parse: %s stream %d at offset %d: %v", dir, e.Stream, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

func limitErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrLimit}, args...)...)
}
