// Package h2parse follows an HTTP/2 connection (RFC 9113) from the two
// plaintext byte streams a passive observer sees (for example after TLS
// decryption of a capture) and turns them into request/response pairs.
//
// The parser is passive and lenient: it checks only what it needs to stay
// in step with the peers (framing, field blocks, HPACK state) and stops at
// the first violation of those, keeping what it has. Memory is bounded
// whatever the input: DATA payloads are never buffered beyond the body cap,
// field blocks and decoded fields are capped, and the streams tracked at
// once are limited in number and in the fields they hold.
package h2parse

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Bounds on what open streams hold; going over returns the oldest open
// streams as incomplete. With them, a Conn holds at most about
// 2*maxStreams*maxBody body bytes plus maxOpenHeaderBytes of fields.
const (
	maxStreams = 1000
	// maxOpenHeaderBytes bounds the decoded fields kept on open streams,
	// counted as for maxHeaderBytes.
	maxOpenHeaderBytes = 16 << 20
)

// Conn follows one HTTP/2 connection from its two byte streams.
//
// Each direction's bytes must be fed in order. Across directions the order
// must respect causality, as a capture does: a response's bytes must not be
// fed before the bytes of the request it answers (a response to a request
// not yet seen is dropped). A Conn is not safe for concurrent use.
type Conn struct {
	maxBody        int
	client, server *side

	streams     map[uint32]*Stream // open streams by id
	order       []*Stream          // open streams, oldest first
	cost        map[uint32]int     // field bytes kept on each open stream
	headerBytes int                // their sum
	lastClient  uint32             // highest stream id the client opened (RFC 9113 §5.1.1)
	lastPush    uint32             // highest stream id the server promised

	done   []*Stream // streams completed during the current Feed
	err    error
	closed bool
}

// NewConn returns a Conn that keeps at most maxBody bytes of each message
// body (a negative maxBody counts as 0).
func NewConn(maxBody int) *Conn {
	return &Conn{
		maxBody: max(maxBody, 0),
		client:  newSide(true),
		server:  newSide(false),
		streams: map[uint32]*Stream{},
		cost:    map[uint32]int{},
	}
}

// Feed takes the next in-order bytes of one direction (fromClient: client
// to server) in chunks of any size; t is the capture time of the chunk. It
// returns the streams these bytes completed (response END_STREAM,
// RST_STREAM, or dropped as the oldest when open streams passed a limit),
// in completion order; when these bytes hit an error (see Err), the streams
// completed before it. Feed keeps no reference to data. Once Err is set, or
// after Close, Feed ignores its input and returns nil.
func (c *Conn) Feed(fromClient bool, data []byte, t time.Time) []*Stream {
	s := c.sideOf(fromClient)
	for len(data) > 0 && c.err == nil && !c.closed {
		if s.prefaceLeft > 0 {
			data = c.preface(s, data)
			continue
		}
		data = c.consume(s, data, t)
	}
	done := c.done
	c.done = nil
	return done
}

// Close ends the connection and returns the streams still open (request
// seen, response incomplete or missing), in stream id order. It returns
// nothing when the connection was not HTTP/2 (Err wraps ErrNotHTTP2).
func (c *Conn) Close() []*Stream {
	c.closed = true
	open := c.order
	c.order, c.streams, c.cost, c.headerBytes = nil, nil, nil, 0
	slices.SortFunc(open, func(a, b *Stream) int { return cmp.Compare(a.ID, b.ID) })
	return open
}

// Err returns why the connection stopped being parsed, an *Error; nil while
// parsing goes on.
func (c *Conn) Err() error { return c.err }

func (c *Conn) sideOf(fromClient bool) *side {
	if fromClient {
		return c.client
	}
	return c.server
}

// fail stops parsing. Streams completed before stay returned; open ones
// stay for Close, except when the bytes turn out not to be HTTP/2 at all.
func (c *Conn) fail(s *side, err error) {
	if c.err != nil {
		return
	}
	c.err = &Error{FromClient: s.client, Offset: s.frameOff, Err: err}
	if errors.Is(err, ErrNotHTTP2) {
		c.streams, c.order, c.done = map[uint32]*Stream{}, nil, nil
		c.cost, c.headerBytes = map[uint32]int{}, 0
	}
}

