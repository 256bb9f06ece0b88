package detectors

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// URLLeak reports first-party page URLs sent to third parties: in the
// Referer header (KindReferrerLeak) or inside a parameter or body
// (KindPageURLLeak) such as Meta's dl/rl, GA's dl/dr, a plugin's href or
// Segment's context.page.url.
//
// A value counts as the page URL when it is the page's own URL (or holds
// it), or is any absolute http(s) URL on the page's site with a path or
// query: an origin alone ("https://news.example/") is not a leak, which is
// also why an origin-only Referer, the browsers' default across sites, is
// not reported. Values URL-encoded a second time or base64-encoded are
// decoded once. The page's title, when known, is reported too.
//
// Sensitive parts of a leaked URL become extra evidence: search terms,
// e-mail addresses, health words and tokens; they raise the severity to
// high.
type URLLeak struct {
	// pageURL and pageSite are the last page parsed, ref its parse:
	// consecutive requests mostly name the same page, though often
	// through different *traffic.Page values (one per client).
	pageURL, pageSite string
	ref               pageRef
	// referer is what the last Referer header said about the page in
	// ref; its Evidence is shared and must be copied.
	referer refererLeak
}

// refererLeak is what a Referer header leaks of a page: whether it is a
// page URL of the site, and its sensitive parts.
type refererLeak struct {
	value, site string // the Referer and the page site it was checked against
	leaks       bool
	sens        []traffic.Evidence // dedupeSensitive(sensitiveParts("header:Referer", value))
	suffix      string             // sensitiveSuffix(sens)
}

// NewURLLeak returns the detector. It keeps no state but the last page
// parsed.
func NewURLLeak() *URLLeak { return &URLLeak{} }

// Name implements Detector.
func (d *URLLeak) Name() string { return "urlleak" }

// Detect implements Detector.
func (d *URLLeak) Detect(ex *traffic.Exchange) []traffic.Finding {
	if ex.HostOnly || ex.Request.URL == nil || ex.Page == nil || !ex.ThirdParty() {
		return nil
	}
	if ex.Page.URL != d.pageURL || ex.Page.Site != d.pageSite {
		d.pageURL, d.pageSite, d.ref = ex.Page.URL, ex.Page.Site, pageInfo(ex.Page)
	}
	page := d.ref
	var out []traffic.Finding
	if ref := ex.Request.Header.Get("Referer"); ref != "" && d.refererLeaks(ref) {
		sens := d.referer.sens
		f := traffic.Finding{Kind: traffic.KindReferrerLeak, Severity: traffic.SeverityMedium, Detector: d.Name()}
		setTracker(&f, ex)
		f.Evidence = make([]traffic.Evidence, 1, 1+len(sens))
		f.Evidence[0] = traffic.Evidence{Where: "header:Referer", Label: "page URL", Value: ref}
		f.Evidence = append(f.Evidence, sens...)
		f.Summary = "sent the full page URL to " + companyName(f) + " in the Referer header" + d.referer.suffix
		if len(sens) > 0 {
			f.Severity = traffic.SeverityHigh
		}
		out = append(out, f)
	}
	if f, ok := d.params(ex, page); ok {
		out = append(out, f)
	}
	return out
}

// refererLeaks reports whether the Referer ref is a page URL of the site
// in d.ref, and leaves its sensitive parts in d.referer. The last answer
// is kept: requests of one page all send the same Referer.
func (d *URLLeak) refererLeaks(ref string) bool {
	if d.referer.value != ref || d.referer.site != d.ref.site {
		d.referer = refererLeak{value: ref, site: d.ref.site, leaks: d.ref.isSiteURL(ref)}
		if d.referer.leaks {
			d.referer.sens = dedupeSensitive(sensitiveParts("header:Referer", ref))
			d.referer.suffix = sensitiveSuffix(d.referer.sens)
		}
	}
	return d.referer.leaks
}

