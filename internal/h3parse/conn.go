// Package h3parse follows an HTTP/3 connection (RFC 9114) with QPACK field
// compression (RFC 9204) from the in-order bytes of its QUIC streams, as a
// passive observer sees them after decryption, and turns them into
// request/response pairs.
//
// The parser is passive and lenient: it checks only what it needs to stay
// in step with the peers (stream types, framing, SETTINGS, the QPACK
// encoder streams that build the dynamic tables). A problem on a control
// stream or an encoder stream stops it, keeping what it has (see
// Conn.Err); a malformed request stream ends only that stream. Field
// sections that refer to dynamic table entries not seen yet wait for the
// encoder stream (RFC 9204 §2.1.2), as a capture may deliver a request
// stream's packet before the encoder stream's. Memory is bounded whatever
// the input: DATA payloads are never buffered beyond the body cap, HEADERS
// frames, waiting field sections, decoded fields and dynamic tables are
// capped, and so are the streams tracked at once.
package h3parse

import (
	"cmp"
	"slices"
	"time"
)

// Bounds on what a Conn holds. With them, a Conn holds at most about
// 2*maxStreams*maxBody body bytes, maxOpenHeaderBytes of decoded fields,
// maxBufferedBytes of encoded field sections and two dynamic tables of
// maxTableCapacity.
const (
	// maxStreams bounds the request streams open at once; beyond it the
	// oldest is returned incomplete.
	maxStreams = 1000
	// maxOpenHeaderBytes bounds the decoded fields kept on open streams,
	// counted as for maxHeaderBytes; beyond it the oldest are returned.
	maxOpenHeaderBytes = 16 << 20
	// maxHeadersFrame bounds one HEADERS frame payload.
	maxHeadersFrame = 256 << 10
	// maxBufferedBytes bounds the encoded bytes held for all streams:
	// HEADERS frames being assembled and sections waiting on an encoder
	// stream; a stream that would pass it is ended as broken.
	maxBufferedBytes = 16 << 20
	// maxWaiting bounds the field sections waiting on encoder streams.
	maxWaiting = 1000
	// maxPendingUni bounds the unidirectional streams whose type has not
	// fully arrived, and the critical ones (at most three per side).
	maxPendingUni = 100
	// maxGone is how many ended stream ids are remembered, so that late
	// bytes of an ended stream do not open it again.
	maxGone = 4096
)

// Stats counts what a Conn saw beside the streams it returns.
type Stats struct {
	// Client and Server are the settings each endpoint sent.
	Client, Server Settings
	// PushStreams counts server push streams (RFC 9114 §4.6), ignored.
	PushStreams int
	// PushPromises counts PUSH_PROMISE frames (§7.2.5), skipped.
	PushPromises int
	// IgnoredStreams counts unidirectional streams of reserved or unknown
	// types (§6.2.3, §9), skipped.
	IgnoredStreams int
	// BrokenStreams counts request streams ended early because their
	// frames or field sections could not be parsed or passed a limit.
	BrokenStreams int
	// GoAway reports a GOAWAY from the server (§5.2); GoAwayID is the
	// last one's stream id: requests from it on were not processed.
	GoAway   bool
	GoAwayID uint64
}

// Conn follows one HTTP/3 connection from the in-order bytes of its QUIC
// streams.
//
// The bytes of each stream direction must be fed in order; across
// streams the order must respect causality, as a capture does (a response
// fed before its request is dropped). A Conn is not safe for concurrent
// use.
type Conn struct {
	maxBody        int
	client, server *side

	streams     map[uint64]*reqStream // open request streams by id
	order       []*reqStream          // open request streams, oldest first
	headerBytes int                   // decoded field bytes kept on open streams
	buffered    int                   // encoded bytes held (maxBufferedBytes)
	waiting     int                   // sections queued (maxWaiting)
	uni         map[uint64]*uniStream // unidirectional streams still read
	gone        idSet                 // recently ended stream ids
	stats       Stats

	done   []*Stream // streams completed during the current call
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
		streams: map[uint64]*reqStream{},
		uni:     map[uint64]*uniStream{},
		gone:    newIDSet(maxGone),
	}
}

