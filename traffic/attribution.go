package traffic

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Attributor ties each exchange to the first-party page that caused it.
// Feed it every exchange of one capture in order; it keeps state between
// calls (pages seen, per client) and is not safe for concurrent use.
//
// Browsers send only the origin as Referer across sites by default
// (strict-origin-when-cross-origin), so attribution never relies on a full
// Referer: it combines, in order, the request being a document itself, the
// source's page id (HAR pageref), Sec-Fetch-* headers, the Referer (full
// URL or origin) and the last page of the same client.
//
// Its memory is bounded whatever the capture's length: it remembers at
// most about 2×maxPages page, frame, pageref and redirect URLs each and the
// history of about 2×maxClients clients (maxRecent entries each), the
// least recently used forgotten first. A request whose page was forgotten
// falls back to the next rule (an origin Referer, the client's recent
// page), as for a page loaded before the capture began.
type Attributor struct {
	pages bounded[*Page] // by client + page URL
	last  bounded[*Page] // by client
	refs  bounded[*Page] // by source + PageRef

	// frames maps client + frame URL to the page the frame was loaded on.
	frames bounded[*Page]
	// recent lists each client's pages and frames, newest last, for
	// origin-only Referers.
	recent bounded[[]seen]
	// redirects maps client + the Location of a redirected document or
	// frame to what the redirect target will be.
	redirects bounded[redirect]

	// refOrigin caches the origin of the last Referer parsed: requests
	// of one page repeat it.
	refURL, refOrigin string

	// IsTracker, when not nil, tells whether a host-only contact (TLS SNI,
	// DNS) goes to a known tracker; Attribute asks it only about those.
	// It lets a packet capture of HTTPS browsing say which site's visit a
	// tracker contact belongs to (see Attribute). Nil: host-only contacts
	// are put on the client's most recent plaintext page, if any.
	IsTracker func(ex *Exchange) bool
	// visits holds each client's current visit inferred from host-only
	// contacts, by client.
	visits bounded[visit]
	// begun holds the navigations Begin saw until Attribute gets them, by
	// Source and ID.
	begun bounded[begun]
	// prefetched holds the pages of prefetched documents not shown yet,
	// by client + URL.
	prefetched bounded[*Page]
}

// visit is a site visit inferred from host-only contacts: the page (the
// site's origin) and the time of the client's last contact.
type visit struct {
	page *Page
	last time.Time
}

// visitGap is the quiet time after which a client's contact to a host
// that is no tracker starts a new visit: a navigation begins with a
// lookup of the site after a pause, and its subresources and trackers
// follow in a burst.
const visitGap = 2 * time.Second

// contactTitle is the Title of a page inferred from host-only contacts.
const contactTitle = "(inferred from TLS/DNS contacts; contents not visible)"

// Attributor bounds (see Attributor): each generation of a URL-keyed map
// holds maxPages entries, of a client-keyed one maxClients.
const (
	maxPages   = 16384
	maxClients = 1024
)

// bounded is a string-keyed map of at most 2×limit entries kept in two
// generations: when the current one is full it becomes the old one and
// the previous old one is dropped; a hit in the old generation is copied
// to the current one. So the entries forgotten are the least recently
// used, give or take a generation.
type bounded[V any] struct {
	cur, old map[string]V
	limit    int
}

func newBounded[V any](limit int) bounded[V] {
	return bounded[V]{cur: map[string]V{}, limit: limit}
}

func (m *bounded[V]) get(k string) (V, bool) {
	if v, ok := m.cur[k]; ok {
		return v, true
	}
	v, ok := m.old[k]
	if ok {
		m.put(k, v)
	}
	return v, ok
}

// at returns the value of k or V's zero value.
func (m *bounded[V]) at(k string) V {
	v, _ := m.get(k)
	return v
}

func (m *bounded[V]) put(k string, v V) {
	if _, ok := m.cur[k]; !ok && len(m.cur) >= m.limit {
		m.old, m.cur = m.cur, make(map[string]V, m.limit)
	}
	m.cur[k] = v
}

func (m *bounded[V]) del(k string) {
	delete(m.cur, k)
	delete(m.old, k)
}

// len is the number of entries held, both generations.
func (m *bounded[V]) len() int { return len(m.cur) + len(m.old) }

// seen is one page or frame URL a client loaded, by origin.
type seen struct {
	origin string
	page   *Page // the page itself, or a frame's embedding page
	frame  bool
}

type redirect struct {
	frame bool
	page  *Page // for a frame: its embedding page
}

// maxRecent bounds the per-client history searched for origin Referers.
const maxRecent = 256

