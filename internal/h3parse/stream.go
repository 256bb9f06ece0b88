package h3parse

import (
	"net/http"
	"time"
)

// Stream is one HTTP/3 request stream (RFC 9114 §4.1): a client-initiated
// bidirectional QUIC stream carrying a request and, when seen, its
// response.
//
// A stream returned by Conn.StreamData or Conn.StreamReset ended normally
// (the server's FIN: Response.End set when a final response was seen), was
// reset (Reset), could not be parsed (its frames or field sections were
// malformed or too big; Request and Response hold what was decoded before),
// or was dropped because the open streams passed a limit (1000 streams, or
// 16 MiB of decoded fields); a dropped or broken stream, like one returned
// by Conn.Close, has Response nil or Response.End zero and Reset false.
type Stream struct {
	// ID is the QUIC stream id (RFC 9000 §2.1), a multiple of 4.
	ID uint64
	// Request is the request: the fields of the client's first HEADERS
	// frame, its DATA and trailers.
	Request Message
	// Response is nil when no final response fields were seen (or could
	// not be decoded yet, see Conn.Close).
	Response *Message
	// Reset reports that either side reset its direction of the stream
	// (RESET_STREAM, RFC 9000 §19.4) before ending it.
	Reset bool
}

// Message is the request or the response half of a stream.
type Message struct {
	// Method, Scheme, Authority and Path are the request pseudo-header
	// fields (RFC 9114 §4.3.1); empty in responses or when absent.
	Method, Scheme, Authority, Path string
	// Status is the final response status (RFC 9114 §4.3.2); 1xx
	// interim responses are skipped (§4.1). Zero in requests, or when
	// :status is missing or not a number.
	Status int
	// Header holds the regular (non-pseudo) fields with canonical keys,
	// values in the order sent; never nil. Several cookie fields are
	// joined with "; " into one value (RFC 9114 §4.2.1).
	Header http.Header
	// Trailer holds the fields of a trailing HEADERS frame (RFC 9114
	// §4.1); nil when none.
	Trailer http.Header
	// Body is the payload of the DATA frames, at most the Conn's maxBody
	// bytes. Content codings (gzip, br, ...) are not decoded.
	Body []byte
	// Truncated reports that the message had more DATA than Body holds.
	Truncated bool
	// Start is the capture time of the data holding the first byte of
	// the message's HEADERS frame. End is the time of the data that ended
	// the message (the FIN of its direction of the stream); zero if the
	// message never ended, or ended inside a frame.
	Start, End time.Time
}
