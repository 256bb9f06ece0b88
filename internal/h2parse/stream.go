package h2parse

import (
	"net/http"
	"time"
)

// Stream is one HTTP/2 stream (RFC 9113 §5): a request and, when seen, its
// response.
//
// A stream returned by Conn.Feed ended normally (Response.End set), was
// reset (Reset), or was dropped because the open streams passed a limit
// (1000 streams, or 16 MiB of decoded fields); a dropped stream, like one returned by Conn.Close, has Response nil or
// Response.End zero and Reset false.
type Stream struct {
	// ID is the stream identifier: odd for requests the client opened,
	// even for server pushes.
	ID uint32
	// Request is the request: headers from the client's HEADERS frame,
	// or, for a push, from the server's PUSH_PROMISE.
	Request Message
	// Response is nil when no final response headers were seen.
	Response *Message
	// Reset reports that RST_STREAM (from either side) ended the stream.
	Reset bool
	// Pushed reports a server push (RFC 9113 §8.4): the request is the one
	// the server promised, not one the client sent.
	Pushed bool
}

// Message is the request or the response half of a stream.
type Message struct {
	// Method, Scheme, Authority and Path are the request pseudo-header
	// fields (RFC 9113 §8.3.1); empty in responses or when absent.
	Method, Scheme, Authority, Path string
	// Status is the final response status (RFC 9113 §8.3.2); 1xx
	// informational responses are skipped. Zero in requests, or when
	// :status is missing or not a number.
	Status int
	// Header holds the regular (non-pseudo) fields with canonical keys,
	// values in the order sent; never nil. Several cookie fields are
	// joined with "; " into one value (RFC 9113 §8.2.3).
	Header http.Header
	// Trailer holds the fields of a trailing header block; nil when none.
	Trailer http.Header
	// Body is the DATA payload with padding removed, at most the Conn's
	// maxBody bytes. Content codings (gzip, br, ...) are not decoded.
	Body []byte
	// Truncated reports that the message had more DATA than Body holds.
	Truncated bool
	// Start is the capture time of the chunk holding the first byte of the
	// message's HEADERS (or PUSH_PROMISE) frame. End is the time of the
	// chunk that completed the frame carrying END_STREAM (for a push
	// request, the PUSH_PROMISE); zero if the message never ended.
	Start, End time.Time
}

// addBody appends DATA payload bytes, keeping at most limit bytes.
func (m *Message) addBody(p []byte, limit int) {
	if room := limit - len(m.Body); len(p) > room {
		p = p[:max(room, 0)]
		m.Truncated = true
	}
	m.Body = append(m.Body, p...)
}
