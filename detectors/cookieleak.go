package detectors

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// Bounds of CookieLeak's memory of first-party cookie values: a long proxy
// session must not grow it without end. When full, the site seen least
// recently first is forgotten; a full site keeps its first values.
const (
	maxSharedSites        = 256
	maxSharedValuesOfSite = 128
)

// CookieLeak reports the cookies that ride on third-party requests, and
// on first-party requests the Tracker detector tagged (KindCookieLeak),
// and first-party cookie values copied into third-party requests
// (KindCookieSharing).
//
// It learns first-party cookie values per site from the Cookie headers of
// first-party requests and the Set-Cookie headers of their responses, and
// then looks for each value (at least 8 characters and not trivial) in the
// parameters (query, form, JSON body) and cookies of later third-party
// requests from pages of that site. Google Analytics' _ga/_gid values
// ("GA1.1.<random>.<time>") are also looked for in their client-id form
// "<random>.<time>", the form GA's cid parameter carries (tracker-facts
// §2.6). Only values learnt before a request can be found in it.
type CookieLeak struct {
	cookies *rules.CookieTable
	sites   map[string]*siteCookies
	order   []string // sites, oldest first
}

// siteCookies holds the first-party cookie values of one site.
type siteCookies struct {
	values []sharedValue
	seen   map[[2]string]bool // cookie name, value
}

// sharedValue is one value to look for in third-party requests.
type sharedValue struct {
	value  string
	cookie string // cookie name
	label  string // evidence label
}

// NewCookieLeak returns the detector classifying cookies with t (nil: all
// cookies are "unknown").
func NewCookieLeak(t *rules.CookieTable) *CookieLeak {
	return &CookieLeak{cookies: t, sites: map[string]*siteCookies{}}
}

// Name implements Detector.
func (d *CookieLeak) Name() string { return "cookieleak" }

// Detect implements Detector.
func (d *CookieLeak) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex.HostOnly || ex.Request.URL == nil || ex.Page == nil || ex.Page.Site == "" {
		return nil
	}
	if !ex.ThirdParty() {
		d.learn(ex)
		// A tracker on the site's own host (a first-party collector, see
		// Tracker: Adobe's /b/ss/ on a CNAME, server-side GA4) gets every
		// cookie of the site's domain, the site's own logins included.
		if ex.Tracker() == nil {
			return nil
		}
		if cookies := ex.Cookies(); len(cookies) > 0 {
			f := d.leak(ex, cookies, true)
			f.Summary = "on the site's own host " + ex.Host() + ", " + f.Summary
			return []traffic.Finding{f}
		}
		return nil
	}
	var out []traffic.Finding
	cookies := ex.Cookies()
	if len(cookies) > 0 {
		out = append(out, d.leak(ex, cookies, false))
	}
	if f, ok := d.sharing(ex, cookies); ok {
		out = append(out, f)
	}
	return out
}

// leak builds the KindCookieLeak finding for the cookies of a third-party
// request, or of a first-party request to a tracker (siteOwn): there a
// cookie the table does not know whose name says session, auth, token …
// (traffic.SensitiveName) is the site's own login or session, and counts
// as identifying the person.
func (d *CookieLeak) leak(ex *traffic.Exchange, cookies []traffic.Cookie, siteOwn bool) traffic.Finding {
	f := traffic.Finding{Kind: traffic.KindCookieLeak, Severity: traffic.SeverityLow, Detector: d.Name()}
	setTracker(&f, ex)
	names := make([]string, 0, len(cookies))
	f.Evidence = make([]traffic.Evidence, 0, len(cookies))
	for _, c := range cookies {
		label := d.cookies.Identifies(c.Name)
		if siteOwn && label == rules.IdentifiesUnknown && traffic.SensitiveName(c.Name) {
			label = "site session"
		}
		switch {
		case label == rules.IdentifiesPerson || label == "site session":
			f.Severity = traffic.SeverityHigh
		case (label == rules.IdentifiesBrowser || label == rules.IdentifiesClick) && f.Severity != traffic.SeverityHigh:
			f.Severity = traffic.SeverityMedium
		}
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: "cookie:" + c.Name, Label: label, Value: c.Value, Secret: true})
		names = append(names, c.Name+" ("+label+")")
	}
	noun := "cookies"
	if len(cookies) == 1 {
		noun = "cookie"
	}
	f.Summary = fmt.Sprintf("sent %d %s: %s", len(cookies), noun, joinShort(names, 8))
	return f
}

