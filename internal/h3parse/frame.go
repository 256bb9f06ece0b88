package h3parse

import (
	"fmt"
	"time"
)

// HTTP/3 frame types (RFC 9114 §7.2, §11.2.1). Other types, including the
// reserved 0x1f*N+0x21 (§7.2.8) and those HTTP/2 used (0x02, 0x06, 0x08,
// 0x09), are skipped by their length (§9).
const (
	frameData        = 0x00 // §7.2.1
	frameHeaders     = 0x01 // §7.2.2
	frameCancelPush  = 0x03 // §7.2.3
	frameSettings    = 0x04 // §7.2.4
	framePushPromise = 0x05 // §7.2.5
	frameGoAway      = 0x07 // §7.2.6
	frameMaxPushID   = 0x0d // §7.2.7
)

var frameNames = map[uint64]string{
	frameData: "DATA", frameHeaders: "HEADERS", frameCancelPush: "CANCEL_PUSH",
	frameSettings: "SETTINGS", framePushPromise: "PUSH_PROMISE",
	frameGoAway: "GOAWAY", frameMaxPushID: "MAX_PUSH_ID",
}

func frameName(typ uint64) string {
	if s, ok := frameNames[typ]; ok {
		return s
	}
	return fmt.Sprintf("frame type 0x%x", typ)
}

// frameHeader is the type and length that start every frame; both are
// QUIC varints (RFC 9114 §7.1).
type frameHeader struct {
	typ    uint64
	length uint64
}

// frameHandler receives the frames of one stream direction from a
// frameReader. Each method returns false to stop reading (the stream or
// the connection broke).
type frameHandler interface {
	// beginFrame is called once the frame header is complete.
	beginFrame(fh frameHeader) bool
	// framePayload takes the next bytes of the payload, in pieces.
	framePayload(p []byte) bool
	// endFrame is called when the last payload byte arrived, with the
	// capture time of the data that held it.
	endFrame(t time.Time) bool
}

// frameReader splits the in-order bytes of one stream direction into
// frames (RFC 9114 §7.1) without ever buffering a payload: payloads go to
// the handler as they arrive.
type frameReader struct {
	typ, length varintReader
	haveType    bool
	inPayload   bool
	fh          frameHeader
	left        uint64 // payload bytes still to come

	pos   int64     // bytes of the direction consumed so far
	off   int64     // offset of the current frame's first byte
	start time.Time // capture time of the current frame's first byte
}

// atBoundary reports that no frame is partly read.
func (r *frameReader) atBoundary() bool {
	return !r.inPayload && !r.haveType && !r.typ.started()
}

// feed reads p, handing frames to h; t is the capture time of p. It
// returns false when h stopped the reading.
func (r *frameReader) feed(p []byte, t time.Time, h frameHandler) bool {
	for len(p) > 0 {
		if !r.inPayload {
			n, done := r.header(p, t)
			p = p[n:]
			if !done {
				return true
			}
			if !h.beginFrame(r.fh) {
				return false
			}
			if r.left == 0 && !r.endFrame(t, h) {
				return false
			}
			continue
		}
		n := int(min(uint64(len(p)), r.left))
		r.left -= uint64(n)
		r.pos += int64(n)
		if !h.framePayload(p[:n]) {
			return false
		}
		p = p[n:]
		if r.left == 0 && !r.endFrame(t, h) {
			return false
		}
	}
	return true
}

// header reads frame header bytes; done reports the header complete.
func (r *frameReader) header(p []byte, t time.Time) (used int, done bool) {
	if !r.haveType {
		if !r.typ.started() {
			r.off, r.start = r.pos, t
		}
		n, ok := r.typ.feed(p)
		used, r.pos = n, r.pos+int64(n)
		if !ok {
			return used, false
		}
		r.haveType = true
		r.fh.typ = r.typ.value()
	}
	n, ok := r.length.feed(p[used:])
	used, r.pos = used+n, r.pos+int64(n)
	if !ok {
		return used, false
	}
	r.haveType = false
	r.fh.length = r.length.value()
	r.inPayload, r.left = true, r.fh.length
	return used, true
}

func (r *frameReader) endFrame(t time.Time, h frameHandler) bool {
	r.inPayload = false
	return h.endFrame(t)
}
