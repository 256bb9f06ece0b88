package quicread

import (
	"strings"
	"testing"
)

// TestStateString checks the reasons are short lowercase English.
func TestStateString(t *testing.T) {
	want := map[State]string{
		Handshake:   "handshake not seen",
		NoKeys:      "no keys",
		Decrypting:  "decrypting",
		AuthFailed:  "failed authentication",
		Unsupported: "unsupported quic version",
		State(99):   "unknown state",
	}
	for s, w := range want {
		if got := s.String(); got != w || strings.ToLower(got) != got {
			t.Errorf("%d: %q, want %q", int(s), got, w)
		}
	}
}