// onRequestFields applies a field block the client sent: a new request,
// or the trailers of an open one.
func (c *Conn) onRequestFields(s *side, fields []hpack.HeaderField, t time.Time) {
	id := s.block.stream
	if st := c.streams[id]; st != nil {
		if !st.Pushed {
			st.Request.Trailer = trailerOf(fields)
			c.charge(st, s.fieldBytes)
		}
	} else {
		if id%2 == 0 {
			c.fail(s, protocolErr("client opened stream %d, an even id", id)) // RFC 9113 §5.1.1
			return
		}
		if id <= c.lastClient {
			return // a stream that already ended, e.g. request trailers after the response
		}
		c.lastClient = id
		c.open(&Stream{ID: id, Request: newMessage(fields, s.block.start)}, s.fieldBytes)
	}
	if s.block.endStream {
		c.endStream(true, id, t)
	}
}

// onResponseFields applies a field block the server sent on a stream: an
// informational response (skipped), the final response, or its trailers.
func (c *Conn) onResponseFields(s *side, fields []hpack.HeaderField, t time.Time) {
	id := s.block.stream
	st := c.streams[id]
	if st == nil {
		return // a stream not tracked (ended, dropped, or never requested)
	}
	if st.Response != nil {
		st.Response.Trailer = trailerOf(fields)
		c.charge(st, s.fieldBytes)
	} else if m := newMessage(fields, s.block.start); m.Status < 100 || m.Status > 199 {
		st.Response = &m // 1xx responses are informational (RFC 9113 §8.1)
		c.charge(st, s.fieldBytes)
	}
	if s.block.endStream {
		c.endStream(false, id, t)
	}
}

// onPush opens the stream a PUSH_PROMISE reserved, with the promised
// request (RFC 9113 §8.4).
func (c *Conn) onPush(s *side, fields []hpack.HeaderField, t time.Time) {
	id := s.block.promised
	if id == 0 || id%2 == 1 || id <= c.lastPush {
		c.fail(s, protocolErr("PUSH_PROMISE of stream %d", id)) // RFC 9113 §6.6
		return
	}
	c.lastPush = id
	st := &Stream{ID: id, Pushed: true, Request: newMessage(fields, s.block.start)}
	st.Request.End = t
	c.open(st, s.fieldBytes)
}

// onData adds DATA payload bytes (padding already removed) to the body of
// the current frame's stream.
func (c *Conn) onData(s *side, p []byte) {
	st := c.streams[s.fh.stream]
	switch {
	case st == nil || len(p) == 0:
	case s.client:
		st.Request.addBody(p, c.maxBody)
	case st.Response != nil:
		st.Response.addBody(p, c.maxBody)
	}
}

// endStream handles END_STREAM: the client's ends the request; the
// server's ends the response and so the stream.
func (c *Conn) endStream(fromClient bool, id uint32, t time.Time) {
	st := c.streams[id]
	if st == nil {
		return
	}
	if fromClient {
		if st.Request.End.IsZero() {
			st.Request.End = t
		}
		return
	}
	if st.Response != nil {
		st.Response.End = t
	}
	c.finish(st)
}

// reset handles RST_STREAM from either side.
func (c *Conn) reset(id uint32) {
	if st := c.streams[id]; st != nil {
		st.Reset = true
		c.finish(st)
	}
}

// open starts tracking a stream whose request fields count fieldBytes,
// first returning the oldest one if maxStreams are open.
func (c *Conn) open(st *Stream, fieldBytes int) {
	if len(c.order) >= maxStreams {
		c.finish(c.order[0])
	}
	c.streams[st.ID] = st
	c.order = append(c.order, st)
	c.charge(st, fieldBytes)
}

// charge counts fieldBytes more kept on the open stream st, first
// returning the oldest other streams while the total would pass
// maxOpenHeaderBytes.
func (c *Conn) charge(st *Stream, fieldBytes int) {
	for c.headerBytes+fieldBytes > maxOpenHeaderBytes && len(c.order) > 1 {
		oldest := c.order[0]
		if oldest == st {
			oldest = c.order[1]
		}
		c.finish(oldest)
	}
	c.cost[st.ID] += fieldBytes
	c.headerBytes += fieldBytes
}

// finish stops tracking a stream and returns it from the current Feed.
func (c *Conn) finish(st *Stream) {
	c.headerBytes -= c.cost[st.ID]
	delete(c.cost, st.ID)
	delete(c.streams, st.ID)
	if i := slices.Index(c.order, st); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.done = append(c.done, st)
}
