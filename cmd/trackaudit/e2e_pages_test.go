package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/traffic"
)

// TestBrowseSpeculativePrefetch loads, through 'trackaudit browse
// --headless', an article whose speculation rules make Chromium prefetch
// the next article at once. The article's pixel, held by the server until
// the prefetch was served, then goes out with an origin-only Referer: it
// belongs to the article shown, not to the prefetched one nobody opened.
func TestBrowseSpeculativePrefetch(t *testing.T) {
	fixtures.Chromium(t, chromium.Find)
	const (
		page = "https://news.test/article/1"
		next = "https://news.test/article/2"
	)
	var (
		mu         sync.Mutex
		purpose    string // the prefetch's Sec-Purpose
		prefetched = make(chan struct{})
	)
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Host == "news.test" && r.URL.Path == "/article/1":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>One</title><h1>Article one</h1>
<script type="speculationrules">{"prefetch":[{"source":"list","urls":["/article/2"],"eagerness":"immediate"}]}</script>
<img src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1">`)
		case r.Host == "news.test" && r.URL.Path == "/article/2":
			mu.Lock()
			if purpose == "" {
				purpose = r.Header.Get("Sec-Purpose")
				close(prefetched)
			}
			mu.Unlock()
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>Two</title><h1>Article two</h1>`)
		case r.URL.Path == "/tr":
			select {
			case <-prefetched:
				time.Sleep(300 * time.Millisecond) // the prefetch's exchange ends first
			case <-time.After(10 * time.Second):
			}
			w.Header().Set("Content-Type", "image/gif")
			w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
		default:
			http.NotFound(w, r)
		}
	}), "news.test", "www.facebook.com")
	rep, _, stderr := browseJSON(t, caFile, maps, page)
	mu.Lock()
	if !strings.Contains(purpose, "prefetch") {
		t.Fatalf("Chromium did not prefetch %s (Sec-Purpose %q); stderr:\n%s", next, purpose, stderr)
	}
	mu.Unlock()
	checkLeakPages(t, rep, "Meta", page)
	// The prefetch is a request of the article shown: the report lists
	// no page for the article nobody opened.
	var pages []string
	for _, s := range rep.Sites {
		for _, p := range s.Pages {
			pages = append(pages, p.URL)
		}
	}
	if len(pages) != 1 || pages[0] != page {
		t.Errorf("pages %q, want only %s", pages, page)
	}
}

// TestBrowseNavigationBeacon: headless Chromium, through 'trackaudit
// browse', loads an article that moves on to the next one at once. The
// first article's pixel, and the analytics beacon it sends as it is left
// (pagehide), belong to it; the second article's pixel to the second. The
// beacon goes out after the second article's request started, with an
// origin-only Referer: only the page location it carries (dl=) tells.
func TestBrowseNavigationBeacon(t *testing.T) {
	fixtures.Chromium(t, chromium.Find)
	const (
		first  = "https://news.test/article/1"
		second = "https://news.test/article/2"
	)
	pixel := func(n int) string {
		return fmt.Sprintf(`<img src="https://www.facebook.com/tr?id=1234567890&ev=PageView&dl=%s&noscript=1">`,
			url.QueryEscape(fmt.Sprintf("https://news.test/article/%d", n)))
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+r.URL.Path)
		mu.Unlock()
		switch {
		case r.Host == "news.test" && r.URL.Path == "/article/1":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>One</title><h1>Article one</h1>`+pixel(1)+`
<script>
addEventListener("pagehide", () => navigator.sendBeacon(
  "https://www.google-analytics.com/g/collect?v=2&tid=G-NEWS123&en=user_engagement&dl=" + encodeURIComponent(location.href)));
onload = () => { location.href = "/article/2"; };
</script>`)
		case r.Host == "news.test" && r.URL.Path == "/article/2":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><title>Two</title><h1>Article two</h1>`+pixel(2))
		case r.URL.Path == "/tr":
			w.Header().Set("Content-Type", "image/gif")
			w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
		case r.URL.Path == "/g/collect":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}), "news.test", "www.facebook.com", "www.google-analytics.com")
	_, capPath, stderr := browseJSON(t, caFile, maps, first)
	byDL := map[string]*traffic.Exchange{} // host + dl
	if _, err := capture.ReadStore(capPath, func(ex *traffic.Exchange) error {
		if dl := ex.Request.URL.Query().Get("dl"); dl != "" {
			byDL[ex.Host()+" "+dl] = ex
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, c := range []struct{ key, page string }{
		{"www.facebook.com " + first, first},
		{"www.google-analytics.com " + first, first},
		{"www.facebook.com " + second, second},
	} {
		ex := byDL[c.key]
		if ex == nil {
			t.Errorf("no request %s in the capture (origin saw %s); stderr:\n%s", c.key, strings.Join(seen, ", "), stderr)
			continue
		}
		if ex.Page == nil || ex.Page.URL != c.page {
			t.Errorf("%s: page %+v, want %s", c.key, ex.Page, c.page)
		}
	}
}
