package traffic

import "testing"

func TestSensitiveName(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"token", true}, {"access_token", true}, {"X-Api-Key", true}, {"userEmail", true}, {"X-CSRF-Token", true},
		{"session", true}, {"PHPSESSID", false}, {"sessionid", true}, {"refreshtoken", true}, {"pwd", true},
		{"id", false}, {"ev", false}, {"dl", false}, {"Keep-Alive", false}, {"User-Agent", false}, {"monkey", false},
	} {
		if got := SensitiveName(tt.name); got != tt.want {
			t.Errorf("SensitiveName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLooksLikeEmail(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"jane.doe@example.com", true}, {"a@b.co", true},
		{"@example.com", false}, {"jane@example", false}, {"jane@.com", false}, {"a@b@c.com", false},
		{"jane doe@example.com", false}, {"https://x.example/@user", false}, {"x@y.com/path", false},
	} {
		if got := LooksLikeEmail(tt.s); got != tt.want {
			t.Errorf("LooksLikeEmail(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", true},
		{"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.x", true},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", false}, // two parts
		{"eyJhbGciOiJIUzI1NiJ9..c2ln", false},           // empty part
		{"abc.def.ghi", false},                          // not JSON
		{"eyJhbGciOiJIUzI1NiJ9.eyJ zdWIi.c2ln", false},  // space
		{"fb.1.1700000000000.1234567890", false},
	} {
		if got := LooksLikeJWT(tt.s); got != tt.want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", tt.s, got, tt.want)
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
