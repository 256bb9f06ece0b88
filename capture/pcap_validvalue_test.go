package capture

import (
	"strings"
	"testing"
)

// TestValidValueWords checks the word-at-a-time validValue against the
// byte rule at every position of a long value, for every byte.
func TestValidValueWords(t *testing.T) {
	slow := func(v string) bool {
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				return false
			}
		}
		return true
	}
	base := []byte("sid=0123456789abcdef; _fbp=fb.1.1700000000000.12345\xc3\xa9~")
	for pos := 0; pos < len(base); pos++ {
		for c := 0; c < 256; c++ {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			for _, v := range []string{string(b), string(b[pos:]), string(b[:pos+1])} {
				if got, want := validValue(v), slow(v); got != want {
					t.Fatalf("validValue(%q) = %v, want %v", v, got, want)
				}
				if got, want := noCTL(v), !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }); got != want {
					t.Fatalf("noCTL(%q) = %v, want %v", v, got, want)
				}
			}
		}
	}
}
