package reports

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/trackaudit/trackaudit/traffic"
)

func TestWriteHTMLGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sampleReport(t, Options{})); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html.golden", buf.Bytes())
}

// TestWriteHTMLEscapes feeds markup through every kind of captured text a
// report shows (a page URL and title, a tracker's name, a value, an event)
// and checks, with an HTML parser, that the page has no element, attribute
// or link it did not write itself, and shows the markup as text.
func TestWriteHTMLEscapes(t *testing.T) {
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	page := &traffic.Page{URL: "https://news.example/a?q=" + evil, Site: "news.example", Title: evil, By: "document"}
	b := NewBuilder(Options{ShowSecrets: true})
	b.Add(ex(1, "https://news.example/a", page))
	b.Add(ex(2, "https://www.facebook.com/tr?id=1", page,
		traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityMedium, Company: "Meta" + evil, Product: "Pixel", Category: "pixel", RuleID: "meta-pixel-event"},
		traffic.Finding{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityMedium, Company: "Meta" + evil, Product: "Pixel", Event: evil,
			Evidence: []traffic.Evidence{{Where: "query:ev", Label: "event", Value: evil}}},
		meta(traffic.KindCookieLeak, traffic.SeverityHigh, "cookie", traffic.Evidence{Where: "cookie:c_user", Label: "person", Value: evil, Secret: true})))
	var buf bytes.Buffer
	if err := WriteHTML(&buf, b.Report()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(ownMarkupText(t, buf.Bytes()), evil); n < 4 {
		t.Errorf("the markup shows as text %d times, want it in the title, tracker, event and value:\n%s", n, buf.String())
	}
	// The diff page, with the same tracker on one side only.
	buf.Reset()
	if err := WriteDiffHTML(&buf, Diff(b.Report(), &Report{})); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(ownMarkupText(t, buf.Bytes()), evil); n < 2 {
		t.Errorf("the diff page shows the markup as text %d times, want it in the tracker and the event:\n%s", n, buf.String())
	}
}

// ownMarkupText parses page and checks that it has no element, attribute
// or link the templates do not write; it returns the page's text.
func ownMarkupText(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "h1": true, "h2": true,
		"h3": true, "p": true, "ul": true, "li": true, "code": true, "br": true, "span": true, "table": true, "tbody": true, "tr": true, "th": true, "td": true}
	attrs := map[string]bool{"class": true, "lang": true, "charset": true, "name": true, "content": true, "colspan": true}
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if !allowed[n.Data] {
				t.Errorf("the page has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if !attrs[a.Key] {
					t.Errorf("<%s> has attribute %s=%q", n.Data, a.Key, a.Val)
				}
			}
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return text.String()
}

// brokenWriter fails every write, as a closed pipe does.
type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestWritersReportWriteErrors checks that every renderer, buffered as
// they are, returns the error of a writer that fails.
func TestWritersReportWriteErrors(t *testing.T) {
	r := sampleReport(t, Options{})
	d := Diff(r, r)
	for name, write := range map[string]func() error{
		"table":      func() error { return WriteTable(brokenWriter{}, r, TableOptions{}) },
		"json":       func() error { return WriteJSON(brokenWriter{}, r) },
		"csv":        func() error { return WriteCSV(brokenWriter{}, r, "leaks") },
		"html":       func() error { return WriteHTML(brokenWriter{}, r) },
		"diff table": func() error { return WriteDiffTable(brokenWriter{}, d, TableOptions{}) },
		"diff json":  func() error { return WriteDiffJSON(brokenWriter{}, d) },
		"diff csv":   func() error { return WriteDiffCSV(brokenWriter{}, d) },
		"diff html":  func() error { return WriteDiffHTML(brokenWriter{}, d) },
	} {
		if err := write(); err == nil || !strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("%s: error %v, want the writer's", name, err)
		}
	}
}
