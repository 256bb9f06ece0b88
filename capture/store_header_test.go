package capture

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestStoreHeaderMatchesJSON checks that the hand-written header encoder
// writes exactly what json.Marshal writes, which captures made before it
// hold and which ReadStore decodes.
func TestStoreHeaderMatchesJSON(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
	}{
		{"empty", http.Header{}},
		{"plain", http.Header{"Cookie": {"a=1; b=2"}, "Accept": {"*/*"}, "User-Agent": {"Go-http-client/1.1"}}},
		{"sorted keys and repeated values", http.Header{"Z": {"1", "2"}, "A": {"x"}, "M": {}}},
		{"nil values", http.Header{"X-Nil": nil}},
		{"html characters", http.Header{"Referer": {"https://a.example/?q=<b>&x=\"y\""}}},
		{"escapes and controls", http.Header{"X": {"tab\there\\ \x00 \x1f \x7f"}}},
		{"unicode and invalid utf-8", http.Header{"X-Ü": {"naïve \u2028 \u2029 \xff\xfe"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if got := storeHeader(tc.h); got != string(want) {
				t.Errorf("storeHeader = %s, want %s", got, want)
			}
		})
	}
	if got := storeHeader(nil); got != nil {
		t.Errorf("storeHeader(nil) = %v, want nil (NULL)", got)
	}
}

// FuzzStoreHeader compares storeHeader with json.Marshal on arbitrary
// header names and values (they come from the network).
func FuzzStoreHeader(f *testing.F) {
	f.Add("Cookie", "a=1", "b")
	f.Add("X-\u00dc", "\xff<>&\"\\", "\u2028")
	f.Fuzz(func(t *testing.T, k, v1, v2 string) {
		h := http.Header{k: {v1, v2}, "Host": {v2}}
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := storeHeader(h); got != string(want) {
			t.Errorf("storeHeader(%q) = %s, want %s", h, got, want)
		}
	})
}
