package capture

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// HARStats summarises one ReadHAR call.
type HARStats struct {
	// Entries counts the entries turned into exchanges and passed to fn.
	Entries int
	// Skipped counts malformed entries (bad URL, wrong JSON types) that were
	// left out; SkipReasons holds the first few reasons, each naming the
	// entry's position (from 1) in log.entries.
	Skipped     int
	SkipReasons []string
	// Pages counts log.pages items, wherever they stood in the file.
	Pages int
	// CookieHeaders counts requests that carried a Cookie header (given or
	// synthesised from request.cookies). Zero with Entries > 0 suggests a
	// sanitized export; see SanitizedHARWarning.
	CookieHeaders int
	// Creator is log.creator's "name version", empty when absent.
	Creator string
}

// maxSkipReasons bounds HARStats.SkipReasons.
const maxSkipReasons = 5

// SanitizedHARWarning returns the one-line warning a caller prints when a
// HAR named name has requests but no Cookie header at all.
//
// Chrome DevTools exports sanitized HARs (no Cookie, Set-Cookie or
// Authorization) by default since devtools-frontend commit acd96a60, around
// Chrome 130 in 2024 (research/reliability-security.md; the release number
// is unconfirmed, hence "about").
func SanitizedHARWarning(name string) string {
	return name + " has no Cookie headers: it was probably exported sanitized (Chrome DevTools' default since about version 130), so cookie leaks cannot be seen; " +
		"in DevTools › Network settings enable \"Allow to generate HAR with sensitive data\", then use \"Export HAR (with sensitive data)\""
}

// ReadHAR reads a HAR 1.2 file from r and calls fn with one exchange per
// entry, in file order. name is used in errors and as Exchange.Source.
//
// It streams: only one entry is held in memory at a time. A UTF-8 BOM,
// missing optional fields and nulls are accepted. A malformed entry is
// skipped and counted in HARStats, never fatal. Exchanges are numbered from
// 1, carry PageRef (and PageTitle when log.pages came before the entries),
// have Response nil when the entry had no status (blocked or failed), and
// bodies cut at traffic.BodyCap with the truncated flag set.
//
// A fatal error (not JSON, no log.entries, truncated or broken JSON) is
// returned naming the file, how many entries were read and the byte offset;
// fn has already seen those entries. An error returned by fn stops reading
// and is returned unchanged.
func ReadHAR(r io.Reader, name string, fn func(*traffic.Exchange) error) (HARStats, error) {
	hr := &harReader{name: name, fn: fn, titles: map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		hr.bom = 3
	}
	hr.dec = json.NewDecoder(br)
	err := hr.read()
	return hr.stats, err
}

// harReader holds the state of one ReadHAR call.
type harReader struct {
	name       string
	fn         func(*traffic.Exchange) error
	dec        *json.Decoder
	bom        int64
	stats      HARStats
	titles     map[string]string // pageref → title, from pages seen so far
	nth        int               // entries seen, kept or skipped
	sawLog     bool
	sawEntries bool
}

// errStop wraps an error returned by fn so read can tell it apart.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

func (h *harReader) read() error {
	tok, err := h.dec.Token()
	if err != nil {
		return h.notHAR(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%s: not a HAR file: top level is not a JSON object", h.name)
	}
	err = h.object(func(key string) error {
		if key != "log" {
			return h.skip()
		}
		h.sawLog = true
		return h.log()
	})
	var stop errStop
	if errors.As(err, &stop) {
		return stop.err
	}
	if err != nil {
		return err
	}
	if !h.sawLog {
		return fmt.Errorf("%s: not a HAR file: no \"log\" object", h.name)
	}
	if !h.sawEntries {
		return fmt.Errorf("%s: not a HAR file: no \"log.entries\" array", h.name)
	}
	return nil
}

// object walks the members of an object whose '{' was just read, calling
// member for each key with the decoder positioned at its value, and reads
// the closing '}'.
func (h *harReader) object(member func(key string) error) error {
	for h.dec.More() {
		tok, err := h.dec.Token()
		if err != nil {
			return h.broken(err)
		}
		key, ok := tok.(string)
		if !ok {
			return h.broken(fmt.Errorf("object key is %v", tok))
		}
		if err := member(key); err != nil {
			return err
		}
	}
	if _, err := h.dec.Token(); err != nil {
		return h.broken(err)
	}
	return nil
}

// skip reads and discards one value.
func (h *harReader) skip() error {
	var v json.RawMessage
	if err := h.dec.Decode(&v); err != nil {
		return h.broken(err)
	}
	return nil
}

// open reads the opening delimiter of the value at the decoder; ok is false
// (and the value consumed) when the value is not an object/array as asked.
func (h *harReader) open(want json.Delim) (ok bool, err error) {
	tok, err := h.dec.Token()
	if err != nil {
		return false, h.broken(err)
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		return false, nil // a scalar (null, string …) is consumed whole
	}
	if d == want {
		return true, nil
	}
	// The wrong kind of container: skip its contents.
	depth := 1
	for depth > 0 {
		tok, err := h.dec.Token()
		if err != nil {
			return false, h.broken(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return false, nil
}

func (h *harReader) log() error {
	ok, err := h.open('{')
	if err != nil || !ok {
		return err
	}
	return h.object(func(key string) error {
		switch key {
		case "creator":
			var c struct{ Name, Version string }
			if err := h.dec.Decode(&c); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					return nil
				}
				return h.broken(err)
			}
			h.stats.Creator = strings.TrimSpace(c.Name + " " + c.Version)
			return nil
		case "pages":
			return h.array(h.page)
		case "entries":
			h.sawEntries = true
			return h.array(h.entry)
		}
		return h.skip()
	})
}

// array walks the elements of the array at the decoder; a value that is not
// an array is skipped.
func (h *harReader) array(elem func() error) error {
	ok, err := h.open('[')
	if err != nil || !ok {
		return err
	}
	for h.dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	if _, err := h.dec.Token(); err != nil {
		return h.broken(err)
	}
	return nil
}

func (h *harReader) page() error {
	var p struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := h.dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return h.broken(err)
		}
	}
	h.stats.Pages++
	if p.ID != "" {
		h.titles[p.ID] = p.Title
	}
	return nil
}