// params builds the KindPageURLLeak finding of a request's parameters.
func (d *URLLeak) params(ex *traffic.Exchange, page pageRef) (traffic.Finding, bool) {
	f := traffic.Finding{Kind: traffic.KindPageURLLeak, Severity: traffic.SeverityMedium, Detector: d.Name()}
	var sens []traffic.Evidence
	var names []string
	var seenWhere, seenName map[string]bool // made at the first hit: most requests have none
	add := func(where, name, label, value string) bool {
		if seenWhere[where] {
			return false
		}
		if seenWhere == nil {
			seenWhere, seenName = map[string]bool{}, map[string]bool{}
		}
		seenWhere[where] = true
		f.Evidence = append(f.Evidence, traffic.Evidence{Where: where, Label: label, Value: value})
		if !seenName[name] {
			seenName[name] = true
			names = append(names, name)
		}
		return true
	}
	var forms [3]decodedForm
	title := strings.TrimSpace(ex.Page.Title)
	if strings.HasPrefix(title, "http://") || strings.HasPrefix(title, "https://") {
		// HAR exporters often put the page URL in the title field; the URL
		// is matched as a URL.
		title = ""
	}
	for _, p := range ex.Params() {
		if len(p.Value) < 8 && (title == "" || p.Value != title) {
			continue
		}
		if title != "" && len(title) >= 4 && strings.TrimSpace(p.Value) == title {
			add(p.Where, p.Name, "page title", p.Value)
			continue
		}
		for _, c := range appendDecodedForms(forms[:0], p.Value) {
			v, ok := page.match(c.value)
			if !ok {
				continue
			}
			where := p.Where + c.how
			if add(where, p.Name, urlLabel(p.Name), v) {
				sens = append(sens, sensitiveParts(where, v)...)
			}
			break
		}
	}
	if len(f.Evidence) == 0 {
		return traffic.Finding{}, false
	}
	setTracker(&f, ex)
	f.Evidence = append(f.Evidence, dedupeSensitive(sens)...)
	what := "the page URL"
	if onlyTitles(f.Evidence) {
		what = "the page title"
	}
	f.Summary = fmt.Sprintf("sent %s to %s in %s", what, companyName(f), joinShort(names, 6)) + sensitiveSuffix(sens)
	if len(sens) > 0 {
		f.Severity = traffic.SeverityHigh
	}
	return f, true
}

// pageRef is the page a request belongs to, parsed once.
type pageRef struct {
	site string
	full string // page URL without fragment when it has a path or query; "" otherwise
}

func pageInfo(p *traffic.Page) pageRef {
	r := pageRef{site: p.Site}
	if u, err := url.Parse(p.URL); err == nil && hasPathOrQuery(u) {
		u.Fragment, u.RawFragment = "", ""
		r.full = u.String()
	}
	return r
}

// match reports whether v is or holds a page URL of the page's site, and
// returns the URL found.
func (p pageRef) match(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if p.isSiteURL(v) {
		return v, true
	}
	if p.full != "" && len(v) > len(p.full) && strings.Contains(v, p.full) {
		return p.full, true
	}
	return "", false
}

// isSiteURL reports whether v is an absolute http(s) URL on the page's
// site with a path beyond "/" or a query.
func (p pageRef) isSiteURL(v string) bool {
	if len(v) < 10 || (!strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") &&
		!strings.HasPrefix(v, "HTTP://") && !strings.HasPrefix(v, "HTTPS://")) {
		return false
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return false
	}
	return traffic.Site(u.Hostname()) == p.site && hasPathOrQuery(u)
}

func hasPathOrQuery(u *url.URL) bool {
	return (u.Path != "" && u.Path != "/") || u.RawQuery != ""
}

// decodedForm is one reading of a parameter value.
type decodedForm struct {
	value string
	how   string // appended to Where: "", " (URL-encoded)", " (base64)"
}

