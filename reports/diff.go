package reports

import (
	"cmp"
	"slices"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// DiffSchemaVersion names the JSON layout WriteDiffJSON produces (see
// SCHEMA.md).
const DiffSchemaVersion = "trackaudit.diff/v1"

// Change says how a diff item differs between the two reports.
type Change string

const (
	Added   Change = "added"   // only in the report after
	Removed Change = "removed" // only in the report before
	Kept    Change = "kept"    // in both
)

// DiffReport compares two reports of the same sites taken at different
// times or in different states (before and after consent, logged out and
// in): per site, which trackers were requested and what left the browser
// to whom, before and after. Its field order is the JSON field order.
type DiffReport struct {
	Schema string     `json:"schema"`
	Before []Input    `json:"before"`
	After  []Input    `json:"after"`
	Totals DiffTotals `json:"totals"`
	Sites  []SiteDiff `json:"sites"`
}

// DiffTotals count the items of every site by change.
type DiffTotals struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Kept    int `json:"kept"`
	// AddedHigh counts the added items of severity high.
	AddedHigh int `json:"added_high"`
}

// SiteDiff is one first-party site's items.
type SiteDiff struct {
	Site string `json:"site"`
	// In says which reports have the site: "both", "before" or "after".
	In    string     `json:"in"`
	Items []DiffItem `json:"items"`
}

// DiffItem is one tracker product requested, one host contacted, or one
// thing that left the browser to one recipient, over all the site's pages
// and values: the leak ledger's rows without their page and value, an
// event without its details.
type DiffItem struct {
	Change   Change           `json:"change"`
	Company  string           `json:"company"`
	Product  string           `json:"product,omitempty"`
	Kind     traffic.Kind     `json:"kind"`
	Severity traffic.Severity `json:"severity"`
	// What is the leak ledger's what ("cookie c_user (person)", "event
	// Purchase"), the category of a tracker ("requests (pixel)"), the
	// name that hides one ("behind metrics.news.example (a DNS alias)")
	// or the host of a contact.
	What  string `json:"what"`
	Where string `json:"where,omitempty"`
	// Before and After count the requests (trackers), contacts or ledger
	// rows' exchanges in each report; 0 on the side without the item.
	Before int `json:"before"`
	After  int `json:"after"`
}

// Diff compares before and after. Both come from Report, and neither is
// modified. Values and pages are left out, so the pseudonyms of the two
// reports, numbered on their own, never make a difference.
func Diff(before, after *Report) *DiffReport {
	d := &DiffReport{Schema: DiffSchemaVersion, Before: before.Inputs, After: after.Inputs, Sites: []SiteDiff{}}
	for _, in := range []*[]Input{&d.Before, &d.After} {
		if *in == nil {
			*in = []Input{} // [] in JSON, as Report writes it
		}
	}
	sites := map[string]*siteItems{}
	var names []string
	for side, r := range []*Report{before, after} {
		for i := range r.Sites {
			s := &r.Sites[i]
			si := sites[s.Site]
			if si == nil {
				si = &siteItems{items: map[DiffItem]*diffEntry{}}
				sites[s.Site] = si
				names = append(names, s.Site)
			}
			si.in[side] = true
			si.addSite(side, s)
		}
	}
	slices.SortFunc(names, siteOrder)
	for _, n := range names {
		si := sites[n]
		sd := SiteDiff{Site: n, In: sides(si.in), Items: make([]DiffItem, 0, len(si.items))}
		for _, e := range si.items {
			it := e.item
			switch sides(e.in) {
			case "after":
				it.Change = Added
				d.Totals.Added++
				if it.Severity == traffic.SeverityHigh {
					d.Totals.AddedHigh++
				}
			case "before":
				it.Change = Removed
				d.Totals.Removed++
			default:
				it.Change = Kept
				d.Totals.Kept++
			}
			sd.Items = append(sd.Items, it)
		}
		slices.SortFunc(sd.Items, diffOrder)
		d.Sites = append(d.Sites, sd)
	}
	return d
}

