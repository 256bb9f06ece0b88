package reports

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestBuilderLeakValuesBounded checks that a leak, personal data, a click
// id or an event's details that change with every request keep at most
// maxLeakValues rows plus one otherValues row, with every request counted.
func TestBuilderLeakValuesBounded(t *testing.T) {
	tests := []struct {
		name      string
		requests  int
		distinct  int // distinct values sent, cycling
		wantRows  int
		wantOther int // count of the otherValues row; 0 when none
	}{
		{"one value", 50, 1, 1, 0},
		{"at the cap", 3 * maxLeakValues, maxLeakValues, maxLeakValues, 0},
		{"one over", maxLeakValues + 1, maxLeakValues + 1, maxLeakValues + 1, 1},
		{"every request new", 1000, 1000, maxLeakValues + 1, 1000 - maxLeakValues},
	}
	// rows of each kind of finding, as the report lists them, and how a
	// finding of that kind carries the changing value
	secret := func(*traffic.Finding) {}
	kinds := map[traffic.Kind]struct {
		rows func(Site) []row
		prep func(*traffic.Finding)
	}{
		traffic.KindCookieLeak: {func(s Site) []row { return rowsOf(s.Leaks, func(l Leak) row { return row{l.Value, l.Count} }) }, secret},
		traffic.KindHashedPII: {func(s Site) []row {
			return rowsOf(s.PersonalData, func(p PersonalData) row { return row{p.Value, p.Count} })
		}, secret},
		traffic.KindClickID: {func(s Site) []row { return rowsOf(s.ClickIDs, func(c ClickID) row { return row{c.Value, c.Count} }) }, secret},
		traffic.KindPixelEvent: {func(s Site) []row { return rowsOf(s.Events, func(e Event) row { return row{e.Details, e.Count} }) },
			func(f *traffic.Finding) {
				f.Event = "Purchase"
				f.Evidence[0].Label, f.Evidence[0].Secret = "order id", false
			}},
	}
	for kind, k := range kinds {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				b := NewBuilder(Options{})
				for i := 0; i < tt.requests; i++ {
					ex := leakExchange(fmt.Sprintf("fb.1.1700000000000.%d", i%tt.distinct))
					ex.Findings[0].Kind = kind
					k.prep(&ex.Findings[0])
					b.Add(ex)
				}
				r := b.Report()
				if len(r.Sites) != 1 {
					t.Fatalf("sites = %d, want 1", len(r.Sites))
				}
				rows := k.rows(r.Sites[0])
				total, other := 0, 0
				for _, l := range rows {
					total += l.count
					switch {
					case l.value == otherValues:
						other += l.count
					case kind == traffic.KindPixelEvent:
						if !strings.HasPrefix(l.value, "order id fb.1.") {
							t.Errorf("details %q, want the order id", l.value)
						}
					case !strings.HasPrefix(l.value, "‹secret-"):
						t.Errorf("value %q shown, want a pseudonym", l.value)
					}
				}
				if len(rows) != tt.wantRows || other != tt.wantOther || total != tt.requests {
					t.Errorf("rows = %d, other-values count = %d, counted = %d; want %d, %d, %d",
						len(rows), other, total, tt.wantRows, tt.wantOther, tt.requests)
				}
				// the row values and, for events, the ledger's "event …:
				// details" names, plus a few fixed strings
				if len(b.strs) > 2*maxLeakValues+16 {
					t.Errorf("%d strings interned, want the values of no row left out", len(b.strs))
				}
			})
		}
	}
}

// row is a report row's value and count.
type row struct {
	value string
	count int
}

func rowsOf[T any](xs []T, r func(T) row) []row {
	out := make([]row, len(xs))
	for i, x := range xs {
		out[i] = r(x)
	}
	return out
}

