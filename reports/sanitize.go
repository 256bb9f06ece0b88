package reports

import (
	"strings"
	"unicode/utf8"
)

// Sanitize makes capture-derived text safe to print on a terminal. It
// removes ESC sequences (CSI "ESC [ … final", OSC "ESC ] … BEL|ESC \", and
// the other two-byte ESC forms), C0 controls, DEL, C1 controls
// (U+0080–U+009F), Unicode bidirectional overrides and isolates (which can
// make text read differently from what it is), and invalid UTF-8 bytes.
// Tabs, newlines and carriage returns become one space each, so the result
// is always a single line. Printable text, including non-ASCII, is kept
// as is. It never fails.
func Sanitize(s string) string {
	if cleanASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			i = skipEscape(s, i)
			continue
		}
		if c < utf8.RuneSelf {
			switch {
			case c == '\t' || c == '\n' || c == '\r':
				b.WriteByte(' ')
			case c >= 0x20 && c != 0x7f:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			i++ // invalid byte
			continue
		}
		if !dropRune(r) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// cleanASCII reports whether s is printable ASCII only, the common case,
// which Sanitize returns without copying.
func cleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// dropRune reports whether a valid non-ASCII rune must not reach a
// terminal: C1 controls, bidi embedding/override/isolate controls, line
// and paragraph separators.
func dropRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

// skipEscape returns the index just past the escape sequence starting at
// s[i] (an ESC byte). An unterminated sequence runs to the end of s.
func skipEscape(s string, i int) int {
	i++ // ESC
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[': // CSI: parameters and intermediates 0x20–0x3f, final 0x40–0x7e
		for i++; i < len(s); i++ {
			if c := s[i]; c >= 0x40 && c <= 0x7e {
				return i + 1
			} else if c < 0x20 || c > 0x3f {
				return i // malformed: stop here, the byte is handled normally
			}
		}
		return i
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: up to BEL or ST
		for i++; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return i
	default:
		// Two-byte forms (ESC c, ESC 7 …) and charset selections
		// (ESC ( B): skip intermediates, then one final byte.
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	}
}
