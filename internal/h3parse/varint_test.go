package h3parse

import "testing"

// TestVarint decodes the examples of RFC 9000 Appendix A.1, whole and
// byte by byte, and round-trips the boundaries of each length.
func TestVarint(t *testing.T) {
	tests := []struct {
		hex  string
		want uint64
	}{
		{"c2197c5eff14e88c", 151288809941952652},
		{"9d7f3e7d", 494878333},
		{"7bbd", 15293},
		{"25", 37},
		{"4025", 37}, // not the shortest encoding, still valid
	}
	for _, tt := range tests {
		b := unhex(t, tt.hex)
		if v, n := parseVarint(b); v != tt.want || n != len(b) {
			t.Errorf("parseVarint(%s) = %d, %d", tt.hex, v, n)
		}
		if _, n := parseVarint(b[:len(b)-1]); n != 0 {
			t.Errorf("parseVarint of a cut %s used %d bytes", tt.hex, n)
		}
		var r varintReader
		for i := range b {
			n, done := r.feed(b[i : i+1])
			if n != 1 || done != (i == len(b)-1) {
				t.Fatalf("%s byte %d: used %d, done %v", tt.hex, i, n, done)
			}
		}
		if v := r.value(); v != tt.want || r.started() {
			t.Errorf("varintReader(%s) = %d", tt.hex, v)
		}
	}
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, maxVarint} {
		if got, n := parseVarint(appendVarint(nil, v)); got != v || n != len(appendVarint(nil, v)) {
			t.Errorf("round trip of %d gave %d", v, got)
		}
	}
}
