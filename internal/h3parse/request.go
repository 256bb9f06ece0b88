package h3parse

import (
	"net/http"
	"slices"
	"time"
)

// reqStream is an open request stream: the Stream being built and the
// state of its two directions.
type reqStream struct {
	c        *Conn
	st       *Stream
	req      half // the client's direction
	resp     half // the server's direction
	cost     int  // decoded field bytes charged to it (maxOpenHeaderBytes)
	buffered int  // encoded bytes it holds (maxBufferedBytes)
	finished bool
}

// half is one direction of a request stream: a sequence of HEADERS and
// DATA frames (RFC 9114 §4.1).
type half struct {
	rs     *reqStream
	client bool
	fr     frameReader

	headers  int       // HEADERS frames seen
	buf      []byte    // payload of the HEADERS frame being read
	queue    []section // sections not decoded yet, in order
	decoded  int       // sections decoded
	inList   bool      // rs is on the side's blocked list for this half
	body     []byte
	truncate bool

	fin   bool      // the direction ended
	finT  time.Time // capture time of the data that ended it
	clean bool      // it ended at a frame boundary
}

func (rs *reqStream) half(fromClient bool) *half {
	if fromClient {
		return &rs.req
	}
	return &rs.resp
}

// requestData handles bytes of a request stream. Only the client opens
// one; bytes of a stream already ended, or of a response whose request was
// not seen, are ignored.
func (c *Conn) requestData(id uint64, fromClient bool, data []byte, fin bool, t time.Time) {
	rs := c.streams[id]
	if rs == nil {
		if !fromClient || c.gone.has(id) || len(data) == 0 && !fin {
			return
		}
		rs = c.open(id)
	}
	h := rs.half(fromClient)
	if h.fin {
		return
	}
	if !h.fr.feed(data, t, h) || rs.finished {
		return
	}
	if fin {
		h.fin, h.finT, h.clean = true, t, h.fr.atBoundary()
		c.release(rs, len(h.buf))
		h.buf = nil
		c.maybeFinish(rs)
	}
}

// resetRequest handles RESET_STREAM on a request stream (RFC 9114 §4.1.1).
func (c *Conn) resetRequest(id uint64, fromClient bool) {
	rs := c.streams[id]
	if rs == nil || rs.half(fromClient).fin {
		return
	}
	rs.st.Reset = true
	c.finish(rs)
}

// open starts tracking a request stream, first returning the oldest one
// if maxStreams are open.
func (c *Conn) open(id uint64) *reqStream {
	if len(c.order) >= maxStreams {
		c.finish(c.order[0])
	}
	rs := &reqStream{c: c, st: &Stream{ID: id, Request: Message{Header: http.Header{}}}}
	rs.req = half{rs: rs, client: true}
	rs.resp = half{rs: rs}
	c.streams[id] = rs
	c.order = append(c.order, rs)
	return rs
}

// beginFrame checks a frame of a request stream (RFC 9114 §4.1, §7.2).
func (h *half) beginFrame(fh frameHeader) bool {
	c, rs := h.rs.c, h.rs
	switch fh.typ {
	case frameData:
		if h.headers == 0 {
			return c.broken(rs) // §4.1: DATA before HEADERS is malformed
		}
	case frameHeaders:
		if fh.length > maxHeadersFrame {
			return c.broken(rs)
		}
		if h.headers == 0 && h.client {
			rs.st.Request.Start = h.fr.start
		}
		h.buf = h.buf[:0]
	case framePushPromise:
		if h.client {
			return c.broken(rs) // §7.2.5: only servers promise
		}
		c.stats.PushPromises++
	case frameCancelPush, frameSettings, frameGoAway, frameMaxPushID:
		return c.broken(rs) // §7.2.3-§7.2.7: control stream frames only
	}
	return true
}

// framePayload takes DATA into the body and collects HEADERS payloads;
// other payloads are skipped.
func (h *half) framePayload(p []byte) bool {
	c, rs := h.rs.c, h.rs
	switch h.fr.fh.typ {
	case frameData:
		h.addBody(p, c.maxBody)
	case frameHeaders:
		if !c.reserve(rs, len(p)) {
			return c.broken(rs)
		}
		h.buf = append(h.buf, p...)
	}
	return true
}

// endFrame queues a complete HEADERS frame's field section and decodes
// what the dynamic table allows.
func (h *half) endFrame(time.Time) bool {
	if h.fr.fh.typ != frameHeaders {
		return true
	}
	c, rs := h.rs.c, h.rs
	if c.waiting >= maxWaiting {
		return c.broken(rs)
	}
	h.headers++
	h.queue = append(h.queue, section{data: h.buf, start: h.fr.start})
	h.buf = nil
	c.waiting++
	c.drain(rs, h)
	return !rs.finished
}

// addBody appends DATA payload bytes, keeping at most limit bytes.
func (h *half) addBody(p []byte, limit int) {
	if room := limit - len(h.body); len(p) > room {
		p = p[:max(room, 0)]
		h.truncate = true
	}
	h.body = append(h.body, p...)
}

