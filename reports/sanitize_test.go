package reports

import (
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://news.example/a?b=c", "https://news.example/a?b=c"},
		{"empty", "", ""},
		{"clear screen", "a\x1b[2Jb", "ab"},
		{"colour", "\x1b[31;1mred\x1b[0m", "red"},
		{"osc 8 hyperlink bel", "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", "click"},
		{"osc 8 hyperlink st", "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"osc title unterminated", "x\x1b]0;pwned", "x"},
		{"two-byte esc", "a\x1bcb", "ab"},
		{"charset esc", "a\x1b(Bb", "ab"},
		{"lone esc at end", "a\x1b", "a"},
		{"c1 csi", "a\u009b31mb", "a31mb"},
		{"c1 next line", "a\u0085b", "ab"},
		{"c0", "a\x00b\x07c\x08d", "abcd"},
		{"del", "a\x7fb", "ab"},
		{"tab newline cr", "a\tb\nc\rd", "a b c d"},
		{"invalid utf8", "a\xffb\xc3", "ab"},
		{"keeps unicode", "Zürich – 東京 ✓", "Zürich – 東京 ✓"},
		{"bidi override", "abc\u202egnp.exe", "abcgnp.exe"},
		{"line separator", "a\u2028b", "ab"},
	}
	for _, tt := range tests {
		if got := Sanitize(tt.in); got != tt.want {
			t.Errorf("%s: Sanitize(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// unsafeForTerminal reports the first rune Sanitize must never let through.
func unsafeForTerminal(s string) (rune, bool) {
	if !utf8.ValidString(s) {
		return utf8.RuneError, true
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || dropRune(r) {
			return r, true
		}
	}
	return 0, false
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\x1b]8;;u\x07t\x1b]8;;\x07", "\u009b1m", "\xff\xfe", "a\tb\n", "\x1b[", "\x1b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		if r, bad := unsafeForTerminal(got); bad {
			t.Fatalf("Sanitize(%q) = %q, contains %U", s, got, r)
		}
		if again := Sanitize(got); again != got {
			t.Fatalf("Sanitize is not idempotent: %q -> %q -> %q", s, got, again)
		}
		if len(got) > len(s) {
			t.Fatalf("Sanitize(%q) grew to %q", s, got)
		}
	})
}

func BenchmarkSanitize(b *testing.B) {
	for _, in := range []struct{ name, s string }{
		{"clean", "https://www.facebook.com/tr?id=123&ev=PageView&dl=https%3A%2F%2Fnews.example%2F"},
		{"dirty", "https://evil.example/\x1b]8;;x\x07 Zürich \x1b[2J\xff"},
	} {
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				Sanitize(in.s)
			}
		})
	}
}
