package h2parse

import (
	"errors"
	"fmt"
)

// Kinds of Error, for errors.Is.
var (
	// ErrNotHTTP2 means the bytes are not an HTTP/2 connection seen from its
	// start: the client preface or a side's initial SETTINGS is missing.
	ErrNotHTTP2 = errors.New("not HTTP/2")
	// ErrProtocol means a frame or a header block broke RFC 9113 or
	// RFC 7541 in a way the peers would have closed the connection for.
	ErrProtocol = errors.New("protocol error")
	// ErrLimit means a size limit this package sets to bound its memory
	// was exceeded (header block or decoded header size, dynamic table).
	ErrLimit = errors.New("limit exceeded")
)

// Error tells why and where parsing of a connection stopped.
type Error struct {
	// FromClient is the direction whose bytes were at fault.
	FromClient bool
	// Offset is the byte offset in that direction of the frame (or the
	// preface byte) at fault.
	Offset int64
	// Err wraps ErrNotHTTP2, ErrProtocol or ErrLimit.
	Err error
}

func (e *Error) Error() string {
	dir := "server"
	if e.FromClient {
		dir = "client"
	}
	return fmt.Sprintf("h2parse: %s bytes at offset %d: %v", dir, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