// drain decodes the queued sections of h in order until one must wait on
// the encoder stream (RFC 9204 §2.1.2), then ends the stream if it is
// complete.
func (c *Conn) drain(rs *reqStream, h *half) {
	s := c.sideOf(h.client)
	for len(h.queue) > 0 && !rs.finished {
		sec := &h.queue[0]
		fields, size, err := s.dec.decode(sec)
		if err == errBlocked {
			c.block(s, rs, h, sec)
			return
		}
		start := sec.start
		c.release(rs, len(sec.data))
		h.queue = h.queue[1:]
		c.waiting--
		if err != nil {
			c.broken(rs)
			return
		}
		c.apply(rs, h, fields, size, start)
	}
	c.maybeFinish(rs)
}

// apply sets decoded fields on the stream: the request then its
// trailers; interim responses (skipped), the final response, then its
// trailers (RFC 9114 §4.1).
func (c *Conn) apply(rs *reqStream, h *half, fields []field, size int, start time.Time) {
	st := rs.st
	h.decoded++
	switch {
	case h.client && h.decoded == 1:
		st.Request = newMessage(fields, start)
	case h.client:
		st.Request.Trailer = trailerOf(fields)
	case st.Response != nil:
		st.Response.Trailer = trailerOf(fields)
	default:
		m := newMessage(fields, start)
		if interim(&m) {
			return
		}
		st.Response = &m
	}
	c.charge(rs, size)
}

// block puts rs on the list of streams waiting on side s's encoder
// stream, and lowers the insert count that wakes the list.
func (c *Conn) block(s *side, rs *reqStream, h *half, sec *section) {
	if !h.inList {
		h.inList = true
		s.blocked = append(s.blocked, rs)
	}
	if sec.decided {
		s.wake = min(s.wake, sec.ric)
	}
}

// unblock retries the streams waiting on side s's encoder stream, after
// an insertion or the peer's SETTINGS.
func (c *Conn) unblock(s *side) {
	list := s.blocked
	s.blocked, s.wake = nil, ^uint64(0)
	for _, rs := range list {
		h := rs.half(s.client)
		h.inList = false
		if !rs.finished {
			c.drain(rs, h)
		}
	}
}

// maybeFinish ends a stream once the server's direction ended and every
// section of both directions was decoded.
func (c *Conn) maybeFinish(rs *reqStream) {
	if !rs.finished && rs.resp.fin && len(rs.resp.queue) == 0 && len(rs.req.queue) == 0 {
		c.finish(rs)
	}
}

// broken ends a stream whose frames or sections cannot be parsed; it
// returns false to stop the frame reader.
func (c *Conn) broken(rs *reqStream) bool {
	c.stats.BrokenStreams++
	c.finish(rs)
	return false
}

// reserve counts n more encoded bytes held by rs; false when that would
// pass maxBufferedBytes.
func (c *Conn) reserve(rs *reqStream, n int) bool {
	if c.buffered+n > maxBufferedBytes {
		return false
	}
	c.buffered += n
	rs.buffered += n
	return true
}

// release gives back n encoded bytes reserved by rs.
func (c *Conn) release(rs *reqStream, n int) {
	c.buffered -= n
	rs.buffered -= n
}

// charge counts fieldBytes more kept on the open stream rs, first
// returning the oldest other streams while the total would pass
// maxOpenHeaderBytes.
func (c *Conn) charge(rs *reqStream, fieldBytes int) {
	for c.headerBytes+fieldBytes > maxOpenHeaderBytes && len(c.order) > 1 {
		oldest := c.order[0]
		if oldest == rs {
			oldest = c.order[1]
		}
		c.finish(oldest)
	}
	rs.cost += fieldBytes
	c.headerBytes += fieldBytes
}

// finish stops tracking a stream and returns it from the current call,
// with the bodies and end times its directions gathered.
func (c *Conn) finish(rs *reqStream) {
	if rs.finished {
		return
	}
	rs.finished = true
	c.headerBytes -= rs.cost
	c.buffered -= rs.buffered
	c.waiting -= len(rs.req.queue) + len(rs.resp.queue)
	delete(c.streams, rs.st.ID)
	if i := slices.Index(c.order, rs); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.gone.add(rs.st.ID)
	c.unlist(c.client, rs, rs.req.inList)
	c.unlist(c.server, rs, rs.resp.inList)
	st := rs.st
	rs.req.seal(&st.Request)
	if st.Response != nil {
		rs.resp.seal(st.Response)
	}
	rs.req, rs.resp = half{}, half{} // drop buffers
	c.done = append(c.done, st)
}

// seal gives m the body of the direction and, if the direction ended at a
// frame boundary with every section decoded, its end time.
func (h *half) seal(m *Message) {
	m.Body, m.Truncated = h.body, h.truncate
	if h.fin && h.clean && len(h.queue) == 0 && h.headers > 0 {
		m.End = h.finT
	}
}

// unlist removes a finished stream from side s's blocked list, so that the
// list holds open streams only.
func (c *Conn) unlist(s *side, rs *reqStream, listed bool) {
	if listed {
		s.blocked = slices.DeleteFunc(s.blocked, func(x *reqStream) bool { return x == rs })
	}
}
