package capture

import (
	"encoding/json"
	"testing"
)

func TestRedactBody(t *testing.T) {
	for _, tt := range []struct {
		name, mime, body, want string
	}{
		{"json by key and value", "application/json",
			`{"event":"Purchase","user":{"email":"jane@example.com","em":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},"id_token":"x","ids":[1,2]}`,
			`{"event":"Purchase","id_token":"REDACTED","ids":[1,2],"user":{"em":"REDACTED","email":"REDACTED"}}`},
		{"json sent as text/plain", "text/plain", `{"session":42,"ok":true}`, `{"ok":true,"session":"REDACTED"}`},
		{"form", "application/x-www-form-urlencoded", "ev=PageView&pwd=hunter2&dl=https%3A%2F%2Fx.example%2F", "ev=PageView&pwd=REDACTED&dl=https%3A%2F%2Fx.example%2F"},
		{"query lines (GA4 batch)", "text/plain;charset=UTF-8", "en=page_view&_et=12\nen=login&ep.email=a%40b.example", "en=page_view&_et=12\nen=login&ep.email=REDACTED"},
		{"unknown shape", "application/octet-stream", "\x08\x96\x01 some protobuf", "REDACTED"},
		{"two JSON values", "application/json", `{"a":1} {"b":2}`, "REDACTED"},
	} {
		if got := redactBody(tt.mime, []byte(tt.body)); got != tt.want {
			t.Errorf("%s: redactBody = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// FuzzRedactBody checks that redactBody never panics, that what it makes
// of a JSON body is JSON, and that redacting twice changes nothing more.
func FuzzRedactBody(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.example","n":[1,{"token":"x"}]}`, "a=1&pwd=2\nb=3", "\x00\x01", `[1e400]`, `"eyJa.b.c"`} {
		f.Add("application/json", []byte(s))
		f.Add("application/x-www-form-urlencoded", []byte(s))
	}
	f.Fuzz(func(t *testing.T, mime string, body []byte) {
		out := redactBody(mime, body)
		if json.Valid(body) && out != Redacted && !json.Valid([]byte(out)) {
			t.Errorf("redactBody(%q) = %q: JSON in, not JSON out", body, out)
		}
		if again := redactBody(mime, []byte(out)); again != out && out != Redacted {
			t.Errorf("redactBody not idempotent: %q -> %q -> %q", body, out, again)
		}
	})
}
