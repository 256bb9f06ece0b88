package reports

import (
	"cmp"
	"slices"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// Report returns the aggregate so far: sites sorted by name (Unattributed
// last), every list sorted, secret values replaced by pseudonyms unless
// Options.ShowSecrets. Calling it again after more Adds gives a fresh,
// complete report; the Builder is not changed.
func (b *Builder) Report() *Report {
	r := &Report{
		Schema:       SchemaVersion,
		SecretsShown: b.o.ShowSecrets,
		SiteFilter:   b.site,
		Inputs:       slices.Clone(b.inputs),
		Insecure:     b.insecure,
	}
	if r.Inputs == nil {
		r.Inputs = []Input{}
	}
	names := make([]string, 0, len(b.sites))
	for n := range b.sites {
		names = append(names, n)
	}
	slices.SortFunc(names, siteOrder)
	// Each site's rows are sorted on its own; on a large capture that is
	// most of the work after the last Add, so the sites share the cores.
	r.Sites = make([]Site, len(names))
	parallel(len(names), func(i int) { r.Sites[i] = b.sites[names[i]].site(names[i]) })
	companies := map[string]bool{}
	for _, s := range r.Sites {
		r.Totals.Exchanges += s.Requests
		r.Totals.ThirdParty += s.ThirdParty
		r.Totals.LeakRows += len(s.Leaks)
		for _, l := range s.Leaks {
			if l.Severity == traffic.SeverityHigh {
				r.Totals.High++
			}
		}
		for _, c := range s.Trackers {
			companies[c.Company] = true
		}
	}
	r.Totals.Sites = len(r.Sites)
	r.Totals.Companies = len(companies)
	redactReport(r)
	return r
}

// site turns the running aggregate into its sorted, unredacted Site.
func (a *siteAgg) site(name string) Site {
	s := Site{Site: name, Requests: a.requests, FirstParty: a.first, ThirdParty: a.third, Insecure: a.insecure,
		Pages: []Page{}, ThirdParties: []ThirdParty{}, Trackers: []Company{}}
	for _, p := range a.pages {
		s.Pages = append(s.Pages, *p)
	}
	slices.SortFunc(s.Pages, func(x, y Page) int { return comparePage(x.URL, y.URL) })
	for _, t := range a.thirdParties {
		s.ThirdParties = append(s.ThirdParties, *t)
	}
	slices.SortFunc(s.ThirdParties, func(x, y ThirdParty) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), strings.Compare(x.Site, y.Site))
	})

	byCompany := map[string]*Company{}
	for k, p := range a.products {
		c := byCompany[k.company]
		if c == nil {
			c = &Company{Company: k.company}
			byCompany[k.company] = c
		}
		c.Requests += p.Requests
		pr := *p
		pr.RuleIDs = append([]string{}, p.RuleIDs...)
		slices.Sort(pr.RuleIDs)
		c.Products = append(c.Products, pr)
	}
	for _, c := range byCompany {
		slices.SortFunc(c.Products, func(x, y Product) int {
			return cmp.Or(cmp.Compare(y.Requests, x.Requests), strings.Compare(x.Product, y.Product), strings.Compare(x.Category, y.Category))
		})
		s.Trackers = append(s.Trackers, *c)
	}
	slices.SortFunc(s.Trackers, func(x, y Company) int {
		return cmp.Or(cmp.Compare(y.Requests, x.Requests), strings.Compare(x.Company, y.Company))
	})

	s.Contacts = counted(a.contacts, func(c *Contact, n int) { c.Count = n }, func(x, y Contact) int {
		return cmp.Or(strings.Compare(x.Host, y.Host), strings.Compare(x.Via, y.Via), strings.Compare(x.Company, y.Company), strings.Compare(x.Product, y.Product))
	})
	s.Cloaked = counted(a.cloaked, func(c *Cloaked, n int) { c.Count = n }, func(x, y Cloaked) int {
		return cmp.Or(strings.Compare(x.Host, y.Host), strings.Compare(x.CNAME, y.CNAME), strings.Compare(x.Company, y.Company), strings.Compare(x.Product, y.Product))
	})
	s.Leaks = counted(a.leaks, func(l *Leak, n int) { l.Count = n }, compareLeak)
	s.Events = counted(a.events, func(e *Event, n int) { e.Count = n }, func(x, y Event) int {
		return cmp.Or(comparePage(x.Page, y.Page), strings.Compare(x.Company, y.Company), strings.Compare(x.Product, y.Product),
			strings.Compare(x.Account, y.Account), strings.Compare(x.Event, y.Event), strings.Compare(x.Details, y.Details), strings.Compare(x.Summary, y.Summary))
	})
	s.PersonalData = counted(a.personal, func(p *PersonalData, n int) { p.Count = n }, func(x, y PersonalData) int {
		return cmp.Or(comparePage(x.Page, y.Page), strings.Compare(x.Company, y.Company), strings.Compare(x.Product, y.Product),
			strings.Compare(x.What, y.What), strings.Compare(x.Encoding, y.Encoding), strings.Compare(x.Where, y.Where), strings.Compare(x.Value, y.Value))
	})
	s.ClickIDs = counted(a.clickIDs, func(c *ClickID, n int) { c.Count = n }, func(x, y ClickID) int {
		return cmp.Or(comparePage(x.Page, y.Page), strings.Compare(x.Company, y.Company), strings.Compare(x.Label, y.Label),
			strings.Compare(x.Where, y.Where), strings.Compare(x.Value, y.Value))
	})
	s.Replays = counted(a.replays, func(r *SessionReplay, n int) { r.Count = n }, func(x, y SessionReplay) int {
		return cmp.Or(comparePage(x.Page, y.Page), strings.Compare(x.Company, y.Company), strings.Compare(x.Product, y.Product), strings.Compare(x.Summary, y.Summary))
	})
	s.Errors = counted(a.errors, func(e *UpstreamError, n int) { e.Count = n }, func(x, y UpstreamError) int {
		return cmp.Or(strings.Compare(x.Host, y.Host), strings.Compare(x.Error, y.Error))
	})
	return s
}