// StreamData takes the next in-order bytes of one direction of QUIC
// stream id (fromClient: sent by the client), in chunks of any size; fin
// reports that this direction ended with them (a FIN, RFC 9000 §2.4). t is
// the capture time of the data.
//
// Stream ids follow RFC 9000 §2.1: id&3 == 0 are the client-initiated
// bidirectional streams that carry requests (RFC 9114 §6.1), 2 and 3 the
// client's and the server's unidirectional streams (§6.2); bytes of a
// unidirectional stream in the direction it cannot have, and of
// server-initiated bidirectional streams (1), which HTTP/3 does not use,
// are ignored.
//
// It returns the request streams these bytes completed (response FIN,
// broken, or dropped as the oldest when open streams passed a limit),
// including those whose waiting field sections these bytes released, in
// completion order; when these bytes hit a connection error (see Err), the
// streams completed before it. StreamData keeps no reference to data. Once
// Err is set, or after Close, it ignores its input and returns nil.
func (c *Conn) StreamData(id uint64, fromClient bool, data []byte, fin bool, t time.Time) []*Stream {
	if c.err == nil && !c.closed {
		switch id & 3 {
		case 0:
			c.requestData(id, fromClient, data, fin, t)
		case 2:
			if fromClient {
				c.uniData(id, c.client, data, fin, t)
			}
		case 3:
			if !fromClient {
				c.uniData(id, c.server, data, fin, t)
			}
		}
	}
	return c.takeDone()
}

// StreamReset reports that the sender reset its direction of stream id
// (RESET_STREAM, RFC 9000 §19.4). A request stream not yet ended by the
// server's FIN ends as reset, unless the direction reset had already
// ended with a FIN. It returns the streams this completed.
func (c *Conn) StreamReset(id uint64, fromClient bool, t time.Time) []*Stream {
	if c.err == nil && !c.closed {
		if id&3 == 0 {
			c.resetRequest(id, fromClient)
		} else if u := c.uni[id]; u != nil && u.s.client == fromClient {
			// A reset critical stream is a connection error for the
			// peers (RFC 9114 §6.2.1, RFC 9204 §4.2); the observer has
			// nothing more to read on it either way.
			c.endUni(u)
		}
	}
	return c.takeDone()
}

// Close ends the connection and returns the request streams still open
// (response incomplete or missing, or field sections still waiting on an
// encoder stream), in stream id order.
func (c *Conn) Close() []*Stream {
	if c.closed {
		return nil
	}
	c.closed = true
	open := slices.Clone(c.order)
	slices.SortFunc(open, func(a, b *reqStream) int { return cmp.Compare(a.st.ID, b.st.ID) })
	for _, rs := range open {
		c.finish(rs)
	}
	c.uni = nil
	c.client.blocked, c.server.blocked = nil, nil
	return c.takeDone()
}

// Err returns why the connection stopped being parsed, an *Error; nil while
// parsing goes on.
func (c *Conn) Err() error { return c.err }

// Stats returns what the Conn counted so far.
func (c *Conn) Stats() Stats {
	st := c.stats
	st.Client, st.Server = c.client.settings, c.server.settings
	return st
}

func (c *Conn) sideOf(fromClient bool) *side {
	if fromClient {
		return c.client
	}
	return c.server
}

func (c *Conn) peerOf(s *side) *side { return c.sideOf(!s.client) }

// fail stops parsing at a connection error on stream id of side s. Streams
// completed before stay returned; open ones stay for Close.
func (c *Conn) fail(s *side, id uint64, off int64, err error) {
	if c.err == nil {
		c.err = &Error{FromClient: s.client, Stream: id, Offset: off, Err: err}
	}
}

func (c *Conn) takeDone() []*Stream {
	done := c.done
	c.done = nil
	return done
}

// idSet remembers up to n ids, forgetting the oldest first.
type idSet struct {
	m     map[uint64]struct{}
	ring  []uint64
	next  int
	limit int
}

func newIDSet(n int) idSet { return idSet{m: map[uint64]struct{}{}, limit: n} }

func (s *idSet) has(id uint64) bool {
	_, ok := s.m[id]
	return ok
}

func (s *idSet) add(id uint64) {
	if s.has(id) {
		return
	}
	if len(s.ring) < s.limit {
		s.ring = append(s.ring, id)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[id] = struct{}{}
}