// appendDecodedForms appends v, and v decoded once more when it is
// URL-encoded again or base64 of a URL, to out.
func appendDecodedForms(out []decodedForm, v string) []decodedForm {
	out = append(out, decodedForm{v, ""})
	if strings.Contains(v, "%") {
		if u, err := url.QueryUnescape(v); err == nil && u != v {
			out = append(out, decodedForm{u, " (URL-encoded)"})
		}
	}
	if s, ok := base64URL(v); ok {
		out = append(out, decodedForm{s, " (base64)"})
	}
	return out
}

// base64URL decodes v when it is base64 (standard or URL alphabet, padded
// or not) of something starting with "http".
func base64URL(v string) (string, bool) {
	// "aHR0c" is base64 of "http"; anything else cannot decode to a URL.
	if len(v) < 16 || !strings.HasPrefix(v, "aHR0c") {
		return "", false
	}
	s := strings.TrimRight(v, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b), true
		}
	}
	return "", false
}

// referrerParams name parameters that carry the referrer rather than the
// page itself (Meta rl, GA dr, LinkedIn/Quantcast ref, Yandex page-ref,
// Snap rf; tracker-facts §1.2, §2.3, §13, §21).
var referrerParams = map[string]bool{
	"rl": true, "dr": true, "ref": true, "referrer": true, "referer": true,
	"page-ref": true, "rf": true, "r": true, "$referrer": true, "$initial_referrer": true,
}

func urlLabel(name string) string {
	if referrerParams[strings.ToLower(name)] {
		return "referrer URL"
	}
	return "page URL"
}

func onlyTitles(ev []traffic.Evidence) bool {
	for _, e := range ev {
		if e.Label != "page title" {
			return false
		}
	}
	return true
}

// companyName names the receiver of f for summaries.
func companyName(f traffic.Finding) string {
	if f.Company == "" {
		return "a third party"
	}
	return f.Company
}

// Query parameter names that hold search terms or secrets in page URLs.
var (
	searchParams = map[string]bool{
		"q": true, "query": true, "search": true, "s": true, "keyword": true, "keywords": true,
		"searchterm": true, "search_term": true, "search_query": true, "term": true, "k": true, "text": true,
	}
	tokenParams = map[string]bool{
		"token": true, "access_token": true, "id_token": true, "refresh_token": true, "auth": true,
		"auth_token": true, "session": true, "sessionid": true, "session_id": true, "sid": true,
		"key": true, "api_key": true, "apikey": true, "password": true, "passwd": true, "pwd": true,
		"secret": true, "reset_token": true, "jwt": true, "code": true, "otp": true,
	}
)

// healthWords is a short curated list of words that, in a page URL, say
// something about the visitor's health. Words match whole path or query
// tokens; stems (ending in "*") match a token's start.
var healthWords = []string{
	"abortion", "addiction", "alzheimer*", "cancer", "chemotherapy", "clinic", "contraception",
	"dementia", "depression", "diabetes", "diagnosis", "fertility", "hepatitis", "herpes", "hiv",
	"ivf", "mental-health", "oncolog*", "pregnancy", "pregnant", "prescription", "psychiatr*",
	"rehab", "std", "suicide", "symptoms", "therapist", "therapy", "tumor", "tumour",
}

// healthStems are healthWords split once into the word to report and how
// it matches.
var healthStems = func() []healthWord {
	out := make([]healthWord, len(healthWords))
	for i, w := range healthWords {
		stem, isStem := strings.CutSuffix(w, "*")
		out[i] = healthWord{word: w, stem: stem, isStem: isStem, first: firstLetter(w)}
	}
	return out
}()

type healthWord struct {
	word   string // as listed, "psychiatr*"
	stem   string // without the "*"
	isStem bool
	first  uint32 // firstLetter(word)
}

// firstLetter is a one-bit set of s's first byte when it is a-z, else 0.
func firstLetter(s string) uint32 {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return 0
	}
	return 1 << (s[0] - 'a')
}

// matches reports whether token c is the word, or starts with the stem.
func (w healthWord) matches(c string) bool {
	return c == w.word || (w.isStem && strings.HasPrefix(c, w.stem))
}