// NewAttributor returns an empty Attributor.
func NewAttributor() *Attributor {
	return &Attributor{
		pages: newBounded[*Page](maxPages), last: newBounded[*Page](maxClients), refs: newBounded[*Page](maxPages),
		frames: newBounded[*Page](maxPages), recent: newBounded[[]seen](maxClients), redirects: newBounded[redirect](maxPages),
		visits: newBounded[visit](maxClients), begun: newBounded[begun](maxPages), prefetched: newBounded[*Page](maxPages),
	}
}

// Attribute sets ex.Page when the source left it nil. The rules, in order:
//
//  1. A top-level document (Sec-Fetch-Dest: document, Sec-Fetch-Mode:
//     navigate outside a frame, the target of a document redirect, or
//     without Sec-Fetch headers the first HTML GET of a HAR pageref, or any
//     HTML GET when there is no pageref) is its own page, By "document",
//     and becomes the client's current page.
//  2. A frame (Sec-Fetch-Dest: iframe or frame; without Sec-Fetch headers a
//     later HTML GET of the same pageref) is not a page: it gets its
//     embedding page by the rules below, and its URL is remembered so that
//     requests made from inside it are put on that page (By "initiator").
//  3. A known PageRef: that page (By "pageref").
//  4. The Referer equals a known page URL (By "referer") or frame URL (By
//     "initiator"); an origin-only Referer, or a full one naming neither,
//     matches the most recent of the client's pages of that origin whose
//     URL the request gives as its page's location (By "page-url"; a
//     pixel's dl=), else its most recent page (By "referer") or frame (By
//     "initiator") with that origin. Without a Referer, such a location
//     names the page too (By "page-url").
//  5. The client's most recent page (By "recent").
//  6. A client with no page yet (the capture began mid-visit, or the page
//     itself was HTTPS in a packet capture): the page the Referer names,
//     full URL or only its origin, becomes the client's page (By
//     "referer").
//
// A 3xx document or frame with a Location carries its role to the new URL.
// A prefetched document (Sec-Purpose: prefetch, without prerender) is a
// request of the page that asked for it; its own page becomes the
// client's current one when a request names it in a full Referer: the
// browser showed it. Attribution of
// non-documents returns a copy of the page with By set.
//
// Host-only contacts (TLS SNI, DNS) carry no headers. With IsTracker set,
// a contact to a host that is no tracker (nor an Encrypted Client Hello
// front, NameHidden), after visitGap without contacts from the client (or
// its first), starts a visit of that host's site: its
// page is the origin, By "contact". Later contacts of the client, trackers
// included, belong to that visit while they keep coming within visitGap
// of each other (By "contact"); a plaintext document starts a visit of its
// page in the same way. A tracker contact outside a visit gets the
// client's most recent plaintext page (By "recent"), if any.
func (a *Attributor) Attribute(ex *Exchange) {
	if ex == nil || ex.Page != nil || ex.Request.URL == nil {
		return
	}
	if ex.HostOnly {
		ex.Page = a.contact(ex)
		return
	}
	if a.begun.len() > 0 && a.resume(ex) {
		return
	}
	a.attribute(ex)
}

// Begin tells the Attributor of a live source that a request has started,
// before any of its response. A navigation (NavigationRequest) then
// becomes the client's page, or a frame of its page, at once, as
// Attribute would make it: a page's trackers fire while a long document
// is still arriving, so their exchanges end, and reach Attribute, before
// the document's. Attribute of the same exchange (same Source and ID)
// later puts it where Begin did, takes the page's title from its body and
// follows its redirect. Begin sets ex.Page; other requests are left to
// Attribute.
func (a *Attributor) Begin(ex *Exchange) {
	if ex == nil || ex.Page != nil || ex.Request.URL == nil || ex.HostOnly || !NavigationRequest(ex.Request.Header) {
		return
	}
	if r, own := a.attribute(ex); r != roleOther && (ex.Page != nil || own != nil) {
		a.begun.put(beginKey(ex), begun{frame: r == roleFrame, page: ex.Page, own: own})
	}
}

// begun is a navigation Begin has attributed.
type begun struct {
	frame bool
	page  *Page // the exchange's: a document's own, the page a frame or a prefetch is on
	own   *Page // a document's own page, titled at its end; nil for a frame
}

func beginKey(ex *Exchange) string { return ex.Source + "\x00" + strconv.FormatInt(ex.ID, 10) }

