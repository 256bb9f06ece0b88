package h3parse

import (
	"time"
)

// Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2). Reserved
// types 0x1f*N+0x21 (§6.2.3) and unknown ones are ignored (§9).
const (
	uniControl = 0x00 // §6.2.1
	uniPush    = 0x01 // §6.2.2
	uniEncoder = 0x02 // RFC 9204 §4.2
	uniDecoder = 0x03 // RFC 9204 §4.2
)

// Limits on control stream frames, which this package buffers whole.
const (
	maxSettingsFrame = 16 << 10
	maxGoAwayFrame   = 8 // one varint (§7.2.6)
)

// uniStream is a unidirectional stream whose bytes are still read: one
// whose type has not fully arrived, or a critical stream (control, QPACK
// encoder or decoder). Other types are dropped as soon as known.
type uniStream struct {
	c     *Conn
	id    uint64
	s     *side // the endpoint that opened it, the only sender
	typ   varintReader
	known bool   // typ is complete
	kind  uint64 // the stream type, once known
	pos   int64  // bytes consumed, for error offsets

	// Control stream state.
	fr       frameReader
	payload  []byte // SETTINGS or GOAWAY payload being collected
	collect  bool   // the current frame's payload is collected
	settings bool   // the first frame, SETTINGS, was seen
}

// uniData handles bytes of a unidirectional stream of side s.
func (c *Conn) uniData(id uint64, s *side, data []byte, fin bool, t time.Time) {
	u := c.uni[id]
	if u == nil {
		if len(data) == 0 || c.gone.has(id) {
			return
		}
		if len(c.uni) >= maxPendingUni {
			c.gone.add(id) // too many streams of unknown type: drop this one
			c.stats.IgnoredStreams++
			return
		}
		u = &uniStream{c: c, id: id, s: s}
		c.uni[id] = u
	}
	if !u.known {
		n, done := u.typ.feed(data)
		data = data[n:]
		u.pos += int64(n)
		if done && !c.startUni(u, u.typ.value()) {
			return
		}
	}
	if u.known {
		switch u.kind {
		case uniControl:
			u.fr.feed(data, t, u)
		case uniEncoder:
			c.encoderData(u, data)
		}
	}
	if fin && c.err == nil {
		// Closing a critical stream is a connection error for the peers
		// (RFC 9114 §6.2.1, RFC 9204 §4.2); nothing more can arrive on it.
		c.endUni(u)
	}
}

// startUni applies a stream's type. It returns false when the rest of the
// stream is to be ignored.
func (c *Conn) startUni(u *uniStream, typ uint64) bool {
	u.known, u.kind = true, typ
	u.fr.pos = u.pos // frame offsets count from the stream's start
	s := u.s
	var dup *bool
	switch typ {
	case uniControl:
		dup = &s.control // §6.2.1: only one control stream per endpoint
	case uniEncoder:
		dup = &s.encoder // RFC 9204 §4.2: only one of each
	case uniDecoder:
		dup = &s.decStrm
	case uniPush:
		if !s.client { // a client's push stream is an error for the server (§6.2.2)
			c.stats.PushStreams++
		}
		c.endUni(u)
		return false
	default:
		c.stats.IgnoredStreams++
		c.endUni(u)
		return false
	}
	if *dup {
		c.fail(s, u.id, 0, protocolErr("second stream of type 0x%x", typ))
		return false
	}
	*dup = true
	return true
}

// endUni stops reading a unidirectional stream.
func (c *Conn) endUni(u *uniStream) {
	delete(c.uni, u.id)
	c.gone.add(u.id)
}

// encoderData applies the bytes of a QPACK encoder stream (RFC 9204
// §4.3) one instruction at a time, and after each insertion decodes the
// field sections it released: an entry they need could be evicted by a
// later instruction (§2.1.1 lets the encoder do so once the decoder, which
// decodes at once, acknowledged them).
func (c *Conn) encoderData(u *uniStream, data []byte) {
	d := &u.s.dec
	buf := data
	if len(d.partial) > 0 {
		d.partial = append(d.partial, data...)
		buf = d.partial
	}
	used := 0
	for len(buf) > 0 && c.err == nil {
		n, inserted, err := d.instruction(buf)
		if err == errShort {
			break
		}
		if err != nil {
			c.fail(u.s, u.id, u.pos, err)
			return
		}
		buf, used, u.pos = buf[n:], used+n, u.pos+int64(n)
		if inserted && d.table.insertCount() >= u.s.wake {
			c.unblock(u.s)
		}
	}
	if used > 0 || len(d.partial) == 0 {
		// Keep only the partial instruction; copying it is bounded by
		// the bytes that arrived in this call.
		d.partial = append(d.partial[:0], buf...)
	}
}

