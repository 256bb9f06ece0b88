package traffic

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// BodyCap is the default number of body bytes a source keeps per message.
// A longer body is cut at the cap and flagged as truncated.
const BodyCap = 1 << 20

// Exchange is one HTTP request and its response as seen by any source.
//
// Sources fill every field except Findings (and Page, which Attributor sets
// when the source could not). Detectors only append Findings. A problem with
// one exchange (an upstream error, a body that would not decode) is recorded
// in Error; it is data, never a reason to stop.
//
// The request is read-only once a source has handed the exchange over:
// Cookies, Params and QueryParams compute their result on the first call
// and return the remembered one afterwards (several detectors ask for
// them). Like the pipeline that calls them, they are not safe for
// concurrent use on one exchange: one goroutine at a time may work on it.
type Exchange struct {
	// ID numbers exchanges in capture order within one source, from 1.
	ID int64
	// Source names where the record came from, e.g. "site.har", "proxy",
	// "dump.pcapng". It is for humans and evidence, not for logic.
	Source string
	// Start is when the request began; zero when the source did not say.
	Start time.Time
	// Client identifies the browser or host that sent the request (proxy
	// client address; in a packet capture the machine's first address
	// seen, so that its IPv4 and IPv6 addresses are one client); empty
	// when unknown. Page attribution keeps one "current page" per client.
	Client string
	// PageRef is a source-scoped page id (HAR pageref); empty when none.
	PageRef string
	// PageTitle is the title the source gave PageRef's page (HAR
	// pages[].title); empty when unknown. Attributor copies it to Page.Title.
	PageTitle string

	Request Request
	// Response is nil when there was none: the request failed, the capture
	// ended first, or the record is host-only.
	Response *Response

	// HostOnly marks a contact seen without its content: a TLS ClientHello
	// (SNI) or a DNS lookup. Only Request.URL's scheme and host are
	// meaningful; Via says how it was seen.
	HostOnly bool
	// Via says how a HostOnly contact was seen: "tls-sni", "quic-sni"
	// (the ClientHello of a QUIC Initial packet) or "dns"; "tls-ech" and
	// "quic-ech" when the ClientHello's name is the public name of an
	// Encrypted Client Hello server, which hides the site's (NameHidden).
	Via string

	// CNAME is the canonical name the request's host resolved to, when
	// the source saw it and it differs from the host (the proxy's DNS
	// lookup; a packet capture's DNS answers, their chain followed to its
	// end); empty otherwise. A tracker behind a name of the site's own
	// ("CNAME cloaking", e.g. metrics.shop.example → *.sc.omtrdc.net) is
	// told by it.
	CNAME string

	// Page is the first-party page that caused this request, nil when it
	// cannot be told. A top-level document is its own page.
	Page *Page

	// Error describes a failure of this exchange (upstream TLS verification,
	// connection refused, a body that failed to decode); empty when none.
	Error string
	// Insecure is set when the proxy did not verify the upstream certificate
	// (--insecure).
	Insecure bool

	// Findings are appended by detectors, in detector order.
	Findings []Finding

	// memo holds what the accessors above computed from the request. An
	// exchange whose accessors ran is not reflect.DeepEqual to a fresh
	// copy: compare the exported fields.
	memo exchangeMemo
}

// exchangeMemo caches values derived from an exchange's request; each
// is valid once its flag is set.
type exchangeMemo struct {
	haveCookies, haveParams, haveSite bool

	// host and site are Host() and Site() of hostURL while its Host field
	// is hostRaw: a request whose URL is replaced or edited gets them anew.
	hostURL    *url.URL
	hostRaw    string
	host, site string

	cookies []Cookie
	params  []Param // Params(&ex.Request), capacity clipped
	nquery  int     // params[:nquery] are the query's
}