// resume attributes the end of a navigation Begin saw; false when Begin
// did not see ex.
func (a *Attributor) resume(ex *Exchange) bool {
	k := beginKey(ex)
	b, ok := a.begun.get(k)
	if !ok {
		return false
	}
	a.begun.del(k)
	ex.Page = b.page
	if b.own != nil && b.own.Title == "" {
		// Only the document's own exchange holds this Page itself (the
		// others get copies), so setting its title here races with no
		// reader of an earlier exchange.
		b.own.Title = cmp.Or(ex.PageTitle, DocumentTitle(ex))
	}
	r := redirect{frame: b.frame, page: b.own}
	if b.frame {
		r.page = b.page
	}
	a.followRedirect(ex, r)
	return true
}

// attribute applies the rules of Attribute to a request with headers and
// returns the role it found and, for a document, its own page.
func (a *Attributor) attribute(ex *Exchange) (role, *Page) {
	// u is the request URL as text, made only when needed: it keys
	// redirects (none are pending in most captures) and documents and
	// frames, not the other requests.
	u := ""
	if a.redirects.len() > 0 {
		u = ex.Request.URL.String()
	}
	client := ex.Client
	role, embed := a.role(ex, u)
	if role != roleOther && u == "" {
		u = ex.Request.URL.String()
	}
	switch role {
	case roleDocument:
		p := &Page{URL: u, Site: ex.Site(), Title: cmp.Or(ex.PageTitle, DocumentTitle(ex)), By: "document"}
		a.pages.put(client+"\x00"+u, p)
		if ex.PageRef != "" {
			a.refs.put(ex.Source+"\x00"+ex.PageRef, p)
		}
		a.followRedirect(ex, redirect{page: p})
		if speculative(ex.Request.Header) {
			// A prefetch is no visit yet: it is a request of the page
			// whose speculation rules asked for it, and its own page
			// becomes the client's when a request names it as Referer
			// (see find).
			a.prefetched.put(client+"\x00"+u, p)
			ex.Page = a.find(ex)
			return role, p
		}
		ex.Page = p
		a.current(client, origin(ex.Request.URL), p, ex.Start)
		return role, p
	case roleFrame:
		p := embed
		if p == nil {
			p = a.find(ex)
		}
		if p != nil {
			a.frames.put(client+"\x00"+u, p)
			a.remember(client, seen{origin: origin(ex.Request.URL), page: p, frame: true})
			ex.Page = p
			a.followRedirect(ex, redirect{frame: true, page: p})
		}
		return role, nil
	}
	ex.Page = a.find(ex)
	return role, nil
}

type role int

const (
	roleOther role = iota
	roleDocument
	roleFrame
)

// role tells whether ex is a document, a frame or neither; for the target
// of a frame redirect it also returns the frame's page. u is the request
// URL, "" when no redirect is pending.
func (a *Attributor) role(ex *Exchange, u string) (role, *Page) {
	if u != "" {
		if r, ok := a.redirects.get(ex.Client + "\x00" + u); ok {
			a.redirects.del(ex.Client + "\x00" + u)
			if r.frame {
				return roleFrame, withBy(r.page, "initiator")
			}
			return roleDocument, nil
		}
	}
	if r, ok := fetchRole(ex.Request.Header); ok {
		return r, nil
	}
	// No Sec-Fetch headers (older browsers, many HAR exporters).
	if !ex.IsDocument() && !a.isRedirectingGET(ex) {
		return roleOther, nil
	}
	if ex.PageRef != "" {
		if a.refs.at(ex.Source+"\x00"+ex.PageRef) == nil {
			return roleDocument, nil
		}
		return roleFrame, nil
	}
	return roleDocument, nil
}

// fetchRole tells a request's role by its Sec-Fetch headers alone; false
// when it has none.
func fetchRole(h http.Header) (role, bool) {
	dest, mode := strings.ToLower(h.Get("Sec-Fetch-Dest")), strings.ToLower(h.Get("Sec-Fetch-Mode"))
	switch {
	case dest == "document":
		return roleDocument, true
	case dest == "iframe" || dest == "frame" || dest == "fencedframe":
		return roleFrame, true
	case dest == "" && mode == "navigate":
		return roleDocument, true
	}
	return roleOther, dest != "" || mode != ""
}

// NavigationRequest reports whether a request's Sec-Fetch headers say it
// loads a document or a frame: what Begin acts on.
func NavigationRequest(h http.Header) bool {
	r, _ := fetchRole(h)
	return r != roleOther
}

// isRedirectingGET reports a GET of the first document of a pageref that
// answered with a redirect (its response is not HTML, but it is the page
// load), for sources without Sec-Fetch headers.
func (a *Attributor) isRedirectingGET(ex *Exchange) bool {
	return ex.PageRef != "" && a.refs.at(ex.Source+"\x00"+ex.PageRef) == nil &&
		ex.Request.Method == http.MethodGet && ex.Response != nil &&
		ex.Response.Status >= 300 && ex.Response.Status < 400 && ex.Response.Header.Get("Location") != ""
}

