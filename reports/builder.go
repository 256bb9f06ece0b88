package reports

import (
	"slices"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Options configure a Builder.
type Options struct {
	// Site limits the report to pages of this registrable domain (a host
	// is reduced to its site); "" reports every site.
	Site string
	// ShowSecrets prints secret values as captured instead of pseudonyms.
	ShowSecrets bool
}

// Builder aggregates exchanges into a Report. It keeps counts and the
// strings it will print (copied, so no request or response body stays
// reachable), never the exchanges: memory grows with the number of
// distinct rows, not with traffic or body sizes. A Builder is not safe for
// concurrent use.
type Builder struct {
	o        Options
	site     string
	inputs   []Input
	sites    map[string]*siteAgg
	strs     map[string]string
	hosts    map[string]hostInfo
	insecure bool
	listed   int // pages listed on their own, all sites (maxPages)
}

// maxHostCache bounds Builder.hosts; when full it starts over.
const maxHostCache = 4096

// hostInfo caches a raw URL host's normalized name and site: both cost
// IDNA and public-suffix work that would dominate Add.
type hostInfo struct{ host, site string }

// siteAgg is the running aggregate of one site. Keys hold sanitized,
// interned strings and raw (unredacted) values; redaction happens in
// Report.
type siteAgg struct {
	requests, first, third int
	insecure               bool
	pages                  map[string]*Page
	thirdParties           map[string]*ThirdParty
	products               map[productKey]*Product
	contacts               map[Contact]int
	cloaked                map[Cloaked]int
	leaks                  map[Leak]int
	events                 map[Event]int
	personal               map[PersonalData]int
	clickIDs               map[ClickID]int
	// distinct values per pageless row (see valueRow)
	leakValues     map[Leak]int
	personalValues map[PersonalData]int
	clickValues    map[ClickID]int
	eventValues    map[Event]int // distinct Details
	replays        map[SessionReplay]int
	errors         map[UpstreamError]int
}

type productKey struct{ company, product, category string }

// NewBuilder returns an empty Builder.
func NewBuilder(o Options) *Builder {
	b := &Builder{o: o, sites: map[string]*siteAgg{}, strs: map[string]string{}, hosts: map[string]hostInfo{}}
	if o.Site != "" {
		b.site = traffic.Site(o.Site)
	}
	return b
}

// AddInput records one input that was read, for the report header.
func (b *Builder) AddInput(in Input) {
	in.Name = strings.Clone(Sanitize(in.Name))
	in.Format = strings.Clone(Sanitize(in.Format))
	ws := make([]string, len(in.Warnings))
	for i, w := range in.Warnings {
		ws[i] = strings.Clone(Sanitize(w))
	}
	in.Warnings = ws
	if len(ws) == 0 {
		in.Warnings = nil
	}
	b.inputs = append(b.inputs, in)
}

// s sanitizes and interns a capture-derived string: equal strings share
// one copy, and no stored string points into a request or response body.
func (b *Builder) s(v string) string { return b.intern(Sanitize(v)) }

// intern is s for text already sanitized.
func (b *Builder) intern(v string) string {
	if c, ok := b.strs[v]; ok {
		return c
	}
	c := strings.Clone(v)
	b.strs[c] = c
	return c
}

// sBytes is s for text already sanitized, held in a buffer: a string
// is made only the first time.
func (b *Builder) sBytes(v []byte) string {
	if c, ok := b.strs[string(v)]; ok {
		return c
	}
	c := string(v)
	b.strs[c] = c
	return c
}

func (b *Builder) siteFor(name string) *siteAgg {
	a := b.sites[name]
	if a == nil {
		a = &siteAgg{
			pages:          map[string]*Page{},
			thirdParties:   map[string]*ThirdParty{},
			products:       map[productKey]*Product{},
			contacts:       map[Contact]int{},
			cloaked:        map[Cloaked]int{},
			leaks:          map[Leak]int{},
			leakValues:     map[Leak]int{},
			events:         map[Event]int{},
			personal:       map[PersonalData]int{},
			clickIDs:       map[ClickID]int{},
			personalValues: map[PersonalData]int{},
			clickValues:    map[ClickID]int{},
			eventValues:    map[Event]int{},
			replays:        map[SessionReplay]int{},
			errors:         map[UpstreamError]int{},
		}
		b.sites[b.s(name)] = a
	}
	return a
}

// Add aggregates one analysed exchange and its findings. Exchanges of
// other sites than Options.Site are ignored. It keeps no reference to ex.
func (b *Builder) Add(ex *traffic.Exchange) {
	if ex == nil {
		return
	}
	siteName, pageURL := Unattributed, ""
	if ex.Page != nil && ex.Page.Site != "" {
		siteName, pageURL = ex.Page.Site, ex.Page.URL
	}
	if b.site != "" && siteName != b.site {
		return
	}
	a := b.siteFor(siteName)
	page := ""
	a.requests++
	if ex.Insecure {
		a.insecure = true
		b.insecure = true
	}
	if ex.Page != nil && pageURL != "" {
		// Looked up before it is interned: the URLs of pages not listed
		// on their own are not kept.
		p := a.pages[Sanitize(pageURL)]
		if p == nil {
			u := OtherPages
			if len(a.pages) < maxSitePages && b.listed < maxPages {
				u = b.s(pageURL)
			}
			if p = a.pages[u]; p == nil {
				p = &Page{URL: u}
				a.pages[u] = p
				b.listed++
			}
		}
		page = p.URL
		p.Requests++
		if p.Title == "" && ex.Page.Title != "" {
			p.Title = b.s(ex.Page.Title)
		}
	}
	hi := b.hostOf(ex)
	host, reqSite := hi.host, hi.site
	tracker := ex.Tracker()
	if ex.Page != nil && ex.Page.Site != "" && reqSite != ex.Page.Site {
		a.third++
		tp := a.thirdParties[reqSite]
		if tp == nil {
			tp = &ThirdParty{Site: reqSite}
			a.thirdParties[reqSite] = tp
		}
		tp.Requests++
		if tracker != nil {
			tp.Tracker = true
		}
	} else if ex.Page != nil {
		a.first++
	}

	var counted []productKey // products already counted for this exchange
	// The details each pixel event's row records, bounded by valueRow:
	// the leak ledger below names the event with them.
	var evBuf [4]eventRow
	evs := evBuf[:0]
	for i := range ex.Findings {
		f := &ex.Findings[i]
		company, product := b.who(f, reqSite)
		if (f.Kind == traffic.KindTracker || f.Kind == traffic.KindContact) && ex.CNAME != "" && cloakedBy(f) {
			a.cloaked[Cloaked{Host: host, CNAME: b.s(ex.CNAME), Company: company, Product: product}]++
		}
		switch f.Kind {
		case traffic.KindTracker:
			k := productKey{company, product, b.s(f.Category)}
			p := a.products[k]
			if p == nil {
				p = &Product{Product: product, Category: k.category}
				a.products[k] = p
			}
			if !slices.Contains(counted, k) {
				counted = append(counted, k)
				p.Requests++
			}
			if rid := b.s(f.RuleID); rid != "" && !contains(p.RuleIDs, rid) {
				p.RuleIDs = append(p.RuleIDs, rid)
			}
			continue
		case traffic.KindContact:
			a.contacts[Contact{Host: host, Via: b.s(ex.Via), Company: b.s(f.Company), Product: product}]++
			continue
		case traffic.KindUpstreamError:
			msg := ex.Error
			if msg == "" {
				msg = f.Summary
			}
			a.errors[UpstreamError{Host: host, Error: b.s(msg)}]++
			continue
		case traffic.KindPixelEvent:
			e := b.event(f, company, product, page)
			if d := eventDetails(f); d != "" {
				e = valueRow(b, a.events, a.eventValues, e, d)
				evs = append(evs, eventRow{f, e.Details})
			}
			a.events[e]++
		case traffic.KindHashedPII, traffic.KindPII:
			for _, ev := range f.Evidence {
				what, enc := splitPersonal(f.Kind, ev.Label)
				k := PersonalData{What: b.s(what), Encoding: b.s(enc), Company: company, Product: product, Page: page, Where: b.s(ev.Where)}
				a.personal[valueRow(b, a.personal, a.personalValues, k, ev.Value)]++
			}
		case traffic.KindClickID:
			for _, ev := range f.Evidence {
				k := ClickID{Company: company, Label: b.s(ev.Label), Where: b.s(ev.Where), Page: page}
				a.clickIDs[valueRow(b, a.clickIDs, a.clickValues, k, ev.Value)]++
			}
		case traffic.KindSessionReplay:
			a.replays[SessionReplay{Company: company, Product: product, Summary: b.s(f.Summary), Page: page}]++
		}
	}
	// The leak ledger, deduplicated by itemSeen, with
	// the buffers on the stack (this runs for every proxied exchange).
	var (
		fsBuf   [16]*traffic.Finding
		seenBuf [24][2]string
		whatBuf [256]byte
	)
	seen := itemSeen{list: seenBuf[:0]}
	for _, f := range appendByItemPriority(fsBuf[:0], ex.Findings) {
		company, product := b.who(f, reqSite)
		details := ""
		for _, e := range evs {
			if e.f == f {
				details = e.details
			}
		}
		eachItem(f, details, func(what itemWhat, ev *traffic.Evidence, sev traffic.Severity) {
			var where, value string
			var secret bool
			if ev != nil {
				where, value, secret = ev.Where, ev.Value, ev.Secret
			}
			var first bool
			if seen, first = seen.first(ev); !first {
				return
			}
			l := Leak{Page: page, Company: company, Product: product, Kind: f.Kind, Severity: sev,
				What: b.sBytes(appendSanitizedWhat(whatBuf[:0], &what)), Where: b.s(where), secret: secret}
			a.leaks[b.leakRow(a, l, value)]++
		})
	}
}

// maxSitePages and maxPages bound the pages a site, and the whole report,
// list on their own: a report of more is no longer read page by page, and
// every page keeps its own rows. Requests of further pages are counted
// under their site's OtherPages.
const (
	maxSitePages = 100
	maxPages     = 1000
)

// maxLeakValues bounds the distinct values the report keeps, per site,
// for one row of the leak ledger (company, product, kind, severity, what,
// where, on any page), of personal data, of click ids, or of an event's
// details (an order id, a search): a browser id or a page URL that changes
// with every request would otherwise add a row, and memory, per request.
// Further values are counted, per page, in one row whose value is
// otherValues.
const maxLeakValues = 16

// otherValues is the Value of the row that counts the requests whose
// value came after maxLeakValues distinct ones for that row.
const otherValues = "(other values)"

// leakRow returns the ledger key for l carrying value v (see valueRow).
func (b *Builder) leakRow(a *siteAgg, l Leak, v string) Leak {
	if v == "" {
		return l
	}
	return valueRow(b, a.leaks, a.leakValues, l, v)
}

// valued is a row type that carries a value: leak, personal-data,
// click-id and event rows (an event's value is its details).
type valued[K any] interface {
	comparable
	withValue(v string) K // the row carrying v
	pageless() K          // the row on no page, for counting its values per site
}

func (l Leak) withValue(v string) Leak {
	l.Value = v
	if v == otherValues {
		l.secret = false
	}
	return l
}
func (l Leak) pageless() Leak { l.Page = ""; return l }

func (p PersonalData) withValue(v string) PersonalData { p.Value = v; return p }
func (p PersonalData) pageless() PersonalData          { p.Page = ""; return p }

func (c ClickID) withValue(v string) ClickID { c.Value = v; return c }
func (c ClickID) pageless() ClickID          { c.Page = ""; return c }

func (e Event) withValue(v string) Event { e.Details = v; return e }
func (e Event) pageless() Event          { e.Page = ""; return e }

// valueRow returns the key under which rows records value v for row k (k
// without its value): k carrying v while the site has fewer than
// maxLeakValues distinct values for the row on any page, else k carrying
// otherValues. perRow counts the values by the row's pageless key.
//
// A row's value is always an interned copy: a map assignment stores the
// key it is given, and a substring of the request would keep the whole
// request head alive for as long as the row lives. Values of no row are
// not interned, so a value that changes with every request costs nothing.
func valueRow[K valued[K]](b *Builder, rows, perRow map[K]int, k K, v string) K {
	v = Sanitize(v)
	if c, ok := b.strs[v]; ok {
		if kc := k.withValue(c); rows[kc] > 0 {
			return kc
		}
	}
	if r := k.pageless(); perRow[r] < maxLeakValues {
		perRow[r]++
		return k.withValue(b.intern(v))
	}
	return k.withValue(otherValues)
}

// who names the tracker a finding is about: its company and product, or
// the request's site when no rule matched.
func (b *Builder) who(f *traffic.Finding, reqSite string) (company, product string) {
	company = f.Company
	if company == "" {
		company = reqSite
	}
	return b.s(company), b.s(f.Product)
}

// hostOf returns the exchange's normalized host and site, cached by the
// URL's raw host.
func (b *Builder) hostOf(ex *traffic.Exchange) hostInfo {
	if ex.Request.URL == nil {
		return hostInfo{}
	}
	raw := ex.Request.URL.Host
	if hi, ok := b.hosts[raw]; ok {
		return hi
	}
	h := ex.Host()
	hi := hostInfo{host: b.s(h), site: b.s(traffic.Site(h))}
	if len(b.hosts) >= maxHostCache {
		clear(b.hosts) // bounded: a capture may hold millions of hosts
	}
	b.hosts[strings.Clone(raw)] = hi
	return hi
}

// eventRow is the Details a pixel-event finding's row records.
type eventRow struct {
	f       *traffic.Finding
	details string
}

// event builds the Event row of a pixel-event finding, without its
// Details (see valueRow).
func (b *Builder) event(f *traffic.Finding, company, product, page string) Event {
	e := Event{Company: company, Product: product, Event: b.s(f.Event), Summary: b.s(f.Summary), Page: page}
	for _, ev := range f.Evidence {
		if ev.Label == "account id" && !ev.Secret {
			e.Account = b.s(ev.Value)
			break
		}
	}
	return e
}

// splitPersonal splits a personal-data label into what and encoding:
// "email (sha256)" (hashed-pii) and "email as sha256" (pii).
func splitPersonal(k traffic.Kind, label string) (what, enc string) {
	if k == traffic.KindPII {
		if w, e, ok := strings.Cut(label, " as "); ok {
			return w, e
		}
		return label, "plain"
	}
	if i := strings.LastIndex(label, " ("); i >= 0 && strings.HasSuffix(label, ")") {
		return label[:i], label[i+2 : len(label)-1]
	}
	return label, "hashed"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// cloakedBy reports whether a tracker or contact finding names its tracker
// by the host's DNS alias (evidence "dns:cname").
func cloakedBy(f *traffic.Finding) bool {
	for _, e := range f.Evidence {
		if e.Where == "dns:cname" {
			return true
		}
	}
	return false
}
