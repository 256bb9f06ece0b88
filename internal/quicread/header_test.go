package quicread

import "testing"

// TestParseLong checks long header parsing (RFC 9000 §17.2) on hand-made
// headers.
func TestParseLong(t *testing.T) {
	tests := []struct {
		name     string
		hex      string
		ok       bool
		typ      byte
		version  uint32
		pnOffset int
		size     int
	}{
		{"initial with token", "c0 00000001 02 aabb 01 cc 02 7777 05 0102030405 ffff", true, typeInitial, 1, 14, 19},
		{"0-rtt", "d0 00000001 00 00 03 010203", true, typeZeroRTT, 1, 8, 11},
		{"handshake, coalesced", "e0 00000001 01 aa 00 02 0102 40", true, typeHandshake, 1, 9, 11},
		{"retry", "f0 00000001 00 04 01020304 746f6b656e 00112233445566778899aabbccddeeff", true, typeRetry, 1, 0, 32},
		{"version negotiation", "80 00000000 01 aa 01 bb 00000001 6b3343cf", true, 0, 0, 0, 17},
		{"version 2 initial (type bits 01)", "d0 6b3343cf 01 aa 01 bb 00 01 00", true, typeInitial, 0x6b3343cf, 11, 12},
		{"version 2 retry (type bits 00)", "c0 6b3343cf 01 aa 01 bb 0000", true, typeRetry, 0x6b3343cf, 0, 11},
		{"another version", "c0 ff00001d 01 aa 01 bb 0000", true, 0, 0xff00001d, 0, 11},
		{"length beyond", "c0 00000001 00 00 00 06 0102030405", false, 0, 1, 0, 0},
		{"dcid of 21", "c0 00000001 15 000102030405060708090a0b0c0d0e0f1011121314 00 00 01 00", false, 0, 1, 0, 0},
		{"cut in scid", "c0 00000001 00 04 0102", false, 0, 1, 0, 0},
		{"cut in token", "c0 00000001 00 00 05 0102", false, 0, 1, 0, 0},
		{"no length", "e0 00000001 00 00", false, 0, 1, 0, 0},
	}
	for _, tt := range tests {
		h, ok := parseLong(unhex(t, tt.hex))
		if ok != tt.ok || ok && (h.typ != tt.typ || h.version != tt.version || h.pnOffset != tt.pnOffset || h.size != tt.size) {
			t.Errorf("%s: %+v ok=%v", tt.name, h, ok)
		}
	}
}