// current makes p, a page of origin o, the client's current page.
func (a *Attributor) current(client, o string, p *Page, at time.Time) {
	a.last.put(client, p)
	a.remember(client, seen{origin: o, page: p})
	if a.IsTracker != nil {
		// A plaintext navigation starts a visit: the contacts that
		// follow belong to its page.
		a.visits.put(client, visit{page: withBy(p, "contact"), last: at})
	}
}

// speculative reports a document the browser fetched ahead of a navigation
// that may never come: a prefetch (speculation rules, Sec-Purpose:
// prefetch). A prerender is no such thing: its page runs, trackers and
// all, so it is a page like any other.
func speculative(h http.Header) bool {
	p := h.Get("Sec-Purpose")
	if p == "" {
		p = h.Get("Purpose")
	}
	p = strings.ToLower(p)
	return strings.Contains(p, "prefetch") && !strings.Contains(p, "prerender")
}

// activate makes the prefetched page that ex's full Referer names, if
// any, the client's current page: the browser showed it (a prefetch loads
// no subresources of its own).
func (a *Attributor) activate(ex *Exchange, ref string) {
	k := ex.Client + "\x00" + ref
	p := a.prefetched.at(k)
	if p == nil {
		return
	}
	a.prefetched.del(k)
	if ru, err := url.Parse(ref); err == nil && a.pages.at(k) == p {
		a.current(ex.Client, origin(ru), p, ex.Start)
	}
}

// find applies rules 3–5 to a request that is neither a document nor the
// start of a frame chain.
func (a *Attributor) find(ex *Exchange) *Page {
	if ex.PageRef != "" {
		if p := a.refs.at(ex.Source + "\x00" + ex.PageRef); p != nil {
			return withBy(p, "pageref")
		}
		if p := a.pageFromTitle(ex); p != nil {
			return withBy(p, "pageref")
		}
	}
	ref := ex.Request.Header.Get("Referer")
	if ref != "" {
		if a.prefetched.len() > 0 {
			a.activate(ex, ref)
		}
		if p := a.byReferer(ex, ref); p != nil {
			return p
		}
	} else if p := a.named(ex, a.recent.at(ex.Client), ""); p != nil {
		return withBy(p, "page-url")
	}
	if p := a.last.at(ex.Client); p != nil {
		return withBy(p, "recent")
	}
	if ref := ex.Request.Header.Get("Referer"); ref != "" {
		return a.pageFromReferer(ex.Client, ref)
	}
	return nil
}

// contact attributes a host-only contact; see Attribute.
func (a *Attributor) contact(ex *Exchange) *Page {
	v, ok := a.visits.get(ex.Client)
	// Sources may emit contacts a little out of time order (a DNS answer
	// at once, a ClientHello when its stream is flushed): compare both ways.
	d := ex.Start.Sub(v.last)
	inVisit := ok && d < visitGap && d > -visitGap
	// A name hidden by Encrypted Client Hello is a front shared by many
	// sites: it starts no visit of its own.
	if !inVisit && a.IsTracker != nil && !ex.NameHidden() && !a.IsTracker(ex) {
		host := ex.Host()
		if host == "" {
			return nil
		}
		v = visit{page: &Page{URL: "https://" + host + "/", Site: ex.Site(), Title: contactTitle, By: "contact"}}
		inVisit = true
	}
	if !inVisit {
		return withBy(a.last.at(ex.Client), "recent")
	}
	if ex.Start.After(v.last) {
		v.last = ex.Start
	}
	a.visits.put(ex.Client, v)
	return v.page
}

// pageFromReferer makes the page a Referer names when nothing better is
// known, and remembers it as the client's page.
func (a *Attributor) pageFromReferer(client, ref string) *Page {
	ru, err := url.Parse(ref)
	if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
		return nil
	}
	ru.Fragment, ru.RawFragment, ru.User = "", "", nil
	p := &Page{URL: ru.String(), Site: Site(ru.Hostname()), By: "referer"}
	a.pages.put(client+"\x00"+ref, p)
	a.last.put(client, p)
	a.remember(client, seen{origin: origin(ru), page: p})
	return p
}