// beginFrame checks a control stream frame (RFC 9114 §6.2.1, §7.2).
func (u *uniStream) beginFrame(fh frameHeader) bool {
	c := u.c
	u.payload, u.collect = u.payload[:0], false
	if !u.settings && fh.typ != frameSettings {
		c.fail(u.s, u.id, u.fr.off, protocolErr("control stream starts with %s, not SETTINGS", frameName(fh.typ)))
		return false
	}
	switch fh.typ {
	case frameSettings:
		if u.settings {
			c.fail(u.s, u.id, u.fr.off, protocolErr("second SETTINGS")) // §7.2.4
			return false
		}
		if fh.length > maxSettingsFrame {
			c.fail(u.s, u.id, u.fr.off, limitErr("SETTINGS of %d bytes", fh.length))
			return false
		}
		u.settings, u.collect = true, true
	case frameGoAway:
		if fh.length > maxGoAwayFrame {
			c.fail(u.s, u.id, u.fr.off, protocolErr("GOAWAY of %d bytes", fh.length)) // §7.2.6
			return false
		}
		u.collect = true
	case frameData, frameHeaders, framePushPromise:
		c.fail(u.s, u.id, u.fr.off, protocolErr("%s on the control stream", frameName(fh.typ))) // §7.2.1, §7.2.2, §7.2.5
		return false
	}
	return true // CANCEL_PUSH, MAX_PUSH_ID and unknown types are skipped
}

func (u *uniStream) framePayload(p []byte) bool {
	if u.collect {
		u.payload = append(u.payload, p...)
	}
	return true
}

func (u *uniStream) endFrame(time.Time) bool {
	switch {
	case !u.collect:
	case u.fr.fh.typ == frameSettings:
		u.c.onSettings(u, u.payload)
	case u.fr.fh.typ == frameGoAway:
		u.c.onGoAway(u, u.payload)
	}
	return u.c.err == nil
}

// onSettings reads the settings of side u.s (RFC 9114 §7.2.4.1). The
// QPACK maximum table capacity an endpoint advertises bounds the dynamic
// table of the other endpoint's encoder (RFC 9204 §3.2.3), so it goes to
// the decoder of the peer's field sections, whose waiting sections may
// now be decoded.
func (c *Conn) onSettings(u *uniStream, p []byte) {
	s := u.s
	s.settings.Seen = true
	for len(p) > 0 {
		id, n := parseVarint(p)
		if n == 0 {
			break
		}
		v, m := parseVarint(p[n:])
		if m == 0 {
			break
		}
		p = p[n+m:]
		switch id {
		case settingQPACKMaxTableCapacity:
			s.settings.MaxTableCapacity = v
		case settingQPACKBlockedStreams:
			s.settings.BlockedStreams = v
		}
	}
	if len(p) > 0 {
		c.fail(s, u.id, u.fr.off, protocolErr("SETTINGS payload ends inside a setting")) // §7.2.4: H3_FRAME_ERROR
		return
	}
	peer := c.peerOf(s)
	peer.dec.setMaxCapacity(s.settings.MaxTableCapacity)
	c.unblock(peer)
}

// onGoAway records a GOAWAY (RFC 9114 §5.2, §7.2.6). The client's carries
// a push id, of no use here.
func (c *Conn) onGoAway(u *uniStream, p []byte) {
	id, n := parseVarint(p)
	if n == 0 || n != len(p) {
		c.fail(u.s, u.id, u.fr.off, protocolErr("GOAWAY payload of %d bytes", len(p)))
		return
	}
	if !u.s.client {
		c.stats.GoAway, c.stats.GoAwayID = true, id
	}
}
