package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
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
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())

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
	for _, h := range []string{"clients2.google.com", "update.googleapis.com", "accounts.google.com", "www.google.com", "optimizationguide-pa.googleapis.com"} {
		maps = append(maps, "--map", h+"=127.0.0.1:1")
	}
	capPath := filepath.Join(t.TempDir(), "browse.db")
	args := append([]string{"browse", "--headless", "--capture", capPath, "--upstream-ca", caFile, "--format", "json"}, maps...)
	stdout, stderr, code := runCLI(t, append(args, page)...)
	if code != 0 {
		t.Fatalf("browse: exit %d\nstderr:\n%s", code, stderr)
	}
	mu.Lock()
	if !strings.Contains(purpose, "prefetch") {
		t.Fatalf("Chromium did not prefetch %s (Sec-Purpose %q); stderr:\n%s", next, purpose, stderr)
	}
	mu.Unlock()
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	var leaks []string
	for _, s := range rep.Sites {
		for _, l := range s.Leaks {
			if l.Company == "Meta" {
				leaks = append(leaks, l.Page)
			}
		}
	}
	if len(leaks) == 0 || slices.ContainsFunc(leaks, func(p string) bool { return p != page }) {
		t.Errorf("Meta rows on pages %q, want all on %s, the page shown", leaks, page)
	}
}
