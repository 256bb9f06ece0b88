package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
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
}
