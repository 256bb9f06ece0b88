package capture

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// What WriteHAR hides without ShowSecrets, walking the structure rather
// than matching text (reliability-security.md §3.2): the values of
// cookies and credentials; query, form and JSON values
// whose name is sensitive (traffic.SensitiveName: token, session, key,
// email …) or that look like an e-mail address, a JWT or a hex hash; the
// same in URLs carried by Referer, Origin and Location; the values of
// other headers with sensitive names; request bodies of no known
// structure; and response bodies, which hold whatever the site showed
// the user. Names, methods, hosts, paths and sizes stay: they are the
// evidence.

// redacted is the hide function of a redacted export.
func redacted(string) string { return Redacted }

// redactURL hides u's secret query values and user-info password.
func redactURL(u string) string { return traffic.RedactURL(u, redacted) }

// redactHeader hides the secret part of one header value: cookie values
// (names kept), Set-Cookie's value (attributes kept), the credentials of
// Authorization headers (scheme kept), URLs' secret parameters, and the
// whole value of any other header with a sensitive name.
func redactHeader(name, v string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Cookie":
		cs := traffic.ParseCookieHeader(v)
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = c.Name + "=" + Redacted
		}
		return strings.Join(parts, "; ")
	case "Set-Cookie":
		first, attrs, hasAttrs := strings.Cut(v, ";")
		name, _, _ := strings.Cut(first, "=")
		out := strings.TrimSpace(name) + "=" + Redacted
		if hasAttrs {
			out += ";" + attrs
		}
		return out
	case "Authorization", "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			return scheme + " " + Redacted
		}
		return Redacted
	case "Referer", "Origin", "Location", "Content-Location":
		return redactURL(v)
	}
	if traffic.SensitiveName(name) {
		return Redacted
	}
	return v
}

// redactBody returns a request body as HAR postData text with its
// secrets hidden: JSON by key and value, form and query-line bodies (GA4
// batches lines of query strings) by name and value. A body of any other
// shape cannot be checked and is replaced whole.
func redactBody(mime string, body []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers keep their digits
	if dec.Decode(&v) == nil && !dec.More() {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if enc.Encode(redactJSON("", v)) == nil {
			return strings.TrimSuffix(buf.String(), "\n")
		}
	}
	text := string(body)
	if strings.Contains(mime, "x-www-form-urlencoded") || looksLikePairLines(text) {
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			lines[i] = traffic.RedactPairs(l, redacted)
		}
		return strings.Join(lines, "\n")
	}
	return Redacted
}

// looksLikePairLines reports whether s is lines of name=value pairs with
// no spaces: a form body sent with another content type.
func looksLikePairLines(s string) bool {
	return s != "" && strings.Contains(s, "=") && !strings.ContainsAny(s, " \t\r{}<>")
}

// redactJSON hides the values under sensitive keys and the strings that
// look like secrets anywhere in a decoded JSON value.
func redactJSON(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = redactJSON(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redactJSON(key, e)
		}
		return x
	case string:
		if traffic.SecretValue(key, x) {
			return Redacted
		}
	case json.Number, bool:
		if traffic.SensitiveName(key) {
			return Redacted
		}
	}
	return v
}