var emailInURL = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// sensitiveParts lists the sensitive parts of a leaked URL found at where.
func sensitiveParts(where, raw string) []traffic.Evidence {
	var out []traffic.Evidence
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	plain := raw
	for i := 0; i < 2 && strings.Contains(plain, "%"); i++ {
		dec, err := url.QueryUnescape(plain)
		if err != nil {
			break
		}
		plain = dec
	}
	for _, p := range traffic.ParseQuery("query", u.RawQuery) {
		name := strings.ToLower(p.Name)
		switch {
		case p.Value == "":
		case searchParams[name]:
			out = append(out, traffic.Evidence{Where: where + " › " + p.Name, Label: "sensitive: search terms", Value: p.Value})
		case tokenParams[name]:
			out = append(out, traffic.Evidence{Where: where + " › " + p.Name, Label: "sensitive: token", Value: p.Value, Secret: true})
		}
	}
	if strings.Contains(plain, "@") { // the pattern needs one
		for _, m := range emailInURL.FindAllString(plain, 4) {
			out = append(out, traffic.Evidence{Where: where, Label: "sensitive: email address", Value: m, Secret: true})
		}
	}
	var seen map[string]bool
	rest := strings.ToLower(plain)
	for rest != "" {
		// Tokens are runs of a-z and '-', as strings.FieldsFunc would
		// cut them, without building the list.
		i := strings.IndexFunc(rest, isTokenRune)
		if i < 0 {
			break
		}
		rest = rest[i:]
		j := strings.IndexFunc(rest, isNotTokenRune)
		if j < 0 {
			j = len(rest)
		}
		tok := rest[:j]
		rest = rest[j:]
		// A word can only match a candidate (the token or one of its
		// parts) with its first letter: most words are skipped at once.
		letters := firstLetter(tok)
		if strings.Contains(tok, "-") {
			for part := range strings.SplitSeq(tok, "-") {
				letters |= firstLetter(part)
			}
		}
		for _, w := range healthStems {
			if w.first&letters == 0 {
				continue
			}
			// The token, or one of its "-"-separated parts ("breast-cancer"
			// or "find-a-psychiatrist" in a path slug).
			hit := w.matches(tok)
			for parts := tok; !hit && strings.Contains(tok, "-"); {
				part, more, found := strings.Cut(parts, "-")
				hit = w.matches(part)
				if !found {
					break
				}
				parts = more
			}
			if hit && !seen[w.word] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[w.word] = true
				out = append(out, traffic.Evidence{Where: where, Label: "sensitive: health", Value: w.stem})
			}
		}
	}
	return out
}

func isTokenRune(r rune) bool    { return r >= 'a' && r <= 'z' || r == '-' }
func isNotTokenRune(r rune) bool { return !isTokenRune(r) }

// dedupeSensitive drops repeated sensitive items (the same search term in
// dl and in the Referer) keeping the first, and sorts nothing: order
// follows the request.
func dedupeSensitive(ev []traffic.Evidence) []traffic.Evidence {
	seen := map[string]bool{}
	var out []traffic.Evidence
	for _, e := range ev {
		k := e.Label + "\x00" + e.Value
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// sensitiveSuffix says which kinds of sensitive parts were found, for a
// summary: ", including search terms and an email address".
func sensitiveSuffix(ev []traffic.Evidence) string {
	kinds := map[string]bool{}
	for _, e := range ev {
		kinds[strings.TrimPrefix(e.Label, "sensitive: ")] = true
	}
	if len(kinds) == 0 {
		return ""
	}
	names := map[string]string{"search terms": "search terms", "email address": "an email address", "health": "health words", "token": "a token"}
	var list []string
	for k := range kinds {
		if n, ok := names[k]; ok {
			list = append(list, n)
		} else {
			list = append(list, k)
		}
	}
	sort.Strings(list)
	return ", including " + strings.Join(list, ", ")
}