// Request is the request half of an Exchange.
type Request struct {
	Method string
	// URL is absolute (scheme and host always set). For HTTP/2 captures it
	// is rebuilt from the :scheme, :authority and :path pseudo-headers.
	URL *url.URL
	// Proto is e.g. "HTTP/1.1" or "HTTP/2.0"; empty when unknown.
	Proto string
	// Header holds the request headers in canonical form. HTTP/2
	// pseudo-headers (":path" …) are not in it.
	Header http.Header
	// Body is the request body with any Content-Encoding removed, at most
	// BodyCap bytes; nil when there was none or it was not captured.
	Body []byte
	// BodyTruncated is set when Body was cut at the cap or the source only
	// had part of it.
	BodyTruncated bool
}

// Response is the response half of an Exchange.
type Response struct {
	Status int
	Proto  string
	Header http.Header
	// Body is the response body with any Content-Encoding removed, at most
	// BodyCap bytes.
	Body          []byte
	BodyTruncated bool
}

// NameHidden reports a contact whose host is an Encrypted Client Hello
// public name: a front for the site, whose own name is encrypted.
func (ex *Exchange) NameHidden() bool { return strings.HasSuffix(ex.Via, "-ech") }

// Host returns the request's host name in lower case, without port.
func (ex *Exchange) Host() string {
	if ex == nil || ex.Request.URL == nil {
		return ""
	}
	m, u := &ex.memo, ex.Request.URL
	if m.hostURL != u || m.hostRaw != u.Host {
		m.hostURL, m.hostRaw = u, u.Host
		m.host = NormalizeHost(u.Hostname())
		m.haveSite = false
	}
	return m.host
}

// Site returns the registrable domain (eTLD+1) of the request's host.
func (ex *Exchange) Site() string {
	if ex == nil || ex.Request.URL == nil {
		return ""
	}
	if host := ex.Host(); !ex.memo.haveSite {
		ex.memo.site, ex.memo.haveSite = Site(host), true
	}
	return ex.memo.site
}

// Cookies parses the request's Cookie headers. The result is shared by
// every caller: it must not be modified.
func (ex *Exchange) Cookies() []Cookie {
	if ex == nil || ex.Request.Header == nil {
		return nil
	}
	if !ex.memo.haveCookies {
		var out []Cookie
		for _, h := range ex.Request.Header.Values("Cookie") {
			out = append(out, ParseCookieHeader(h)...)
		}
		ex.memo.cookies, ex.memo.haveCookies = out[:len(out):len(out)], true
	}
	return ex.memo.cookies
}

// ThirdParty reports whether the request went to a site other than its
// page's. It is false when the page is unknown.
func (ex *Exchange) ThirdParty() bool {
	if ex.Page == nil || ex.Page.Site == "" {
		return false
	}
	return ex.Site() != ex.Page.Site
}

// IsDocument reports whether the request is a top-level navigation: the
// browser said so (Sec-Fetch-Dest: document), or, for sources without
// Sec-Fetch headers, it is a GET answered with HTML that did not ask for
// something else. (Browsers send Sec-Fetch headers only to HTTPS and
// localhost; over plain HTTP, a favicon whose soft 404 is an HTML page
// would otherwise become a page. Navigations ask for HTML, or, from old
// clients, for anything: "*/*".)
func (ex *Exchange) IsDocument() bool {
	h := ex.Request.Header
	if dest := h.Get("Sec-Fetch-Dest"); dest != "" {
		return dest == "document"
	}
	if ex.Request.Method != "" && ex.Request.Method != http.MethodGet && ex.Request.Method != http.MethodPost {
		return false
	}
	if ex.Response == nil {
		return false
	}
	ct := ex.Response.Header.Get("Content-Type")
	if len(ct) < 9 || ct[:9] != "text/html" && (len(ct) < 21 || ct[:21] != "application/xhtml+xml") {
		return false
	}
	// Only HTML answers get here: most requests are decided without
	// looking at Accept.
	accept := h.Get("Accept")
	return accept == "" || accept == "*/*" || strings.Contains(accept, "html")
}

// Tracker returns the first tracker finding (Kind Tracker) attached so
// far, or nil. Detectors run after the tracker detector use it to learn
// whom a request went to.
func (ex *Exchange) Tracker() *Finding {
	for i := range ex.Findings {
		if ex.Findings[i].Kind == KindTracker {
			return &ex.Findings[i]
		}
	}
	return nil
}
