package h2parse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Limits on header blocks, so that memory stays bounded whatever the input.
const (
	// maxHeaderBlock bounds an encoded field block (HEADERS or PUSH_PROMISE
	// plus CONTINUATION fragments, RFC 9113 §4.3).
	maxHeaderBlock = 256 << 10
	// maxFramePayload bounds one buffered frame payload: a whole fragment
	// plus pad length, padding and priority fields (RFC 9113 §6.2).
	maxFramePayload = maxHeaderBlock + 1 + 255 + priorityLen
	// maxHeaderBytes bounds the decoded fields of one block, each counted
	// as name + value + 32 like SETTINGS_MAX_HEADER_LIST_SIZE
	// (RFC 9113 §6.5.2); it also bounds a single decoded string.
	maxHeaderBytes = 256 << 10
	// defaultTableSize is the initial SETTINGS_HEADER_TABLE_SIZE
	// (RFC 9113 §6.5.2, RFC 7541 §4.2).
	defaultTableSize = 4096
	// maxTableSize caps the dynamic table a peer's setting may allow.
	maxTableSize = 1 << 20
	// fieldOverhead is the per-field overhead of RFC 7541 §4.1.
	fieldOverhead = 32
)

// headerBlock is a field block being assembled from a HEADERS or
// PUSH_PROMISE frame and the CONTINUATION frames that follow it.
type headerBlock struct {
	open      bool // END_HEADERS not seen yet
	stream    uint32
	push      bool   // started by PUSH_PROMISE
	promised  uint32 // PUSH_PROMISE: the promised stream
	endStream bool
	start     time.Time // capture time of the HEADERS or PUSH_PROMISE frame
	buf       []byte
}

// startBlock begins the field block of the current HEADERS or PUSH_PROMISE
// frame with its first fragment.
func (c *Conn) startBlock(s *side, promised uint32, frag []byte, t time.Time) {
	s.block = headerBlock{
		open:      true,
		stream:    s.fh.stream,
		push:      s.fh.typ == framePushPromise,
		promised:  promised,
		endStream: s.fh.typ == frameHeaders && s.fh.has(flagEndStream),
		start:     s.frameStart,
		buf:       s.block.buf[:0],
	}
	c.continueBlock(s, frag, t)
}

// continueBlock adds a fragment to the open block and, at END_HEADERS,
// decodes the block and applies it.
func (c *Conn) continueBlock(s *side, frag []byte, t time.Time) {
	if len(s.block.buf)+len(frag) > maxHeaderBlock {
		c.fail(s, limitErr("field block of more than %d bytes", maxHeaderBlock))
		return
	}
	s.block.buf = append(s.block.buf, frag...)
	if !s.fh.has(flagEndHeaders) {
		return
	}
	s.block.open = false
	fields, err := s.decode(s.block.buf)
	if err != nil {
		c.fail(s, err)
		return
	}
	switch {
	case s.block.push:
		c.onPush(s, fields, t)
	case s.client:
		c.onRequestFields(s, fields, t)
	default:
		c.onResponseFields(s, fields, t)
	}
}

// decode decodes a whole field block with this direction's decoder. Every
// block is decoded, even one for a stream no longer tracked, to keep the
// dynamic table in step with the encoder's.
func (s *side) decode(block []byte) ([]hpack.HeaderField, error) {
	s.fields, s.fieldBytes, s.tooBig = s.fields[:0], 0, false
	_, err := s.dec.Write(block)
	if err == nil {
		err = s.dec.Close()
	}
	switch {
	case s.tooBig || errors.Is(err, hpack.ErrStringLength):
		return nil, limitErr("decoded fields of more than %d bytes", maxHeaderBytes)
	case err != nil:
		return nil, fmt.Errorf("%w: hpack: %w", ErrProtocol, err)
	}
	return s.fields, nil
}

// emit receives each decoded field from the HPACK decoder.
func (s *side) emit(f hpack.HeaderField) {
	s.fieldBytes += len(f.Name) + len(f.Value) + fieldOverhead
	if s.fieldBytes > maxHeaderBytes {
		s.tooBig = true
		return
	}
	s.fields = append(s.fields, f)
}

// onSettings applies SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2): the
// sender of the setting decodes, so it bounds the dynamic table of the other
// direction's encoder. The largest value seen is kept, because an observer
// cannot tell when the encoder received and acknowledged a change.
func (c *Conn) onSettings(s *side, p []byte) {
	if s.fh.has(flagAck) {
		return
	}
	other := c.sideOf(!s.client)
	for ; len(p) >= settingLen; p = p[settingLen:] {
		if binary.BigEndian.Uint16(p) != settingTableID {
			continue
		}
		v := min(binary.BigEndian.Uint32(p[2:]), maxTableSize)
		if v > other.tableLimit {
			other.tableLimit = v
			other.dec.SetAllowedMaxDynamicTableSize(v)
		}
	}
}

// newMessage makes a message from a decoded field block.
func newMessage(fields []hpack.HeaderField, start time.Time) Message {
	m := Message{Header: http.Header{}, Start: start}
	for _, f := range fields {
		switch f.Name {
		case ":method":
			m.Method = f.Value
		case ":scheme":
			m.Scheme = f.Value
		case ":authority":
			m.Authority = f.Value
		case ":path":
			m.Path = f.Value
		case ":status":
			m.Status, _ = strconv.Atoi(f.Value)
		default:
			if !f.IsPseudo() { // other pseudo-fields (e.g. :protocol) are dropped
				addField(m.Header, f)
			}
		}
	}
	joinCookies(m.Header)
	return m
}

// trailerOf returns the regular fields of a trailing block (RFC 9113 §8.1).
func trailerOf(fields []hpack.HeaderField) http.Header {
	h := http.Header{}
	for _, f := range fields {
		if !f.IsPseudo() {
			addField(h, f)
		}
	}
	joinCookies(h)
	return h
}

func addField(h http.Header, f hpack.HeaderField) {
	k := http.CanonicalHeaderKey(f.Name)
	h[k] = append(h[k], f.Value)
}

// joinCookies joins cookie fields that were split for compression into one
// (RFC 9113 §8.2.3).
func joinCookies(h http.Header) {
	if v := h["Cookie"]; len(v) > 1 {
		h["Cookie"] = []string{strings.Join(v, "; ")}
	}
}

func limitErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrLimit}, args...)...)
}
