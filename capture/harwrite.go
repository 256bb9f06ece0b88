package capture

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trackaudit/trackaudit/traffic"
)

// Redacted replaces secret values in written HARs.
const Redacted = "REDACTED"

// HARWriteOptions configures WriteHAR.
type HARWriteOptions struct {
	// ShowSecrets writes everything as recorded. When false, secrets are
	// replaced by Redacted as harredact.go describes: cookie values (names
	// kept), credentials (scheme kept), sensitive headers, query, form and
	// JSON values; request bodies of unknown shape and response bodies are
	// left out.
	ShowSecrets bool
	// Creator is log.creator.name; "trackaudit" when empty.
	Creator string
	// CreatorVersion is log.creator.version; "dev" when empty.
	CreatorVersion string
	// Pages, when non-nil, are written as log.pages before the entries, so
	// that a streaming reader (ReadHAR) learns their titles before it meets
	// their entries. Only these pages are written then: an entry whose
	// PageRef is not among them keeps its pageref without a page record.
	// When nil, pages are collected from the exchanges and written after
	// the entries.
	Pages []HARPage
}

// HARPage is one log.pages item.
type HARPage struct {
	ID    string
	Title string
	Start time.Time
}

// WriteHAR writes exs as a HAR 1.2 document to w, one entry at a time, in
// the order given. Exchanges' pages become log.pages (unless
// opts.Pages lists them, written after the entries, since they are only
// known once all entries are seen), referenced
// by each entry's pageref: the exchange's PageRef, or one made up per page
// URL. Host-only contacts are left out: they have no HTTP content. Response
// bodies that are not valid UTF-8 are written base64-encoded; request bodies
// are written as postData text (HAR has no encoding for them), so invalid
// UTF-8 bytes in them become U+FFFD. Findings are not written: their
// summaries may quote values that only reports know how to redact.
func WriteHAR(w io.Writer, exs iter.Seq[*traffic.Exchange], opts HARWriteOptions) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	creator := harCreator{Name: opts.Creator, Version: opts.CreatorVersion}
	if creator.Name == "" {
		creator.Name = "trackaudit"
	}
	if creator.Version == "" {
		creator.Version = "dev"
	}
	cb, err := marshal(creator)
	if err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	fmt.Fprintf(bw, "{\n\"log\": {\n\"version\": \"1.2\",\n\"creator\": %s,\n", cb)
	pw := pageWriter{ids: map[string]string{}, fixed: opts.Pages != nil, secrets: opts.ShowSecrets}
	if pw.fixed {
		for _, p := range opts.Pages {
			pw.ids["ref\x00"+p.ID] = p.ID
			pw.pages = append(pw.pages, harPageOut{StartedDateTime: harTime(p.Start), ID: p.ID, Title: p.Title})
		}
		if err := writePages(bw, pw.pages); err != nil {
			return err
		}
		bw.WriteString(",\n")
	}
	bw.WriteString("\"entries\": [")
	n := 0
	var werr error
	for ex := range exs {
		if ex == nil || ex.HostOnly || ex.Request.URL == nil {
			continue
		}
		e := harEntryOut(ex, pw.ref(ex), opts.ShowSecrets)
		b, err := marshal(e)
		if err != nil {
			werr = fmt.Errorf("write HAR: exchange %d: %w", ex.ID, err)
			break
		}
		if n > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		if _, err := bw.Write(b); err != nil {
			werr = fmt.Errorf("write HAR: %w", err)
			break
		}
		n++
	}
	if werr != nil {
		return werr
	}
	bw.WriteString("\n]")
	if !pw.fixed {
		bw.WriteString(",\n")
		if err := writePages(bw, pw.pages); err != nil {
			return err
		}
	}
	bw.WriteString("\n}\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write HAR: %w", err)
	}
	return nil
}

