package detectors

import (
	"reflect"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestURLLeakCacheMatchesFresh runs one URLLeak over exchanges whose pages
// and Referers change, repeat and share values through different
// *traffic.Page, and checks every result against a fresh detector's: what
// it keeps from the last page and Referer must never show.
func TestURLLeakCacheMatchesFresh(t *testing.T) {
	pages := []*traffic.Page{
		{URL: "https://news.example/article?id=7", Site: "news.example", By: "referer"},
		{URL: "https://news.example/article?id=7", Site: "news.example", By: "referer"},
		{URL: "https://news.example/search?q=divorce&token=abc", Site: "news.example", By: "document"},
		{URL: "https://shop.example/", Site: "shop.example", By: "document"},
		{URL: "https://news.example/article?id=7", Site: "other.example", By: "referer"},
	}
	referers := []string{"", "https://news.example/article?id=7", "https://news.example/search?q=divorce&token=abc",
		"https://news.example/", "https://shop.example/cart?email=jane@example.com", "https://news.example/health/cancer"}
	d := NewURLLeak()
	n := 0
	for round := range 3 {
		for i, p := range pages {
			for j, ref := range referers {
				opts := []exOpt{}
				if ref != "" {
					opts = append(opts, withHeader("Referer", ref))
				}
				ex := newTestExchange(t, "GET", "https://tracker.example/p?dl="+ref, opts...)
				pp := *p
				ex.Page = &pp
				if (round+i+j)%2 == 0 {
					ex.Page = p
				}
				got := d.Detect(ex)
				want := NewURLLeak().Detect(ex)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("page %q site %q, Referer %q:\ngot  %+v\nwant %+v", p.URL, p.Site, ref, got, want)
				}
				n += len(got)
			}
		}
	}
	if n == 0 {
		t.Fatal("no findings: the test checks nothing")
	}
}
