package rules

import (
	"strings"
	"testing"
)

func TestPathPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/tr", "/tr", true},
		{"/tr", "/tr/", false},
		{"/tr", "/track", false},
		{"/tr/*", "/tr/", true},
		{"/tr/*", "/tr/abc", true},
		{"/tr/*", "/tr/a/b", false},
		{"/*/fbevents.js", "/en_US/fbevents.js", true},
		{"/*/fbevents.js", "/fbevents.js", false},
		{"/*/fbevents.js", "/a/b/fbevents.js", false},
		{"/plugins/*.php", "/plugins/like.php", true},
		{"/plugins/*.php", "/plugins/like.js", false},
		{"/plugins/*.php", "/plugins/x/like.php", false},
		{"/v*/plugins/like.php", "/v2.5/plugins/like.php", true},
		{"/v*/plugins/like.php", "/plugins/like.php", false},
		{"/b/ss/**", "/b/ss/rsid/1/H.22.1/s123", true},
		{"/b/ss/**", "/b/ss/", true},
		{"/b/ss/**", "/b/s", false},
		{"/activity;**", "/activity;src=1;type=x;~oref=https://news.example/a", true},
		{"/activity;**", "/activityi;src=1", false},
		{"/p/*/embed/**", "/p/ABC/embed/captioned/", true},
		{"/p/*/embed/**", "/p/ABC/x/embed/", false},
		{"/**/x.js", "/a/b/c/x.js", true},
		{"/**/x.js", "/x.js", false},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/aXbY/c", false},
		{"/a**b*c", "/a/b/bc", true},
		{"/Tr", "/tr", false}, // case-sensitive
	}
	for _, tt := range tests {
		pp, err := compilePath(tt.pattern)
		if err != nil {
			t.Fatalf("compilePath(%q): %v", tt.pattern, err)
		}
		if got := pp.match(tt.path); got != tt.want {
			t.Errorf("%q matching %q = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
		if got := refMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("reference: %q matching %q = %v, want %v (test table wrong?)", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestCompilePathErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "must start with /"},
		{"tr", "must start with /"},
		{"/a b", "must not contain spaces"},
		{"/a?b", "must not contain spaces, ? or #"},
		{"/a***", "***"},
		{"/" + strings.Repeat("a", 80), "too long"},
	}
	for _, tt := range tests {
		_, err := compilePath(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("compilePath(%q) error = %v, want one containing %q", tt.pattern, err, tt.want)
		}
	}
}

// refMatch is an obviously correct (exponential) reference matcher for the
// glob syntax, used to check the bit-parallel one.
func refMatch(pat, s string) bool {
	if pat == "" {
		return s == ""
	}
	if strings.HasPrefix(pat, "**") {
		for i := 0; i <= len(s); i++ {
			if refMatch(pat[2:], s[i:]) {
				return true
			}
		}
		return false
	}
	if pat[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if refMatch(pat[1:], s[i:]) {
				return true
			}
			if i < len(s) && s[i] == '/' {
				break
			}
		}
		return false
	}
	return s != "" && s[0] == pat[0] && refMatch(pat[1:], s[1:])
}

// FuzzPathPattern checks the compiled matcher against the reference on
// short inputs.
func FuzzPathPattern(f *testing.F) {
	f.Add("/a*b**c", "/aXb/Y/c")
	f.Add("/*/fbevents.js", "/en_US/fbevents.js")
	f.Add("/b/ss/**", "/b/ss/x/1")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 12 || len(path) > 16 {
			return // the reference is exponential
		}
		pp, err := compilePath(pattern)
		if err != nil {
			return
		}
		if got, want := pp.match(path), refMatch(pattern, path); got != want {
			t.Errorf("%q matching %q = %v, reference says %v", pattern, path, got, want)
		}
	})
}
