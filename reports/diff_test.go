package reports

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// diffSample is the sample report (before) and, after, the same visit
// without the Like button, the session recorder and the shop; with a
// Purchase of another value; and with a TikTok pixel on the article and a
// new site, clinic.example.
func diffSample(t *testing.T) (before, after *Report) {
	t.Helper()
	var later []*traffic.Exchange
	for _, e := range sampleExchanges() {
		switch e.ID {
		case 6, 10, 13, 14: // Like button, Hotjar, the shop
			continue
		case 5:
			e.Findings[1].Evidence[1].Value = "99.00"
		}
		later = append(later, e)
	}
	tiktok := func(id int64, page *traffic.Page) *traffic.Exchange {
		return ex(id, "https://analytics.tiktok.com/api/v2/pixel", page,
			traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Company: "TikTok", Product: "TikTok Pixel",
				Category: "pixel", RuleID: "tiktok-pixel", Summary: "TikTok Pixel"},
			traffic.Finding{Kind: traffic.KindPageURLLeak, Severity: traffic.SeverityHigh, Company: "TikTok", Product: "TikTok Pixel",
				Category: "pixel", RuleID: "tiktok-pixel", Summary: "page URL in body",
				Evidence: []traffic.Evidence{{Where: "body:$.context.page.url", Label: "page URL", Value: page.URL}}})
	}
	clinic := &traffic.Page{URL: "https://clinic.example/book", Site: "clinic.example", Title: "Book", By: "document"}
	cloaked := ex(24, "https://smetrics.clinic.example/b/ss/x/1/JS-2.22.0/s1", clinic,
		traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics", Evidence: []traffic.Evidence{{Where: "dns:cname", Label: "DNS alias of", Value: "smetrics.clinic.example → clinic.example.sc.omtrdc.net"}}})
	cloaked.CNAME = "clinic.example.sc.omtrdc.net"
	later = append(later, tiktok(20, healthPage), tiktok(21, healthPage), ex(22, clinic.URL, clinic), tiktok(23, clinic), cloaked)
	b := NewBuilder(Options{})
	b.AddInput(Input{Name: "after.har", Format: "HAR", Exchanges: len(later)})
	for _, e := range later {
		b.Add(e)
	}
	return sampleReport(t, Options{}), b.Report()
}

func TestDiff(t *testing.T) {
	before, after := diffSample(t)
	d := Diff(before, after)
	var in []string
	for _, s := range d.Sites {
		in = append(in, s.Site+" "+s.In)
	}
	if want := []string{"clinic.example after", "news.example both", "shop.example before", "(unattributed) both"}; !slices.Equal(in, want) {
		t.Errorf("sites %q, want %q", in, want)
	}
	type key struct {
		site, product string
		kind          traffic.Kind
		what          string
	}
	items := map[key]DiffItem{}
	for _, s := range d.Sites {
		for _, it := range s.Items {
			items[key{s.Site, it.Product, it.Kind, it.What}] = it
		}
	}
	for _, tc := range []struct {
		key
		change        Change
		before, after int
		severity      traffic.Severity
	}{
		{key{"news.example", "Like button", traffic.KindTracker, "requests (social-plugin)"}, Removed, 1, 0, traffic.SeverityInfo},
		{key{"news.example", "Like button", traffic.KindSocialPlugin, "logged-in state: cookie c_user (person)"}, Removed, 1, 0, traffic.SeverityHigh},
		{key{"news.example", "Hotjar", traffic.KindSessionReplay, "session recording"}, Removed, 1, 0, traffic.SeverityHigh},
		// Another value is the same event; the ledger's "event Purchase: value …" loses its details.
		{key{"news.example", "Meta Pixel", traffic.KindPixelEvent, "event Purchase"}, Kept, 1, 1, traffic.SeverityHigh},
		{key{"news.example", "Meta Pixel", traffic.KindTracker, "requests (pixel)"}, Kept, 3, 3, traffic.SeverityInfo},
		// The cookie's pseudonym differs between the reports; the item does not.
		{key{"news.example", "Meta Pixel", traffic.KindCookieLeak, "cookie c_user (person)"}, Kept, 2, 2, traffic.SeverityHigh},
		{key{"news.example", "TikTok Pixel", traffic.KindPageURLLeak, "page URL in body $.context.page.url"}, Added, 0, 2, traffic.SeverityHigh},
		{key{"clinic.example", "TikTok Pixel", traffic.KindTracker, "requests (pixel)"}, Added, 0, 1, traffic.SeverityInfo},
		{key{"clinic.example", "Analytics", traffic.KindTracker, "behind smetrics.clinic.example (a DNS alias)"}, Added, 0, 1, traffic.SeverityInfo},
		{key{"shop.example", "Meta Pixel", traffic.KindPII, "email as sha256 in parameter ud[em]"}, Removed, 1, 0, traffic.SeverityHigh},
		{key{"(unattributed)", "TikTok Pixel", traffic.KindContact, "analytics.tiktok.com"}, Kept, 1, 1, traffic.SeverityInfo},
	} {
		it, ok := items[tc.key]
		if !ok {
			t.Errorf("no item %+v; items:\n%+v", tc.key, items)
			continue
		}
		if it.Change != tc.change || it.Before != tc.before || it.After != tc.after || it.Severity != tc.severity {
			t.Errorf("%+v: %s %s before %d after %d, want %s %s %d %d", tc.key, it.Change, it.Severity, it.Before, it.After,
				tc.change, tc.severity, tc.before, tc.after)
		}
	}
	var added, removed, kept, high int
	for _, s := range d.Sites {
		for i, it := range s.Items {
			if i > 0 && diffOrder(s.Items[i-1], it) > 0 {
				t.Errorf("%s: items out of order at %d: %+v after %+v", s.Site, i, it, s.Items[i-1])
			}
			switch it.Change {
			case Added:
				added++
				if it.Severity == traffic.SeverityHigh {
					high++
				}
			case Removed:
				removed++
			case Kept:
				kept++
			}
		}
	}
	if want := (DiffTotals{Added: added, Removed: removed, Kept: kept, AddedHigh: high}); d.Totals != want || added == 0 || removed == 0 || kept == 0 {
		t.Errorf("totals %+v, want %+v, each non-zero", d.Totals, want)
	}
	// Against itself everything is kept; against nothing, removed.
	same, gone := Diff(before, before), Diff(before, &Report{})
	if same.Totals.Added+same.Totals.Removed != 0 || gone.Totals.Added+gone.Totals.Kept != 0 || same.Totals.Kept != gone.Totals.Removed || same.Totals.Kept == 0 {
		t.Errorf("a report against itself: totals %+v; against an empty one: %+v", same.Totals, gone.Totals)
	}
	for _, s := range same.Sites {
		for _, it := range s.Items {
			if it.Before == 0 || it.Before != it.After {
				t.Errorf("a report against itself: %s %+v, want equal counts before and after", s.Site, it)
			}
		}
	}
}

