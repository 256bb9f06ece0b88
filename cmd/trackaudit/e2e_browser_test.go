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

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/detectors"
	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

// TestBrowseHeadlessChromium drives the real browser through 'trackaudit
// browse --headless': a local "news site" embeds a Facebook Like button
// iframe and a Meta pixel image (www.facebook.com mapped to a local server),
// and Chromium trusts the proxy's CA by SPKI only. The article streams: its
// end is sent only after the Like button and the pixel were served, so
// their exchanges end before the page's, as on a long page, and must still
// be put on it.
func TestBrowseHeadlessChromium(t *testing.T) {
	fixtures.Chromium(t, chromium.Find)
	const page = "https://news.test/article?id=7"
	var (
		mu     sync.Mutex
		seen   = map[string]bool{}
		served sync.WaitGroup // the Like button and the pixel
	)
	served.Add(2)
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !seen[r.Host+r.URL.Path]
		seen[r.Host+r.URL.Path] = true
		mu.Unlock()
		if first && (r.URL.Path == "/plugins/like.php" || r.URL.Path == "/tr") {
			defer served.Done()
		}
		switch {
		case r.Host == "news.test":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>News</title><h1>Article</h1>
<iframe src="https://www.facebook.com/plugins/like.php?href=%s&layout=button_count"></iframe>
<img src="https://www.facebook.com/tr?id=1234567890&ev=PageView&dl=%s&noscript=1">
<p>%s</p>`,
				"https%3A%2F%2Fnews.test%2Farticle%3Fid%3D7", "https%3A%2F%2Fnews.test%2Farticle%3Fid%3D7", strings.Repeat("The first part of the article. ", 600))
			w.(http.Flusher).Flush()
			done := make(chan struct{})
			go func() { served.Wait(); close(done) }()
			select {
			case <-done:
				time.Sleep(300 * time.Millisecond) // their exchanges end first
			case <-time.After(10 * time.Second):
			}
			fmt.Fprint(w, "<p>"+strings.Repeat("The rest of the article. ", 2000)+"</p>")
		case r.URL.Path == "/plugins/like.php":
			http.SetCookie(w, &http.Cookie{Name: "datr", Value: "abc123", Path: "/", Secure: true, SameSite: http.SameSiteNoneMode})
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<button>Like</button>")
		case r.URL.Path == "/tr":
			w.Header().Set("Content-Type", "image/gif")
			w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
		default:
			http.NotFound(w, r)
		}
	}), "news.test", "www.facebook.com")

	rep, capPath, stderr := browseJSON(t, caFile, maps, page)
	mu.Lock()
	for _, want := range []string{"news.test/article", "www.facebook.com/plugins/like.php", "www.facebook.com/tr"} {
		if !seen[want] {
			t.Errorf("origin never saw %s (seen %v); stderr:\n%s", want, seen, stderr)
		}
	}
	mu.Unlock()

	attr := traffic.NewAttributor()
	det := detectors.Default(detectors.Options{Rules: rules.Default()})
	byPath := map[string]*traffic.Exchange{}
	ended := map[*traffic.Exchange]int{} // position in the capture: the order exchanges ended
	_, err := capture.ReadStore(capPath, func(ex *traffic.Exchange) error {
		ended[ex] = len(ended)
		attr.Attribute(ex)
		det.Run(ex)
		if h := ex.Host(); h == "news.test" || h == "www.facebook.com" {
			byPath[h+ex.Request.URL.Path] = ex
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := byPath["news.test/article"]
	like := byPath["www.facebook.com/plugins/like.php"]
	pixel := byPath["www.facebook.com/tr"]
	if doc == nil || like == nil || pixel == nil {
		t.Fatalf("captured %v, want the page, the Like iframe and the pixel", keys(byPath))
	}
	if doc.Request.Header.Get("Sec-Fetch-Dest") != "document" || !strings.Contains(doc.Request.Header.Get("User-Agent"), "Chrome") {
		t.Errorf("page request headers %v: not from Chromium?", doc.Request.Header)
	}
	for name, ex := range map[string]*traffic.Exchange{"like": like, "pixel": pixel} {
		if ex.Page == nil || ex.Page.URL != page || ex.Page.Site != "news.test" {
			t.Errorf("%s attributed to page %+v, want %s", name, ex.Page, page)
		}
		if ended[ex] > ended[doc] {
			t.Errorf("%s ended after the page (capture positions %d, %d): the page did not stream", name, ended[ex], ended[doc])
		}
		tr := ex.Tracker()
		if tr == nil || tr.Company != "Meta" {
			t.Errorf("%s: tracker finding %+v, want company Meta (findings %+v)", name, tr, ex.Findings)
		}
		if ex.Error != "" || ex.Response == nil || ex.Response.Status != 200 {
			t.Errorf("%s: error %q response %+v", name, ex.Error, ex.Response)
		}
	}
	if got := pixel.Request.URL.Query().Get("dl"); got != page {
		t.Errorf("pixel dl = %q, want the page URL %q", got, page)
	}
	var pages []string
	for _, s := range rep.Sites {
		for _, p := range s.Pages {
			pages = append(pages, p.URL+" "+p.Title)
		}
	}
	if want := []string{page + " News"}; !slices.Equal(pages, want) {
		t.Errorf("pages %q, want %q (titled from its HTML)", pages, want)
	}
	checkLeakPages(t, rep, "Meta", page)
	// Chromium sends cross-site requests an origin-only Referer; the
	// pixel's dl= names its page.
	if pixel.Page != nil && pixel.Page.By != "page-url" {
		t.Errorf("pixel tied by %q, want page-url (its dl=)", pixel.Page.By)
	}
}

// browseJSON runs 'trackaudit browse --headless --format json' with the
// --map flags of fakeInternet and args (flags, then the pages to load),
// and returns the report, the capture's path and stderr. Chromium's own background requests go to a
// closed loopback port, so the test resolves no real name and leaves the
// machine for nothing.
func browseJSON(t *testing.T, caFile string, maps []string, args ...string) (jsonReport, string, string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	for _, h := range []string{"clients2.google.com", "update.googleapis.com", "accounts.google.com", "www.google.com", "optimizationguide-pa.googleapis.com"} {
		maps = append(maps, "--map", h+"=127.0.0.1:1")
	}
	capPath := filepath.Join(t.TempDir(), "browse.db")
	cmd := append([]string{"browse", "--headless", "--capture", capPath, "--upstream-ca", caFile, "--format", "json"}, maps...)
	stdout, stderr, code := runCLI(t, append(cmd, args...)...)
	if code != 0 {
		t.Fatalf("browse: exit %d\nstderr:\n%s", code, stderr)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	return rep, capPath, stderr
}

// checkLeakPages checks that company's leak rows are all on page, and
// that there are some.
func checkLeakPages(t *testing.T, rep jsonReport, company, page string) {
	t.Helper()
	var pages []string
	for _, s := range rep.Sites {
		for _, l := range s.Leaks {
			if l.Company == company {
				pages = append(pages, l.Page)
			}
		}
	}
	if len(pages) == 0 || slices.ContainsFunc(pages, func(p string) bool { return p != page }) {
		t.Errorf("%s leak rows on pages %q, want all on %s", company, pages, page)
	}
}

func keys(m map[string]*traffic.Exchange) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
