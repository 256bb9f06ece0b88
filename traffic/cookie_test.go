package traffic

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseCookieHeader(t *testing.T) {
	tests := []struct {
		in   string
		want []Cookie
	}{
		{"", nil},
		{"_fbp=fb.1.1732800000000.1234567890; _ga=GA1.1.987654321.1732800000",
			[]Cookie{{"_fbp", "fb.1.1732800000000.1234567890"}, {"_ga", "GA1.1.987654321.1732800000"}}},
		{"c_user=100012345678901;xs=12%3Aabc;  datr = x ; fr=", []Cookie{{"c_user", "100012345678901"}, {"xs", "12%3Aabc"}, {"datr", "x"}, {"fr", ""}}},
		{"a=1; a=2", []Cookie{{"a", "1"}, {"a", "2"}}},
		{`q="quoted value"; flag`, []Cookie{{"q", `"quoted value"`}, {"flag", ""}}},
		{"=novalue; ;;  ; b=c=d", []Cookie{{"b", "c=d"}}},
	}
	for _, tc := range tests {
		got := ParseCookieHeader(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("ParseCookieHeader(%q) = %q, want %q", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseCookieHeader(%q)[%d] = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestExchangeCookies(t *testing.T) {
	ex := &Exchange{Request: Request{Header: http.Header{"Cookie": {"a=1; b=2", "c=3"}}}}
	got := ex.Cookies()
	if len(got) != 3 || got[2] != (Cookie{"c", "3"}) {
		t.Errorf("Cookies() = %+v, want a, b, c from both headers", got)
	}
}

// FuzzParseCookieHeader checks that parsing never panics and that every
// cookie has a trimmed, non-empty name without separators.
func FuzzParseCookieHeader(f *testing.F) {
	for _, s := range []string{"", "a=b", "_fbp=fb.1.2.3; c_user=1", " ; =x;y", "a=\"b;c\"", "\xff=\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		cs := ParseCookieHeader(h)
		if len(cs) > strings.Count(h, ";")+1 {
			t.Fatalf("%d cookies from %d parts", len(cs), strings.Count(h, ";")+1)
		}
		for _, c := range cs {
			if c.Name == "" || c.Name != strings.TrimSpace(c.Name) || strings.ContainsAny(c.Name, ";=") {
				t.Fatalf("bad cookie name %q from %q", c.Name, h)
			}
			if strings.Contains(c.Value, ";") || c.Value != strings.TrimSpace(c.Value) {
				t.Fatalf("bad cookie value %q from %q", c.Value, h)
			}
		}
	})
}
