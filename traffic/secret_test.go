package traffic

import "testing"

// TestSecretPredicates checks the tests that decide what counts as a
// secret: parameter and header names, e-mail addresses, JWTs.
func TestSecretPredicates(t *testing.T) {
	preds := map[string]func(string) bool{"SensitiveName": SensitiveName, "LooksLikeEmail": LooksLikeEmail, "LooksLikeJWT": LooksLikeJWT}
	for _, tt := range []struct {
		pred string
		s    string
		want bool
	}{
		{"SensitiveName", "token", true}, {"SensitiveName", "access_token", true}, {"SensitiveName", "X-Api-Key", true},
		{"SensitiveName", "userEmail", true}, {"SensitiveName", "X-CSRF-Token", true}, {"SensitiveName", "session", true},
		{"SensitiveName", "PHPSESSID", false}, {"SensitiveName", "sessionid", true}, {"SensitiveName", "refreshtoken", true},
		{"SensitiveName", "pwd", true}, {"SensitiveName", "id", false}, {"SensitiveName", "ev", false},
		{"SensitiveName", "dl", false}, {"SensitiveName", "Keep-Alive", false}, {"SensitiveName", "User-Agent", false},
		{"SensitiveName", "monkey", false},

		{"LooksLikeEmail", "jane.doe@example.com", true}, {"LooksLikeEmail", "a@b.co", true},
		{"LooksLikeEmail", "@example.com", false}, {"LooksLikeEmail", "jane@example", false}, {"LooksLikeEmail", "jane@.com", false},
		{"LooksLikeEmail", "a@b@c.com", false}, {"LooksLikeEmail", "jane doe@example.com", false},
		{"LooksLikeEmail", "https://x.example/@user", false}, {"LooksLikeEmail", "x@y.com/path", false},

		{"LooksLikeJWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", true},
		{"LooksLikeJWT", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.x", true},
		{"LooksLikeJWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", false}, // two parts
		{"LooksLikeJWT", "eyJhbGciOiJIUzI1NiJ9..c2ln", false},           // empty part
		{"LooksLikeJWT", "abc.def.ghi", false},                          // not JSON
		{"LooksLikeJWT", "eyJhbGciOiJIUzI1NiJ9.eyJ zdWIi.c2ln", false},  // space
		{"LooksLikeJWT", "fb.1.1700000000000.1234567890", false},
	} {
		if got := preds[tt.pred](tt.s); got != tt.want {
			t.Errorf("%s(%q) = %v, want %v", tt.pred, tt.s, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://x.example/a?b=1&token=t&e=j%40x.example#frag", "https://x.example/a?b=1&token=REDACTED&e=REDACTED#frag"},
		{"https://user:pw@x.example/", "https://user:REDACTED@x.example/"},
		{"https://x.example/p?jwt=1&id=eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.x", "https://x.example/p?jwt=REDACTED&id=REDACTED"},
		{"https://x.example/plain", "https://x.example/plain"},
		{"https://x.example/?h=0123456789abcdef0123456789abcdef&n=1", "https://x.example/?h=REDACTED&n=1"},
		{"https://user@x.example/?q=%zz&pwd=%zz", "https://user@x.example/?q=%zz&pwd=REDACTED"},
		{"https://t.example/tr?dl=https%3A%2F%2Fnews.example%2Fa%3Fsession%3Ds1&rl=https%3A%2F%2Fnews.example%2F", "https://t.example/tr?dl=REDACTED&rl=https%3A%2F%2Fnews.example%2F"},
		{"android-app://x", "android-app://x"},
	} {
		if got := RedactURL(tt.in, func(string) string { return "REDACTED" }); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
