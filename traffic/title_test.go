package traffic

import (
	"net/http"
	"strings"
	"testing"
)

func TestDocumentTitle(t *testing.T) {
	long := strings.Repeat("é", 200)
	for _, tc := range []struct {
		name, ctype, body, want string
	}{
		{"plain", "text/html; charset=utf-8", "<!doctype html><html><head><title>Senator hid health scandal</title></head>", "Senator hid health scandal"},
		{"entities and white space", "text/html", "<html><head>\n<title>\n  Tom &amp; Jerry &ndash;\n News </title>", "Tom & Jerry – News"},
		{"tags inside the title are text", "text/html", "<title>a <b>bold</b> claim</title>", "a <b>bold</b> claim"},
		{"attributes on the title tag", "text/html", `<TITLE lang="en">Upper</TITLE>`, "Upper"},
		{"no title", "text/html", "<html><head></head><body><h1>x</h1></body>", ""},
		{"a title in the body does not count", "text/html", "<html><body><svg><title>icon</title></svg>", ""},
		{"empty title", "text/html", "<title></title>", ""},
		{"not HTML", "application/json", `{"title":"<title>x</title>"}`, ""},
		{"no Content-Type but an HTML start", "", "\n<!DOCTYPE html><title>Sniffed</title>", "Sniffed"},
		{"no Content-Type and no HTML start", "", "GIF89a<title>x</title>", ""},
		{"invalid UTF-8", "text/html", "<title>caf\xe9</title>", "caf\uFFFD"},
		{"long titles are cut at a rune", "text/html", "<title>" + long + "</title>", long[:300] + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.ctype != "" {
				h.Set("Content-Type", tc.ctype)
			}
			ex := &Exchange{Response: &Response{Status: 200, Header: h, Body: []byte(tc.body)}}
			if got := DocumentTitle(ex); got != tc.want {
				t.Errorf("DocumentTitle = %q, want %q", got, tc.want)
			}
		})
	}
	if got := DocumentTitle(&Exchange{}); got != "" {
		t.Errorf("no response: %q", got)
	}
}

func FuzzDocumentTitle(f *testing.F) {
	f.Add("<title>a &amp; b</title>")
	f.Add("<!doctype html><html><head><title>\xff\xfe</title>")
	f.Fuzz(func(t *testing.T, body string) {
		ex := &Exchange{Response: &Response{Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte(body)}}
		got := DocumentTitle(ex)
		if len(got) > maxTitleLen+len("…") || strings.ContainsAny(got, "\n\t") {
			t.Fatalf("title %q", got)
		}
	})
}
