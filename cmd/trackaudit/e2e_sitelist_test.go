package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
)

// TestBrowseSiteList runs 'trackaudit browse --headless' over a site list,
// as a researcher auditing many sites would: one URL on the command line
// and three in a --urls file. Each page loads in a fresh profile: the
// second page of clinic-a.test does not get the lasting cookie the first
// set. clinic-b.test fires GA4 from a 4-second timer, seen because the
// page's time is run ahead (--wait). slow.test never answers and is given
// up after --page-timeout with a warning, and the run goes on to the
// report.
func TestBrowseSiteList(t *testing.T) {
	fixtures.Chromium(t, chromium.Find)
	var (
		mu      sync.Mutex
		seen    = map[string]bool{}
		cookies = map[string]string{} // page path → its Cookie header
		release = make(chan struct{})
	)
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Host+r.URL.Path] = true
		if r.Host == "clinic-a.test" {
			cookies[r.URL.Path] = r.Header.Get("Cookie")
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case r.Host == "clinic-a.test":
			http.SetCookie(w, &http.Cookie{Name: "visitor", Value: "v1", Path: "/", MaxAge: 86400, Secure: true})
			fmt.Fprint(w, `<!doctype html><title>Clinic A</title>
<img src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1">`)
		case r.Host == "clinic-b.test":
			fmt.Fprint(w, `<!doctype html><title>Clinic B</title><script>
setTimeout(function () {
  fetch("https://www.google-analytics.com/g/collect?v=2&tid=G-CLINIC&cid=111.222&en=page_view&dl=" + encodeURIComponent(location.href), {mode: "no-cors"});
}, 4000);
</script>`)
		case r.Host == "slow.test":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case r.URL.Path == "/tr":
			w.Header().Set("Content-Type", "image/gif")
			w.Write([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}), "clinic-a.test", "clinic-b.test", "slow.test", "www.facebook.com", "www.google-analytics.com")
	t.Cleanup(func() { close(release) }) // before the server closes
	list := writeFile(t, "sites.txt", "# clinics to audit\nclinic-a.test\nclinic-a.test/contact\n\nhttps://slow.test/  # never answers\n")

	rep, _, stderr := browseJSON(t, caFile, maps, "--urls", list, "--page-timeout", "4s", "https://clinic-b.test/")
	for i, u := range []string{"https://clinic-b.test/", "https://clinic-a.test", "https://clinic-a.test/contact", "https://slow.test/"} {
		if want := fmt.Sprintf("[%d/4] loading %s\n", i+1, u); !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stderr, "https://slow.test/: not done after 4s") {
		t.Errorf("stderr does not say slow.test was given up:\n%s", stderr)
	}
	mu.Lock()
	for _, want := range []string{"clinic-a.test/", "clinic-a.test/contact", "clinic-b.test/", "www.facebook.com/tr", "www.google-analytics.com/g/collect", "slow.test/"} {
		if !seen[want] {
			t.Errorf("origin never saw %s (seen %v)", want, seen)
		}
	}
	if c, ok := cookies["/contact"]; !ok || c != "" {
		t.Errorf("clinic-a.test/contact sent Cookie %q, want none: each URL gets a fresh profile", c)
	}
	mu.Unlock()

	trackers := map[string][]string{}
	for _, s := range rep.Sites {
		for _, c := range s.Trackers {
			trackers[s.Site] = append(trackers[s.Site], c.Company)
		}
	}
	if !slices.Contains(trackers["clinic-a.test"], "Meta") || !slices.Contains(trackers["clinic-b.test"], "Google") {
		t.Errorf("trackers by site %v, want Meta on clinic-a.test and Google on clinic-b.test", trackers)
	}
	checkLeakPages(t, rep, "Google", "https://clinic-b.test/")
}

// TestBrowseKeptProfile runs 'trackaudit browse --headless --profile DIR'
// twice: the lasting cookie the site set on the first run (as a login
// would) is sent on the second, and the profile directory trackaudit made
// is private to its user.
func TestBrowseKeptProfile(t *testing.T) {
	fixtures.Chromium(t, chromium.Find)
	var (
		mu      sync.Mutex
		cookies []string
	)
	caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/account" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		mu.Lock()
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "login", Value: "jane", Path: "/", MaxAge: 86400, Secure: true})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Account</title>`)
	}), "portal.test")
	profile := filepath.Join(t.TempDir(), "audit-profile")
	for range 2 {
		browseJSON(t, caFile, maps, "--profile", profile, "https://portal.test/account")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cookies) != 2 || cookies[0] != "" || cookies[1] != "login=jane" {
		t.Errorf("the two visits sent Cookie %q, want none, then login=jane from the kept profile", cookies)
	}
	if fi, err := os.Stat(profile); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Errorf("profile directory mode %v, want 0700", fi.Mode().Perm())
	}
}