func TestWriteDiffGolden(t *testing.T) {
	before, after := diffSample(t)
	d := Diff(before, after)
	for _, tc := range []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"diff.golden", func(b *bytes.Buffer) error { return WriteDiffTable(b, d, TableOptions{Width: 110}) }},
		{"diff.json.golden", func(b *bytes.Buffer) error { return WriteDiffJSON(b, d) }},
		{"diff.csv.golden", func(b *bytes.Buffer) error { return WriteDiffCSV(b, d) }},
		{"diff.html.golden", func(b *bytes.Buffer) error { return WriteDiffHTML(b, d) }},
	} {
		var buf bytes.Buffer
		if err := tc.write(&buf); err != nil {
			t.Fatalf("%s: %v", tc.golden, err)
		}
		golden(t, tc.golden, buf.Bytes())
	}
}

func TestWithPlace(t *testing.T) {
	for _, tc := range [][3]string{
		{"cookie c_user (person)", "cookie:c_user", "cookie c_user (person)"},
		{"page URL in body $.context.page.url", "body:$.context.page.url", "page URL in body $.context.page.url"},
		{"Meta match key", "query:fbp", "Meta match key (query:fbp)"},
		{"analytics.tiktok.com", "tls-sni", "analytics.tiktok.com (tls-sni)"},
		{"requests (pixel)", "", "requests (pixel)"},
	} {
		if got := withPlace(tc[0], tc[1]); got != tc[2] {
			t.Errorf("withPlace(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// TestReadJSONRoundTrip checks that a report written as JSON reads back
// as the same diff items, and that a file of another schema is refused.
func TestReadJSONRoundTrip(t *testing.T) {
	before, after := diffSample(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, before); err != nil {
		t.Fatal(err)
	}
	read, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	WriteDiffCSV(&want, Diff(before, after))
	WriteDiffCSV(&got, Diff(read, after))
	if got.String() != want.String() {
		t.Errorf("diff of the report read back:\n%s\nwant\n%s", got.String(), want.String())
	}
	for _, bad := range []string{`{"schema": "trackaudit.diff/v1", "sites": []}`, `{"log": {}}`, `[1, 2`} {
		if _, err := ReadJSON(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadJSON(%s) = nil error", bad)
		}
	}
}

// FuzzDiffJSON decodes any JSON as a report and compares it with itself
// and with nothing, writing every format: no input may panic (a report
// read from a file can lack any list).
func FuzzDiffJSON(f *testing.F) {
	var buf bytes.Buffer
	WriteJSON(&buf, sampleReport(f, Options{}))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"schema":"trackaudit.report/v1","sites":[{"site":"a.example","trackers":[{"company":"X"}],"leaks":[{"kind":"pixel-event","what":"event "}]},{"site":"a.example"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadJSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, d := range []*DiffReport{Diff(r, r), Diff(r, &Report{}), Diff(&Report{}, r)} {
			if err := WriteDiffTable(io.Discard, d, TableOptions{}); err != nil {
				t.Fatal(err)
			}
			WriteDiffJSON(io.Discard, d)
			WriteDiffCSV(io.Discard, d)
		}
	})
}
