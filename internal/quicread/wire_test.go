package quicread

import "testing"

// TestVarint decodes the examples of RFC 9000 Appendix A.1 and truncated
// encodings.
func TestVarint(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
		left int
	}{
		{"c2197c5eff14e88c", 151288809941952652, true, 0},
		{"9d7f3e7d", 494878333, true, 0},
		{"7bbd", 15293, true, 0},
		{"25", 37, true, 0},
		{"4025", 37, true, 0},
		{"2501", 37, true, 1},
		{"ffffffffffffffff", maxVarint, true, 0},
		{"", 0, false, 0},
		{"40", 0, false, 0},
		{"9d7f3e", 0, false, 0},
		{"c2197c5eff14e8", 0, false, 0},
	}
	for _, tt := range tests {
		r := reader{b: unhex(t, tt.in)}
		got := r.varint()
		if got != tt.want || r.ok() != tt.ok || len(r.b) != tt.left {
			t.Errorf("%s: %d ok=%v left=%d", tt.in, got, r.ok(), len(r.b))
		}
	}
}

// TestReader checks that a failed read poisons the reader.
func TestReader(t *testing.T) {
	r := reader{b: []byte{1, 2, 3}}
	if r.byte1() != 1 || r.uint32be() != 0 || r.ok() || !r.empty() {
		t.Errorf("after overrun: ok=%v left=%d", r.ok(), len(r.b))
	}
	r = reader{b: []byte{0, 0, 0, 1, 9}}
	if r.uint32be() != 1 || len(r.bytes(1)) != 1 || r.bytes(1) != nil || r.ok() {
		t.Error("bytes past the end")
	}
	r = reader{b: []byte{1}}
	if r.bytes(1<<63) != nil || r.ok() {
		t.Error("huge length accepted")
	}
}

// TestDecodePacketNumber checks RFC 9000 Appendix A.3's example and the
// edges of the window.
func TestDecodePacketNumber(t *testing.T) {
	tests := []struct {
		largest   int64
		truncated uint64
		bits      uint
		want      uint64
	}{
		{0xa82f30ea, 0x9b32, 16, 0xa82f9b32}, // the RFC's example
		{-1, 0, 8, 0},
		{-1, 5, 8, 5},
		{-1, 0xff, 8, 0xff},
		{0xff, 0x00, 8, 0x100},
		{0x17f, 0x00, 8, 0x200}, // candidate at expected-hwin: moves up
		{0x180, 0x00, 8, 0x200}, // candidate below expected-hwin
		{0x17e, 0x00, 8, 0x100}, // candidate just above expected-hwin
		{0x100, 0xff, 8, 0xff},  // slightly older packet
		{0x10, 0xf0, 8, 0xf0},   // no wrap below zero
		{654360563, 0x00bff4, 24, 654360564},
		{maxVarint - 1, 0xff, 8, maxVarint}, // no overflow past 2^62
	}
	for _, tt := range tests {
		if got := decodePacketNumber(tt.largest, tt.truncated, tt.bits); got != tt.want {
			t.Errorf("largest %#x truncated %#x/%d: %#x, want %#x", tt.largest, tt.truncated, tt.bits, got, tt.want)
		}
	}
}