func (h *harReader) entry() error {
	h.nth++
	var e harEntry
	if err := h.dec.Decode(&e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// Decode consumed the whole value before reporting the type
			// error, so the stream is still in step.
			h.skipEntry(fmt.Sprintf("entry %d: %s has the wrong type (%s)", h.nth, orWhole(te.Field), te.Value))
			return nil
		}
		return h.broken(err)
	}
	ex, reason := e.exchange()
	if reason != "" {
		h.skipEntry(fmt.Sprintf("entry %d: %s", h.nth, reason))
		return nil
	}
	h.stats.Entries++
	ex.ID = int64(h.stats.Entries)
	ex.Source = h.name
	ex.PageTitle = h.titles[ex.PageRef]
	if ex.Request.Header.Get("Cookie") != "" {
		h.stats.CookieHeaders++
	}
	if err := h.fn(ex); err != nil {
		return errStop{err}
	}
	return nil
}

func orWhole(field string) string {
	if field == "" {
		return "the entry"
	}
	return field
}

func (h *harReader) skipEntry(reason string) {
	h.stats.Skipped++
	if len(h.stats.SkipReasons) < maxSkipReasons {
		h.stats.SkipReasons = append(h.stats.SkipReasons, reason)
	}
}

// offset is the byte offset in the file (BOM included) the decoder reached.
func (h *harReader) offset() int64 { return h.dec.InputOffset() + h.bom }

// notHAR explains a failure on the very first token.
func (h *harReader) notHAR(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: not a HAR file: empty", h.name)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: not a HAR file: not JSON (%v at byte offset %d)", h.name, err, se.Offset+h.bom)
	}
	return fmt.Errorf("%s: read: %w", h.name, err)
}

// broken explains a failure in the middle of the document.
func (h *harReader) broken(err error) error {
	var stop errStop
	if errors.As(err, &stop) {
		return err
	}
	// The offset is where the unreadable value began (truncation) or the
	// offending byte (syntax error).
	what, off := "invalid JSON", h.offset()
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		what, err = "truncated JSON", io.ErrUnexpectedEOF
	case errors.As(err, &se):
		off = se.Offset + h.bom
	default:
		return fmt.Errorf("%s: read after %d entries (byte offset %d): %w", h.name, h.stats.Entries, off, err)
	}
	return fmt.Errorf("%s: %s after %d entries (byte offset %d): %v", h.name, what, h.stats.Entries, off, err)
}