// pageFromTitle creates a pageref's page from its title when no document
// of it was seen (it failed or was cached) and the exporter used the page
// URL as title, as Chrome does.
func (a *Attributor) pageFromTitle(ex *Exchange) *Page {
	t, err := url.Parse(ex.PageTitle)
	if err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
		return nil
	}
	p := &Page{URL: t.String(), Site: Site(t.Hostname()), Title: ex.PageTitle, By: "pageref"}
	a.refs.put(ex.Source+"\x00"+ex.PageRef, p)
	a.pages.put(ex.Client+"\x00"+p.URL, p)
	a.remember(ex.Client, seen{origin: origin(t), page: p})
	if a.last.at(ex.Client) == nil {
		a.last.put(ex.Client, p)
	}
	return p
}

func (a *Attributor) byReferer(ex *Exchange, ref string) *Page {
	client := ex.Client
	k := client + "\x00" + ref
	if p := a.pages.at(k); p != nil {
		return withBy(p, "referer")
	}
	if p := a.frames.at(k); p != nil {
		return withBy(p, "initiator")
	}
	hist := a.recent.at(client)
	if len(hist) == 0 {
		return nil // nothing to match an origin against: skip parsing ref
	}
	o := a.origin(ref)
	if o == "" {
		return nil
	}
	if p := a.named(ex, hist, o); p != nil {
		return withBy(p, "page-url")
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].origin != o {
			continue
		}
		if hist[i].frame {
			return withBy(hist[i].page, "initiator")
		}
		return withBy(hist[i].page, "referer")
	}
	return nil
}

// named returns the most recent page in hist, of origin o (any when o is
// ""), whose URL one of ex's parameters gives as the page's own location
// (pageLocation). Of several pages of one origin (tabs, or the page before
// a navigation) an origin-only Referer cannot tell which sent a request;
// the location the tracker was given can. Nil when none is named.
func (a *Attributor) named(ex *Exchange, hist []seen, o string) *Page {
	best, urls := -1, 0
	for _, pa := range ex.Params() {
		v := pa.Value
		if !strings.HasPrefix(v, "http") || !pageLocation(pa) {
			continue
		}
		if urls++; urls > maxNamedURLs {
			break
		}
		if i := strings.IndexByte(v, '#'); i >= 0 {
			v = v[:i]
		}
		for i := len(hist) - 1; i > best; i-- {
			if h := hist[i]; !h.frame && (o == "" || h.origin == o) && h.page.URL == v {
				best = i
				break
			}
		}
	}
	if best < 0 {
		return nil
	}
	return hist[best].page
}

// pageLocation reports a parameter that carries, by its tracker's
// definition, the location of the page that sent it: dl= of the Meta
// pixel and Google Analytics, g= of Adobe Analytics, context.page.url of
// Segment and TikTok (tracker-facts; detectors label them "page URL").
// Not a Like button's href= or a share url=: those name the page to like
// or share, which may be another one.
func pageLocation(p Param) bool {
	switch p.Name {
	case "dl", "g":
		return strings.HasPrefix(p.Where, "query:") || strings.HasPrefix(p.Where, "form")
	case "url":
		return strings.HasSuffix(p.Where, ".context.page.url")
	}
	return false
}

// maxNamedURLs bounds the URL parameters of one request named compares
// with the client's pages: trackers send one or two (dl= and rl=), and a
// hostile request with thousands must not cost thousands of scans.
const maxNamedURLs = 8

// origin returns the origin of the Referer ref ("" when it has no host),
// remembering the last one asked.
func (a *Attributor) origin(ref string) string {
	if ref == a.refURL {
		return a.refOrigin
	}
	o := ""
	if ru, err := url.Parse(ref); err == nil && ru.Host != "" {
		o = origin(ru)
	}
	a.refURL, a.refOrigin = ref, o
	return o
}

// followRedirect records where a redirected document or frame goes next.
func (a *Attributor) followRedirect(ex *Exchange, r redirect) {
	rs := ex.Response
	if rs == nil || rs.Status < 300 || rs.Status > 399 {
		return
	}
	loc := rs.Header.Get("Location")
	if loc == "" {
		return
	}
	lu, err := ex.Request.URL.Parse(loc)
	if err != nil || lu.Host == "" {
		return
	}
	lu.Fragment, lu.RawFragment = "", ""
	a.redirects.put(ex.Client+"\x00"+lu.String(), r)
}

func (a *Attributor) remember(client string, s seen) {
	h := append(a.recent.at(client), s)
	if len(h) > maxRecent {
		h = append(h[:0:0], h[len(h)-maxRecent/2:]...)
	}
	a.recent.put(client, h)
}

// withBy returns a copy of p saying how a request was tied to it.
func withBy(p *Page, by string) *Page {
	if p == nil {
		return nil
	}
	c := *p
	c.By = by
	return &c
}

// origin returns "scheme://host[:port]/", the form of an origin-only
// Referer.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + "/"
}
