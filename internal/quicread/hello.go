package quicread

import "slices"

// Bounds of ClientHello reassembly. A ClientHello with post-quantum key
// shares is under 2 KiB, and Chromium sends it in about ten CRYPTO frames.
const (
	maxHello          = 16 << 10
	maxHelloFragments = 256
)

// helloBuffer reassembles the client's Initial CRYPTO stream (RFC 9000
// §19.6) until it holds a whole ClientHello (RFC 8446 §4: type 1, 3-byte
// length). Fragments may come in any order, repeat, and overlap, across
// packets; they are copied into one buffer, and the ranges received so far
// are kept sorted and merged.
type helloBuffer struct {
	buf       []byte
	have      []span // received byte ranges, sorted, merged
	fragments int
	done      []byte // the complete ClientHello, once it is
	broken    bool   // not a ClientHello, or larger than maxHello
}

// span is a half-open byte range [from, to).
type span struct{ from, to uint64 }

// add copies one CRYPTO frame's data at offset. Data beyond maxHello is
// dropped; after maxHelloFragments frames the buffer stops taking more.
func (h *helloBuffer) add(offset uint64, data []byte) {
	if h.done != nil || h.broken || len(data) == 0 || offset >= maxHello {
		return
	}
	if h.fragments++; h.fragments > maxHelloFragments {
		return
	}
	end := min(offset+uint64(len(data)), maxHello)
	if h.buf == nil {
		h.buf = make([]byte, maxHello)
	}
	copy(h.buf[offset:end], data)
	h.have = mergeSpan(h.have, span{offset, end})
	h.check()
}

// check completes the ClientHello once its header and body have arrived.
func (h *helloBuffer) check() {
	if len(h.have) == 0 || h.have[0].from != 0 || h.have[0].to < 4 {
		return
	}
	if h.buf[0] != 1 { // client_hello (RFC 8446 §4)
		h.broken = true
		return
	}
	size := 4 + (uint64(h.buf[1])<<16 | uint64(h.buf[2])<<8 | uint64(h.buf[3]))
	if size > maxHello {
		h.broken = true
		return
	}
	if h.have[0].to >= size {
		h.done = slices.Clone(h.buf[:size])
		h.buf, h.have = nil, nil // free the buffer
	}
}

// random returns the ClientHello's 32-byte random: the body starts with
// the 2-byte legacy_version and then the random (RFC 8446 §4.1.2).
func (h *helloBuffer) random() ([]byte, bool) {
	if len(h.done) < 4+2+32 {
		return nil, false
	}
	return h.done[6:38], true
}

// mergeSpan inserts s into the sorted, disjoint list, merging every span
// it touches or overlaps.
func mergeSpan(list []span, s span) []span {
	i, _ := slices.BinarySearchFunc(list, s.from, func(e span, from uint64) int {
		switch {
		case e.to < from:
			return -1
		case e.to > from:
			return 1
		}
		return 0
	})
	// list[i:] are the spans that end at or after s.from; merge those
	// that start at or before s.to.
	j := i
	for j < len(list) && list[j].from <= s.to {
		s.from = min(s.from, list[j].from)
		s.to = max(s.to, list[j].to)
		j++
	}
	return slices.Replace(list, i, j, s)
}