// sides names which reports have something: "before", "after" or "both".
func sides(in [2]bool) string {
	switch {
	case in[0] && in[1]:
		return "both"
	case in[1]:
		return "after"
	}
	return "before"
}

// siteItems gathers one site's items from both reports, by diffKey.
type siteItems struct {
	in    [2]bool // the site is in before, after
	items map[DiffItem]*diffEntry
}

// diffEntry is an item and the reports that have it.
type diffEntry struct {
	item DiffItem
	in   [2]bool
}

// add counts it, n times, for side (0 before, 1 after).
func (si *siteItems) add(side int, it DiffItem, n int) {
	k := diffKey(it)
	e := si.items[k]
	if e == nil {
		e = &diffEntry{item: k}
		si.items[k] = e
	}
	e.in[side] = true
	if side == 0 {
		e.item.Before += n
	} else {
		e.item.After += n
	}
	e.item.Severity = moreSevere(e.item.Severity, it.Severity)
}

// addSite adds a site's items of one report: its tracker products, the
// trackers behind DNS aliases, its contacts and its leak ledger.
func (si *siteItems) addSite(side int, s *Site) {
	for _, c := range s.Trackers {
		for _, p := range c.Products {
			si.add(side, DiffItem{Company: c.Company, Product: p.Product, Kind: traffic.KindTracker, Severity: traffic.SeverityInfo,
				What: "requests (" + p.Category + ")"}, p.Requests)
		}
	}
	for _, c := range s.Cloaked {
		si.add(side, DiffItem{Company: c.Company, Product: c.Product, Kind: traffic.KindTracker, Severity: traffic.SeverityInfo,
			What: "behind " + c.Host + " (a DNS alias)"}, c.Count)
	}
	for _, c := range s.Contacts {
		si.add(side, DiffItem{Company: cmp.Or(c.Company, c.Host), Product: c.Product, Kind: traffic.KindContact, Severity: traffic.SeverityInfo,
			What: c.Host, Where: c.Via}, c.Count)
	}
	for _, l := range s.Leaks {
		si.add(side, DiffItem{Company: l.Company, Product: l.Product, Kind: l.Kind, Severity: l.Severity,
			What: withoutDetails(l.Kind, l.What), Where: l.Where}, l.Count)
	}
}

// withoutDetails cuts an event's details ("event Purchase: value 9.99
// EUR" → "event Purchase"): order ids and values differ from visit to
// visit, the event sent does not.
func withoutDetails(k traffic.Kind, what string) string {
	if k == traffic.KindPixelEvent && strings.HasPrefix(what, "event ") {
		what, _, _ = strings.Cut(what, ": ")
	}
	return what
}

// diffKey is what identifies an item across the two reports.
func diffKey(it DiffItem) DiffItem {
	return DiffItem{Company: it.Company, Product: it.Product, Kind: it.Kind, What: it.What, Where: it.Where}
}

// diffOrder sorts a site's items: added, removed, then kept; within each,
// the most severe first, then by recipient, kind, what and where.
func diffOrder(x, y DiffItem) int {
	return cmp.Or(
		cmp.Compare(changeRank(x.Change), changeRank(y.Change)),
		cmp.Compare(severityRank(y.Severity), severityRank(x.Severity)),
		strings.Compare(x.Company, y.Company),
		strings.Compare(x.Product, y.Product),
		strings.Compare(string(x.Kind), string(y.Kind)),
		strings.Compare(x.What, y.What),
		strings.Compare(x.Where, y.Where),
	)
}

func changeRank(c Change) int {
	switch c {
	case Added:
		return 0
	case Removed:
		return 1
	}
	return 2
}

func moreSevere(a, b traffic.Severity) traffic.Severity {
	if severityRank(b) > severityRank(a) {
		return b
	}
	return a
}