// leakExchange is a Meta request from an unattributed page carrying one
// browser-id cookie value.
func leakExchange(fbp string) *traffic.Exchange {
	return &traffic.Exchange{
		Request: traffic.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "www.facebook.com", Path: "/tr/"}},
		Findings: []traffic.Finding{{
			Kind: traffic.KindCookieLeak, Severity: traffic.SeverityMedium, Company: "Meta", Product: "Pixel",
			Evidence: []traffic.Evidence{{Where: "cookie:_fbp", Label: "browser", Value: fbp, Secret: true}},
		}},
	}
}

// TestBuilderPagesBounded checks that a site lists at most maxSitePages
// pages on their own, counts the rest under OtherPages (listed last), and
// keeps the leak ledger's distinct values bounded across all its pages.
func TestBuilderPagesBounded(t *testing.T) {
	tests := []struct {
		pages, wantListed, wantOther int
	}{
		{1, 1, 0},
		{maxSitePages, maxSitePages, 0},
		{maxSitePages + 1, maxSitePages + 1, 1},
		{5 * maxSitePages, maxSitePages + 1, 4 * maxSitePages},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.pages), func(t *testing.T) {
			b := NewBuilder(Options{ShowSecrets: true})
			for i := 0; i < tt.pages; i++ {
				ex := leakExchange(fmt.Sprintf("fb.1.1700000000000.%d", i))
				ex.Page = &traffic.Page{URL: fmt.Sprintf("https://news.example/a/%d", i), Site: "news.example"}
				b.Add(ex)
			}
			if n := len(b.strs); n > maxSitePages+maxLeakValues+16 {
				t.Errorf("%d strings interned, want the URLs of pages not listed left out", n)
			}
			s := b.Report().Sites[0]
			if len(s.Pages) != tt.wantListed {
				t.Fatalf("pages listed = %d, want %d", len(s.Pages), tt.wantListed)
			}
			last := s.Pages[len(s.Pages)-1]
			if tt.wantOther > 0 && (last.URL != OtherPages || last.Requests != tt.wantOther) {
				t.Errorf("last page = %q with %d requests, want %q with %d", last.URL, last.Requests, OtherPages, tt.wantOther)
			}
			values, total := map[string]bool{}, 0
			for _, l := range s.Leaks {
				if l.Value != otherValues {
					values[l.Value] = true
				}
				total += l.Count
			}
			if len(values) > maxLeakValues || total != tt.pages {
				t.Errorf("leak ledger: %d distinct values over all pages, %d requests counted; want at most %d values and %d requests",
					len(values), total, maxLeakValues, tt.pages)
			}
		})
	}
}

// TestBuilderPagesBoundedAcrossSites checks the report-wide page budget:
// once maxPages pages are listed, a new site's pages go to its OtherPages.
func TestBuilderPagesBoundedAcrossSites(t *testing.T) {
	b := NewBuilder(Options{})
	sites := maxPages/maxSitePages + 2
	for s := 0; s < sites; s++ {
		for i := 0; i < maxSitePages; i++ {
			ex := leakExchange("v")
			site := fmt.Sprintf("site%d.example", s)
			ex.Page = &traffic.Page{URL: fmt.Sprintf("https://%s/%d", site, i), Site: site}
			b.Add(ex)
		}
	}
	r := b.Report()
	listed := 0
	for _, s := range r.Sites {
		for _, p := range s.Pages {
			if p.URL != OtherPages {
				listed++
			}
		}
	}
	if listed != maxPages || len(r.Sites) != sites {
		t.Errorf("listed %d pages over %d sites, want %d over %d", listed, len(r.Sites), maxPages, sites)
	}
	lastName := fmt.Sprintf("site%d.example", sites-1) // added after the budget ran out
	for _, s := range r.Sites {
		if s.Site == lastName && (len(s.Pages) != 1 || s.Pages[0].URL != OtherPages || s.Pages[0].Requests != maxSitePages) {
			t.Errorf("%s pages %+v, want only %q with %d requests", lastName, s.Pages, OtherPages, maxSitePages)
		}
	}
}