// sharing builds the KindCookieSharing finding when first-party cookie
// values of the page's site appear in the request.
func (d *CookieLeak) sharing(ex *traffic.Exchange, cookies []traffic.Cookie) (traffic.Finding, bool) {
	sc := d.sites[ex.Page.Site]
	if sc == nil || len(sc.values) == 0 {
		return traffic.Finding{}, false
	}
	f := traffic.Finding{Kind: traffic.KindCookieSharing, Severity: traffic.SeverityMedium, Detector: d.Name()}
	var found, sharedSeen map[string]bool // where + cookie; cookie. Made at the first hit.
	var shared []string
	// look checks one place of the request (a parameter, then each
	// cookie) for every value learnt; a cookie's place is named
	// "cookie:NAME" only when something is found in it.
	look := func(value, where string, cookie bool) {
		if len(value) < minSharedLen {
			return
		}
		w := where
		for _, v := range sc.values {
			if !strings.Contains(value, v.value) {
				continue
			}
			if cookie && w == where {
				w = "cookie:" + where
			}
			k := w + "\x00" + v.cookie
			if found[k] {
				continue
			}
			if found == nil {
				found, sharedSeen = map[string]bool{}, map[string]bool{}
			}
			found[k] = true
			f.Evidence = append(f.Evidence, traffic.Evidence{Where: w, Label: v.label, Value: v.value, Secret: true})
			if d.cookies.Identifies(v.cookie) == rules.IdentifiesPerson {
				f.Severity = traffic.SeverityHigh
			}
			if !sharedSeen[v.cookie] {
				sharedSeen[v.cookie] = true
				shared = append(shared, v.cookie)
			}
		}
	}
	for _, p := range ex.Params() {
		look(p.Value, p.Where, false)
	}
	for _, c := range cookies {
		look(c.Value, c.Name, true)
	}
	if len(f.Evidence) == 0 {
		return traffic.Finding{}, false
	}
	setTracker(&f, ex)
	noun := "cookie"
	if len(shared) > 1 {
		noun = "cookies"
	}
	f.Summary = fmt.Sprintf("copied the value of first-party %s %s from %s", noun, joinShort(shared, 8), ex.Page.Site)
	return f, true
}

// learn remembers the first-party cookie values of a first-party request
// and its response.
func (d *CookieLeak) learn(ex *traffic.Exchange) {
	site := ex.Page.Site
	for _, c := range ex.Cookies() {
		d.remember(site, c.Name, c.Value)
	}
	if ex.Response == nil || ex.Response.Header == nil {
		return
	}
	for _, h := range ex.Response.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(h); err == nil {
			d.remember(site, c.Name, c.Value)
			continue
		}
		// Lenient fallback for values net/http rejects (spaces, quotes).
		pair, _, _ := strings.Cut(h, ";")
		if name, value, ok := strings.Cut(pair, "="); ok {
			d.remember(site, strings.TrimSpace(name), strings.TrimSpace(value))
		}
	}
}

// gaCookie matches Google Analytics cookie values GA1.<level>.<random>.<time>
// and captures the client id "<random>.<time>" (tracker-facts §2.6).
var gaCookie = regexp.MustCompile(`^GA1\.\d+\.(\d+\.\d+)$`)

// remember records one first-party cookie value of site, within bounds.
func (d *CookieLeak) remember(site, name, value string) {
	value = strings.Trim(value, `"`)
	if name == "" || !shareable(value) {
		return
	}
	sc := d.sites[site]
	if sc == nil {
		if len(d.order) >= maxSharedSites {
			delete(d.sites, d.order[0])
			d.order = d.order[1:]
		}
		site = strings.Clone(site)
		sc = &siteCookies{seen: map[[2]string]bool{}}
		d.sites[site] = sc
		d.order = append(d.order, site)
	}
	add := func(v, suffix string) {
		if len(sc.values) >= maxSharedValuesOfSite {
			return
		}
		k := [2]string{name, v}
		if sc.seen[k] {
			return
		}
		// Copies: a substring would keep the whole request head alive
		// as long as the value is remembered.
		v, name := strings.Clone(v), strings.Clone(name)
		sc.seen[[2]string{name, v}] = true
		sc.values = append(sc.values, sharedValue{value: v, cookie: name, label: "first-party cookie " + name + suffix})
	}
	add(value, "")
	if !strings.HasPrefix(value, "GA1.") { // what gaCookie needs, checked cheaply
		return
	}
	if m := gaCookie.FindStringSubmatch(value); m != nil && shareable(m[1]) {
		add(m[1], " (client id part)")
	}
}

// minSharedLen is the shortest cookie value looked for in other requests;
// shorter values match by chance.
const minSharedLen = 8

// trivialValues are cookie values that are common words, not identifiers;
// none is longer than maxTrivialLen.
const maxTrivialLen = 9

var trivialValues = map[string]bool{
	"true": true, "false": true, "null": true, "undefined": true, "deleted": true,
	"accepted": true, "rejected": true, "disabled": true, "enabled": true,
}

// shareable reports whether a cookie value is distinctive enough that
// finding it elsewhere means it was copied: at least minSharedLen long, not
// a common word, at least 5 distinct characters, and not a bare number of
// up to 10 digits (timestamps in seconds, counters).
func shareable(v string) bool {
	if len(v) < minSharedLen || len(v) > 4096 || len(v) <= maxTrivialLen && trivialValues[strings.ToLower(v)] {
		return false
	}
	// Count distinct characters up to 5 without a map: the first five
	// distinct runes are kept in an array.
	var distinct [5]rune
	n := 0
	digits := true
	for _, r := range v {
		if n < len(distinct) && !slices.Contains(distinct[:n], r) {
			distinct[n] = r
			n++
		}
		if r < '0' || r > '9' {
			digits = false
		}
	}
	if n < len(distinct) {
		return false
	}
	return !(digits && len(v) <= 10)
}

// setTracker copies the tracker's identity from ex's tracker finding into
// f, or names the request's site as the company when no rule matched.
func setTracker(f *traffic.Finding, ex *traffic.Exchange) {
	if tr := ex.Tracker(); tr != nil {
		f.Company, f.Product, f.Category, f.RuleID = tr.Company, tr.Product, tr.Category, tr.RuleID
		return
	}
	f.Company = ex.Site()
}

// joinShort joins up to max items with ", " and says how many more there
// were.
func joinShort(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
}
