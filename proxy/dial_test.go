package proxy

import "testing"

func TestMapAddr(t *testing.T) {
	d := &dialer{hostMap: map[string]string{
		"news.test":     "127.0.0.1:8443",
		"px.test:80":    "127.0.0.1:8080",
		"px.test":       "127.0.0.2",
		"*":             "127.0.0.9:1",
		"portless.test": "::1",
	}}
	for _, tt := range []struct{ addr, want string }{
		{"news.test:443", "127.0.0.1:8443"},
		{"NEWS.test.:443", "127.0.0.1:8443"},
		{"px.test:80", "127.0.0.1:8080"},
		{"px.test:443", "127.0.0.2:443"},
		{"portless.test:443", "[::1]:443"},
		{"other.test:443", "127.0.0.9:1"},
		{"not an address", "not an address"},
	} {
		if got := d.mapAddr(tt.addr); got != tt.want {
			t.Errorf("mapAddr(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
	if got := (&dialer{}).mapAddr("news.test:443"); got != "news.test:443" {
		t.Errorf("without a map: %q", got)
	}
}
