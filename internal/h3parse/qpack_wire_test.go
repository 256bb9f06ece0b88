package h3parse

import (
	"errors"
	"testing"
)

// TestPrefixInt decodes the integer examples of RFC 7541 Appendix C.1 and
// the edge cases of RFC 9204 §4.1.1.
func TestPrefixInt(t *testing.T) {
	tests := []struct {
		hex  string
		n    uint8
		want uint64
		used int
		err  error
	}{
		{"0a", 5, 10, 1, nil},       // C.1.1
		{"ea", 5, 10, 1, nil},       // flag bits above the prefix are ignored
		{"1f9a0a", 5, 1337, 3, nil}, // C.1.2
		{"2a", 8, 42, 1, nil},       // C.1.3
		{"1f00", 5, 31, 2, nil},     // the prefix's maximum
		{"1f9a", 5, 0, 0, errShort}, // continuation missing
		{"", 5, 0, 0, errShort},     // nothing
		{"1fffffffffffffffffffff01", 5, 0, 0, ErrProtocol},
		{"1fe0ffffffffffffff3f", 5, 1<<62 - 1, 10, nil},
		{"1fe1ffffffffffffff3f", 5, 0, 0, ErrProtocol}, // 2^62
	}
	for _, tt := range tests {
		v, n, err := readPrefixInt(unhex(t, tt.hex), tt.n)
		if v != tt.want || n != tt.used || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("readPrefixInt(%s, %d) = %d, %d, %v; want %d, %d, %v", tt.hex, tt.n, v, n, err, tt.want, tt.used, tt.err)
		}
	}
}

// TestString decodes raw and Huffman string literals (RFC 7541 C.4.1:
// "www.example.com" Huffman-coded) and refuses what is too long.
func TestString(t *testing.T) {
	tests := []struct {
		hex  string
		n    uint8
		max  int
		want string
		err  error
	}{
		{"8cf1e3c2e5f23a6ba0ab90f4ff", 7, 100, "www.example.com", nil},
		{"0f7777772e6578616d706c652e636f6d", 7, 100, "www.example.com", nil},
		{"0f7777772e6578616d706c652e636f6d", 7, 14, "", ErrLimit},
		{"8cf1e3c2e5f23a6ba0ab90f4ff", 7, 1, "", ErrLimit}, // 12 Huffman bytes > 4*1+4
		{"0f7777", 7, 100, "", errShort},
		{"82ffff", 7, 100, "", ErrProtocol}, // EOS padding longer than 7 bits
		{"23616263", 3, 100, "abc", nil},    // 3-bit prefix with the H bit clear ('001N H=0')
	}
	for _, tt := range tests {
		s, _, err := readString(unhex(t, tt.hex), tt.n, tt.max)
		if s != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("readString(%s) = %q, %v; want %q, %v", tt.hex, s, err, tt.want, tt.err)
		}
	}
}
