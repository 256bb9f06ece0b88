package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
// Chromium trusts the proxy's CA by SPKI only, and the capture is then run
// through page attribution and the default detectors.
func TestBrowseHeadlessChromium(t *testing.T) {
	fixtures.Chromium(t, chromium.Find)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())

	const page = "https://news.test/article?id=7"
	var mu sync.Mutex
	seen := map[string]bool{}
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Host+r.URL.Path] = true
		mu.Unlock()
		switch {
		case r.Host == "news.test":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>News</title><h1>Article</h1>
<iframe src="https://www.facebook.com/plugins/like.php?href=%s&layout=button_count"></iframe>
<img src="https://www.facebook.com/tr?id=1234567890&ev=PageView&dl=%s&noscript=1">`,
				"https%3A%2F%2Fnews.test%2Farticle%3Fid%3D7", "https%3A%2F%2Fnews.test%2Farticle%3Fid%3D7")
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

	// Chromium's own background requests go to a closed loopback port, so
	// the test resolves no real name and leaves the machine for nothing.
	for _, h := range []string{"clients2.google.com", "update.googleapis.com", "accounts.google.com", "www.google.com", "optimizationguide-pa.googleapis.com"} {
		maps = append(maps, "--map", h+"=127.0.0.1:1")
	}
	capPath := filepath.Join(t.TempDir(), "browse.db")
	args := append([]string{"browse", "--headless", "--capture", capPath, "--upstream-ca", caFile, "--color", "never"}, maps...)
	stdout, stderr, code := runCLI(t, append(args, page)...)
	if code != 0 {
		t.Fatalf("browse: exit %d\nstderr:\n%s", code, stderr)
	}
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
	_, err := capture.ReadStore(capPath, func(ex *traffic.Exchange) error {
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
		if ex.Page == nil || ex.Page.Site != "news.test" || ex.Page.Title != "News" {
			t.Errorf("%s attributed to page %+v, want news.test titled News (from its HTML)", name, ex.Page)
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
	if !strings.Contains(stdout, "news.test") || !strings.Contains(stdout, "Meta") {
		t.Errorf("report does not name news.test and Meta:\n%s", stdout)
	}
}

func keys(m map[string]*traffic.Exchange) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