// compareLeak orders the ledger by page, then most serious first, then
// company, product, what, where and value.
func compareLeak(x, y Leak) int {
	return cmp.Or(comparePage(x.Page, y.Page), cmp.Compare(severityRank(y.Severity), severityRank(x.Severity)),
		strings.Compare(x.Company, y.Company), strings.Compare(x.Product, y.Product), strings.Compare(string(x.Kind), string(y.Kind)),
		strings.Compare(x.What, y.What), strings.Compare(x.Where, y.Where), strings.Compare(x.Value, y.Value))
}

// counted turns a row→count map into a sorted slice with counts set. The
// result is never nil, so JSON shows [] rather than null.
func counted[T comparable](m map[T]int, set func(*T, int), compare func(x, y T) int) []T {
	out := make([]T, 0, len(m))
	for k, n := range m {
		set(&k, n)
		out = append(out, k)
	}
	slices.SortFunc(out, compare)
	return out
}

// redactReport replaces secret values in r, walking it in its printed
// order so pseudonyms are numbered by first appearance.
func redactReport(r *Report) {
	rd := newRedactor(r.SecretsShown)
	for i := range r.Sites {
		s := &r.Sites[i]
		for j := range s.Pages {
			s.Pages[j].URL = rd.url(s.Pages[j].URL)
			s.Pages[j].Title = rd.text(s.Pages[j].Title)
		}
		for j := range s.Leaks {
			l := &s.Leaks[j]
			l.Page = rd.url(l.Page)
			l.Value = rd.value(l.Value, l.secret)
		}
		for j := range s.Events {
			s.Events[j].Page = rd.url(s.Events[j].Page)
		}
		for j := range s.PersonalData {
			p := &s.PersonalData[j]
			p.Page = rd.url(p.Page)
			if p.Value != otherValues {
				p.Value = rd.secret(p.Value)
			}
		}
		for j := range s.ClickIDs {
			c := &s.ClickIDs[j]
			c.Page = rd.url(c.Page)
			if c.Value != otherValues {
				c.Value = rd.secret(c.Value)
			}
		}
		for j := range s.Replays {
			s.Replays[j].Page = rd.url(s.Replays[j].Page)
		}
	}
}

// comparePage orders page URLs, with OtherPages last.
func comparePage(x, y string) int { return compareLast(x, y, OtherPages) }

// siteOrder orders site names, with Unattributed last.
func siteOrder(x, y string) int { return compareLast(x, y, Unattributed) }

// compareLast orders strings, with last (a placeholder) after all others.
func compareLast(x, y, last string) int {
	if (x == last) != (y == last) {
		if x == last {
			return 1
		}
		return -1
	}
	return strings.Compare(x, y)
}
