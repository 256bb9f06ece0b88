package detectors

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/trackaudit/trackaudit/traffic"
)

// Watched is a personal value the user asked to look for (--pii): the
// detector searches every request for it in plain, case-folded,
// URL-encoded, base64 and hashed forms.
type Watched struct {
	// Kind is "email", "phone", "name" or "text"; it decides how the value
	// is normalised before hashing (e-mail trimmed and lower-cased, phone
	// digits only), as Meta and Google normalise before matching.
	Kind  string
	Value string
}

// Normalized returns the value as ad platforms normalise it before hashing
// (Meta advanced matching and Google enhanced conversions: e-mail trimmed
// and lower-cased; phone digits only, with the country code as given;
// names trimmed and lower-cased). Text is kept as given.
func (w Watched) Normalized() string {
	v := strings.TrimSpace(w.Value)
	switch w.Kind {
	case "email", "name":
		return strings.ToLower(v)
	case "phone":
		return strings.Map(func(r rune) rune {
			if '0' <= r && r <= '9' {
				return r
			}
			return -1
		}, v)
	}
	return v
}

// needle is one encoded form of a watched value.
type needle struct {
	label    string // "email"
	encoding string // "plain", "sha256" …
	text     string // lower-cased, searched in lower-cased haystacks
}

// PIIWatch searches every request for the user's own personal values. It
// looks at the URL, each query parameter, headers and cookies, and bodies
// (forms, JSON, multipart), unwrapping nested URL-encoding, base64 and
// JSON-in-a-string, for the value in plain, case-folded, URL-encoded and
// base64 form and as the MD5, SHA-1 and SHA-256 of its normalised form.
//
// It reports third-party requests, and first-party ones only when a tracker
// rule matched them (server-side tag managers on the site's own host): the
// site's own login form receiving your e-mail is not a leak.
type PIIWatch struct {
	needles []needle
}

// NewPIIWatch returns the detector for ws; with no values it finds nothing.
func NewPIIWatch(ws []Watched) *PIIWatch {
	d := &PIIWatch{}
	seen := map[string]bool{}
	add := func(label, enc, text string) {
		text = strings.ToLower(text)
		// Very short values would match everywhere.
		if len(text) < 4 || seen[text] {
			return
		}
		seen[text] = true
		d.needles = append(d.needles, needle{label, enc, text})
	}
	for _, w := range ws {
		label := w.Kind
		plain, norm := strings.TrimSpace(w.Value), w.Normalized()
		add(label, "plain", plain)
		add(label, "normalised", norm)
		for _, v := range []string{plain, norm} {
			add(label, "URL-encoded", url.QueryEscape(v))
			add(label, "URL-encoded", url.PathEscape(v))
			add(label, "base64", strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(v)), "="))
			add(label, "base64", strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(v)), "="))
		}
		for _, v := range []string{norm, plain} {
			m, s1, s2 := md5.Sum([]byte(v)), sha1.Sum([]byte(v)), sha256.Sum256([]byte(v))
			add(label, "md5", hex.EncodeToString(m[:]))
			add(label, "sha1", hex.EncodeToString(s1[:]))
			add(label, "sha256", hex.EncodeToString(s2[:]))
			add(label, "sha256, base64", strings.TrimRight(base64.StdEncoding.EncodeToString(s2[:]), "="))
			// GA4 user-provided data (em=tv.1~em.…) uses the URL-safe alphabet.
			add(label, "sha256, base64", base64.RawURLEncoding.EncodeToString(s2[:]))
		}
		if w.Kind == "phone" && len(norm) > 0 {
			// Some tags hash the phone with a leading "+".
			s := sha256.Sum256([]byte("+" + norm))
			add(label, "sha256", hex.EncodeToString(s[:]))
		}
	}
	return d
}

// Name implements Detector.
func (d *PIIWatch) Name() string { return "piiwatch" }

// place is one searchable string of a request and where it was.
type place struct{ where, value string }

// maxUnwrap bounds how deep nested encodings are unwrapped.
const maxUnwrap = 3