// marshal is json.Marshal without HTML escaping, so bodies and URLs stay
// readable ("&" not "\u0026").
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// writePages writes the "pages" member.
func writePages(bw *bufio.Writer, pages []harPageOut) error {
	bw.WriteString("\"pages\": [")
	for i, p := range pages {
		b, err := marshal(p)
		if err != nil {
			return fmt.Errorf("write HAR: page %s: %w", p.ID, err)
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		bw.Write(b)
	}
	bw.WriteString("\n]")
	return nil
}

// pageWriter assigns page ids and collects log.pages in first-seen order.
type pageWriter struct {
	ids     map[string]string // PageRef or page URL → id
	pages   []harPageOut
	fixed   bool // pages were given: do not collect more
	secrets bool // page URLs used as titles keep their secrets
}

func (pw *pageWriter) ref(ex *traffic.Exchange) string {
	key, id := "", ""
	switch {
	case ex.PageRef != "":
		key, id = "ref\x00"+ex.PageRef, ex.PageRef
	case ex.Page != nil && ex.Page.URL != "":
		key = "url\x00" + ex.Page.URL
	default:
		return ""
	}
	if got, ok := pw.ids[key]; ok {
		return got
	}
	if pw.fixed {
		return id // the PageRef, or "" for a page URL without one
	}
	if id == "" {
		id = "page_" + strconv.Itoa(len(pw.pages)+1)
	}
	title := ex.PageTitle
	if title == "" && ex.Page != nil {
		title = ex.Page.Title
		if title == "" {
			title = ex.Page.URL
			if !pw.secrets {
				title = redactURL(title)
			}
		}
	}
	if !pw.secrets {
		title = traffic.RedactText(title, redacted)
	}
	pw.ids[key] = id
	pw.pages = append(pw.pages, harPageOut{StartedDateTime: harTime(ex.Start), ID: id, Title: title, PageTimings: struct{}{}})
	return id
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harPageOut struct {
	StartedDateTime string   `json:"startedDateTime"`
	ID              string   `json:"id"`
	Title           string   `json:"title"`
	PageTimings     struct{} `json:"pageTimings"`
}

type harEntryOutT struct {
	PageRef         string         `json:"pageref,omitempty"`
	StartedDateTime string         `json:"startedDateTime"`
	Time            int            `json:"time"`
	Request         harRequestOut  `json:"request"`
	Response        harResponseOut `json:"response"`
	Cache           struct{}       `json:"cache"`
	Timings         harTimingsOut  `json:"timings"`
	Error           string         `json:"_error,omitempty"`
	CNAME           string         `json:"_cname,omitempty"` // Exchange.CNAME
}

type harRequestOut struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harNV      `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
	Truncated   bool         `json:"_bodyTruncated,omitempty"`
}

type harResponseOut struct {
	Status      int           `json:"status"`
	StatusText  string        `json:"statusText"`
	HTTPVersion string        `json:"httpVersion"`
	Cookies     []harNV       `json:"cookies"`
	Headers     []harNV       `json:"headers"`
	Content     harContentOut `json:"content"`
	RedirectURL string        `json:"redirectURL"`
	HeadersSize int           `json:"headersSize"`
	BodySize    int           `json:"bodySize"`
	Truncated   bool          `json:"_bodyTruncated,omitempty"`
}

type harContentOut struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type harTimingsOut struct {
	Send    int `json:"send"`
	Wait    int `json:"wait"`
	Receive int `json:"receive"`
}

func harTime(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func harEntryOut(ex *traffic.Exchange, pageref string, secrets bool) harEntryOutT {
	r := &ex.Request
	e := harEntryOutT{PageRef: pageref, StartedDateTime: harTime(ex.Start), Error: ex.Error, CNAME: ex.CNAME}
	u := r.URL.String()
	if !secrets {
		u = redactURL(u)
	}
	e.Request = harRequestOut{
		Method: r.Method, URL: u, HTTPVersion: r.Proto,
		Headers: headersOut(r.Header, secrets), Cookies: []harNV{}, QueryString: []harNV{},
		HeadersSize: -1, BodySize: len(r.Body), Truncated: r.BodyTruncated,
	}
	for _, c := range ex.Cookies() {
		v := c.Value
		if !secrets {
			v = Redacted
		}
		e.Request.Cookies = append(e.Request.Cookies, harNV{Name: c.Name, Value: v})
	}
	for _, p := range traffic.Params(&traffic.Request{URL: r.URL}) {
		v := p.Value
		if !secrets && traffic.SecretValue(p.Name, v) {
			v = Redacted
		}
		e.Request.QueryString = append(e.Request.QueryString, harNV{Name: p.Name, Value: v})
	}
	if len(r.Body) > 0 {
		mime := r.Header.Get("Content-Type")
		text := string(r.Body)
		if !secrets {
			text = redactBody(mime, r.Body)
		}
		e.Request.PostData = &harPostData{MimeType: mime, Text: text}
	}
	e.Response = harResponseOut{Cookies: []harNV{}, Headers: []harNV{}, HeadersSize: -1, BodySize: -1}
	if rs := ex.Response; rs != nil {
		e.Response.Status = rs.Status
		e.Response.StatusText = http.StatusText(rs.Status)
		e.Response.HTTPVersion = rs.Proto
		e.Response.Headers = headersOut(rs.Header, secrets)
		e.Response.RedirectURL = rs.Header.Get("Location")
		if !secrets {
			e.Response.RedirectURL = redactURL(e.Response.RedirectURL)
		}
		e.Response.BodySize = len(rs.Body)
		e.Response.Truncated = rs.BodyTruncated
		for _, sc := range rs.Header.Values("Set-Cookie") {
			name, v, _ := strings.Cut(strings.SplitN(sc, ";", 2)[0], "=")
			if !secrets {
				v = Redacted
			}
			e.Response.Cookies = append(e.Response.Cookies, harNV{Name: strings.TrimSpace(name), Value: strings.TrimSpace(v)})
		}
		c := harContentOut{Size: len(rs.Body), MimeType: rs.Header.Get("Content-Type")}
		switch {
		case len(rs.Body) > 0 && !secrets:
			c.Comment = "response body left out of a redacted export"
		case len(rs.Body) > 0:
			if utf8.Valid(rs.Body) {
				c.Text = string(rs.Body)
			} else {
				c.Text, c.Encoding = base64.StdEncoding.EncodeToString(rs.Body), "base64"
			}
		}
		e.Response.Content = c
	}
	return e
}

// headersOut lists h sorted by name (values in their order), redacting
// secrets unless asked not to.
func headersOut(h http.Header, secrets bool) []harNV {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := []harNV{}
	for _, k := range names {
		for _, v := range h[k] {
			if !secrets {
				v = redactHeader(k, v)
			}
			out = append(out, harNV{Name: k, Value: v})
		}
	}
	return out
}
