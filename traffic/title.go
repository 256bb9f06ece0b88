package traffic

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// maxTitleScan bounds how much of a document is searched for its title;
// maxTitleLen how long a title is kept (in bytes).
const (
	maxTitleScan = 256 << 10
	maxTitleLen  = 300
)

// DocumentTitle returns the <title> of the HTML document in ex's recorded
// response body, with entities decoded and white space collapsed; "" when
// the response is no HTML or has no title in its head. Proxies and packet
// captures give pages no title of their own, as HAR files do.
func DocumentTitle(ex *Exchange) string {
	r := ex.Response
	if r == nil || len(r.Body) == 0 || !looksLikeHTML(r) {
		return ""
	}
	z := html.NewTokenizer(bytes.NewReader(r.Body[:min(len(r.Body), maxTitleScan)]))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "title":
				if z.Next() != html.TextToken {
					return ""
				}
				return cleanTitle(string(z.Text()))
			case "body":
				return ""
			}
		}
	}
}

// looksLikeHTML reports whether r's Content-Type says HTML or, without
// one, the body starts like an HTML document.
func looksLikeHTML(r *Response) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		return strings.Contains(strings.ToLower(ct), "html")
	}
	head := strings.ToLower(string(bytes.TrimLeft(r.Body[:min(len(r.Body), 64)], " \t\r\n\ufeff")))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// cleanTitle collapses white space, replaces invalid UTF-8 and cuts long
// titles at a rune boundary.
func cleanTitle(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if len(s) <= maxTitleLen {
		return s
	}
	cut := maxTitleLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