// Detect implements Detector.
func (d *PIIWatch) Detect(ex *traffic.Exchange) []traffic.Finding {
	if len(d.needles) == 0 || ex.HostOnly || ex.Request.URL == nil {
		return nil
	}
	tr := ex.Tracker()
	if !ex.ThirdParty() && ex.Page != nil && tr == nil {
		return nil
	}
	type key struct{ label, enc, where string }
	found := map[key]bool{}
	hit := map[string]bool{} // needle text already found in a specific place
	var out []traffic.Finding
	// check searches a raw fallback place for needles no structured place held.
	check := func(p place) {
		lower := strings.ToLower(p.value)
		for _, n := range d.needles {
			if !strings.Contains(lower, n.text) || hit[n.text] {
				continue
			}
			hit[n.text] = true
			k := key{n.label, n.encoding, p.where}
			if found[k] {
				continue
			}
			found[k] = true
			out = append(out, d.finding(ex, tr, n, p))
		}
	}
	// A value found both in a place and in what that place unwraps to
	// (query:pd and query:pd › $.em) is reported at the innermost place only.
	type match struct {
		n needle
		p place
	}
	var ms []match
	for _, p := range structuredPlaces(ex) {
		lower := strings.ToLower(p.value)
		for _, n := range d.needles {
			if strings.Contains(lower, n.text) {
				ms = append(ms, match{n, p})
			}
		}
	}
	for i, m := range ms {
		hit[m.n.text] = true
		deeper := false
		// Places come parent first, its unwrapped children right after it.
		for j := i + 1; j < len(ms) && !deeper; j++ {
			child := strings.HasPrefix(ms[j].p.where, m.p.where+" ")
			if !child && ms[j].p.where != m.p.where {
				break
			}
			deeper = child && ms[j].n.text == m.n.text
		}
		k := key{m.n.label, m.n.encoding, m.p.where}
		if deeper || found[k] {
			continue
		}
		found[k] = true
		out = append(out, d.finding(ex, tr, m.n, m.p))
	}
	// The raw URL and body catch what structured parsing missed.
	check(place{"url", ex.Request.URL.String()})
	if len(ex.Request.Body) > 0 {
		check(place{"body", string(ex.Request.Body)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Evidence[0].Where < out[j].Evidence[0].Where })
	return out
}

func (d *PIIWatch) finding(ex *traffic.Exchange, tr *traffic.Finding, n needle, p place) traffic.Finding {
	f := traffic.Finding{
		Kind:     traffic.KindPII,
		Severity: traffic.SeverityHigh,
		Detector: d.Name(),
		Company:  ex.Site(),
	}
	if tr != nil {
		f.Company, f.Product, f.Category, f.RuleID = tr.Company, tr.Product, tr.Category, tr.RuleID
	}
	to := f.Company
	if f.Product != "" {
		to += " " + f.Product
	}
	f.Summary = fmt.Sprintf("sent your %s (%s) to %s in %s", n.label, n.encoding, to, p.where)
	f.Evidence = []traffic.Evidence{{Where: p.where, Label: n.label + " as " + n.encoding, Value: excerpt(p.value, n.text), Secret: true}}
	return f
}

// excerpt returns the part of v that matched text (in v's own case).
func excerpt(v, text string) string {
	i := strings.Index(strings.ToLower(v), text)
	if i < 0 || i+len(text) > len(v) {
		return text
	}
	return v[i : i+len(text)]
}

// structuredPlaces lists the request's parameters, headers, cookies and
// multipart fields, each also unwrapped from nested encodings.
func structuredPlaces(ex *traffic.Exchange) []place {
	var out []place
	for _, p := range ex.Params() {
		out = appendUnwrapped(out, p.Where, p.Value, 0)
	}
	names := make([]string, 0, len(ex.Request.Header))
	for k := range ex.Request.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "Cookie" {
			continue
		}
		for _, v := range ex.Request.Header[k] {
			out = appendUnwrapped(out, "header:"+k, v, 0)
		}
	}
	for _, c := range ex.Cookies() {
		out = appendUnwrapped(out, "cookie:"+c.Name, c.Value, 0)
	}
	return append(out, multipartPlaces(ex)...)
}

// appendUnwrapped adds v and, recursively, what it decodes to: URL
// escapes, base64, and JSON or query strings held in a string.
func appendUnwrapped(out []place, where, v string, depth int) []place {
	out = append(out, place{where, v})
	if depth >= maxUnwrap || len(v) < 4 {
		return out
	}
	if strings.Contains(v, "%") {
		if u, err := url.QueryUnescape(v); err == nil && u != v {
			out = appendUnwrapped(out, where+" (URL-decoded)", u, depth+1)
		}
	}
	if b, ok := decodeBase64(v); ok {
		out = appendUnwrapped(out, where+" (base64)", string(b), depth+1)
	}
	t := strings.TrimSpace(v)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") || (strings.Contains(t, "=") && strings.Contains(t, "&")) {
		r := traffic.Request{Body: []byte(t)}
		for _, p := range traffic.Params(&r) {
			sub := strings.TrimPrefix(strings.TrimPrefix(p.Where, "body:"), "form:")
			out = appendUnwrapped(out, where+" › "+sub, p.Value, depth+1)
		}
	}
	return out
}

// decodeBase64 decodes v when it is plausibly base64 of text: at least 8
// characters of the base64 alphabets, decoding to mostly printable bytes.
func decodeBase64(v string) ([]byte, bool) {
	if len(v) < 8 {
		return nil, false
	}
	for _, r := range v {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("+/=-_", r)) || r > unicode.MaxASCII {
			return nil, false
		}
	}
	s := strings.TrimRight(v, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil && printable(b) {
			return b, true
		}
	}
	return nil, false
}

func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	n := 0
	for _, c := range b {
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' {
			n++
		}
	}
	return n*10 >= len(b)*9
}

// multipartPlaces reads multipart/form-data fields of the request body.
func multipartPlaces(ex *traffic.Exchange) []place {
	mt, params, err := mime.ParseMediaType(ex.Request.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil
	}
	var out []place
	r := multipart.NewReader(bytes.NewReader(ex.Request.Body), params["boundary"])
	for i := 0; i < 256; i++ {
		part, err := r.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(io.LimitReader(part, traffic.BodyCap))
		out = appendUnwrapped(out, "multipart:"+part.FormName(), string(b), 0)
	}
	return out
}