// harEntry holds the parts of a HAR entry trackaudit uses; everything else
// is ignored so that exporters' oddities in unused fields cannot hurt.
type harEntry struct {
	PageRef         string       `json:"pageref"`
	StartedDateTime string       `json:"startedDateTime"`
	Request         harRequest   `json:"request"`
	Response        *harResponse `json:"response"`
	Error           string       `json:"_error"`
	CNAME           string       `json:"_cname"` // trackaudit's own (Exchange.CNAME)
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Headers     []harNV      `json:"headers"`
	Cookies     []harNV      `json:"cookies"`
	PostData    *harPostData `json:"postData"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string  `json:"mimeType"`
	Text     string  `json:"text"`
	Params   []harNV `json:"params"`
}

type harResponse struct {
	Status      harInt     `json:"status"`
	HTTPVersion string     `json:"httpVersion"`
	Headers     []harNV    `json:"headers"`
	Content     harContent `json:"content"`
}

type harContent struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	Encoding string `json:"encoding"`
}

// harInt accepts a JSON number (also 200.0), a numeric string or null.
type harInt int

func (n *harInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 999 {
		return &json.UnmarshalTypeError{Value: "status " + string(b), Field: "response.status"}
	}
	*n = harInt(f)
	return nil
}

// exchange converts e; reason is non-empty when the entry must be skipped.
func (e *harEntry) exchange() (ex *traffic.Exchange, reason string) {
	req := &e.Request
	ex = &traffic.Exchange{PageRef: e.PageRef, Error: e.Error}
	if name, ok := validHostName(trimDot([]byte(e.CNAME))); ok {
		ex.CNAME = name
	}
	if t, err := time.Parse(time.RFC3339Nano, e.StartedDateTime); err == nil {
		ex.Start = t
	}
	hdr, pseudo := harHeaders(req.Headers)
	u, reason := harURL(req.URL, pseudo)
	if reason != "" {
		return nil, reason
	}
	method := strings.ToUpper(strings.TrimSpace(req.Method))
	if method == "" {
		method = strings.ToUpper(pseudo[":method"])
	}
	if method == "" {
		method = http.MethodGet
	}
	if hdr.Get("Cookie") == "" && len(req.Cookies) > 0 {
		// Firefox and Safari sometimes list cookies only in cookies[].
		var parts []string
		for _, c := range req.Cookies {
			if c.Name != "" {
				parts = append(parts, c.Name+"="+c.Value)
			}
		}
		if len(parts) > 0 {
			hdr.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	ex.Request = traffic.Request{Method: method, URL: u, Proto: harProto(req.HTTPVersion, len(pseudo) > 0), Header: hdr}
	if pd := req.PostData; pd != nil {
		body := []byte(pd.Text)
		if pd.Text == "" && len(pd.Params) > 0 {
			body = formBody(pd.Params)
		}
		if len(body) > 0 {
			ex.Request.Body, ex.Request.BodyTruncated = capBody(body)
			if hdr.Get("Content-Type") == "" && pd.MimeType != "" {
				hdr.Set("Content-Type", pd.MimeType)
			}
		}
	}
	if rs := e.Response; rs != nil && rs.Status > 0 {
		rh, rpseudo := harHeaders(rs.Headers)
		resp := &traffic.Response{Status: int(rs.Status), Proto: harProto(rs.HTTPVersion, len(rpseudo) > 0), Header: rh}
		body := []byte(rs.Content.Text)
		if strings.EqualFold(rs.Content.Encoding, "base64") && len(body) > 0 {
			dec, err := decodeBase64(rs.Content.Text)
			if err != nil {
				ex.Error = joinErr(ex.Error, "response body: content.encoding is base64 but the text is not valid base64")
			} else {
				body = dec
			}
		}
		if len(body) > 0 {
			resp.Body, resp.BodyTruncated = capBody(body)
		}
		if rh.Get("Content-Type") == "" && rs.Content.MimeType != "" {
			rh.Set("Content-Type", rs.Content.MimeType)
		}
		ex.Response = resp
	}
	return ex, ""
}

// harHeaders canonicalises headers, keeping order of repeated names, and
// returns HTTP/2 pseudo-headers (lower-cased names) separately.
func harHeaders(nvs []harNV) (http.Header, map[string]string) {
	h := make(http.Header, len(nvs))
	var pseudo map[string]string
	for _, nv := range nvs {
		name := strings.TrimSpace(nv.Name)
		switch {
		case name == "":
		case name[0] == ':':
			if pseudo == nil {
				pseudo = map[string]string{}
			}
			pseudo[strings.ToLower(name)] = nv.Value
		default:
			h.Add(name, nv.Value)
		}
	}
	return h, pseudo
}

// harURL parses the entry's URL, rebuilding it from HTTP/2 pseudo-headers
// when it is missing or relative.
func harURL(raw string, pseudo map[string]string) (*url.URL, string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err == nil && u.Scheme != "" && u.Host != "" {
		return u, ""
	}
	if auth := pseudo[":authority"]; auth != "" {
		scheme := pseudo[":scheme"]
		if scheme == "" {
			scheme = "https"
		}
		path := pseudo[":path"]
		if path == "" {
			path = "/"
		}
		if u2, err2 := url.Parse(scheme + "://" + auth + path); err2 == nil && u2.Host != "" {
			return u2, ""
		}
	}
	if err != nil {
		return nil, fmt.Sprintf("bad URL %q: %v", shorten(raw), errors.Unwrap(err))
	}
	return nil, fmt.Sprintf("bad URL %q: not absolute", shorten(raw))
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// harProto normalises HAR httpVersion spellings ("h2", "http/2.0",
// "unknown") to Go's ("HTTP/2.0").
func harProto(v string, h2 bool) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "h2", "http/2", "http/2.0":
		return "HTTP/2.0"
	case "h3", "http/3", "http/3.0":
		return "HTTP/3.0"
	case "http/1.1":
		return "HTTP/1.1"
	case "http/1.0":
		return "HTTP/1.0"
	case "", "unknown":
		if h2 {
			return "HTTP/2.0"
		}
		return ""
	}
	return v
}

// formBody rebuilds an application/x-www-form-urlencoded body from
// postData.params, in order.
func formBody(ps []harNV) []byte {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.Value))
	}
	return []byte(b.String())
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// capBody cuts b at traffic.BodyCap.
func capBody(b []byte) ([]byte, bool) {
	if len(b) > traffic.BodyCap {
		return b[:traffic.BodyCap:traffic.BodyCap], true
	}
	return b, false
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
