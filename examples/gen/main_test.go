package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/traffic"
)

var update = flag.Bool("update", false, "rewrite the example HAR files in ..")

var committed = filepath.Join("..", "news-site.har")

// TestCommittedMatchesGenerator keeps the committed examples in step with
// this program: go test ./examples/gen -update rewrites them.
func TestCommittedMatchesGenerator(t *testing.T) {
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := o.write(&a); err != nil {
				t.Fatal(err)
			}
			if err := o.write(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("two runs of the generator differ: output is not deterministic")
			}
			path := filepath.Join("..", o.name)
			if *update {
				if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./examples/gen -update writes it)", err)
			}
			if !bytes.Equal(a.Bytes(), want) {
				t.Errorf("%s is stale: run go run ./examples/gen (or go test ./examples/gen -update)", path)
			}
		})
	}
}

// TestExampleFacts reads the committed file back and checks the leaks a
// correct analysis must find (and the decoy it must not).
func TestExampleFacts(t *testing.T) {
	f, err := os.Open(committed)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var exs []*traffic.Exchange
	if _, err := capture.ReadHAR(f, "news-site.har", func(ex *traffic.Exchange) error { exs = append(exs, ex); return nil }); err != nil {
		t.Fatal(err)
	}
	byPath := map[string][]*traffic.Exchange{}
	for _, ex := range exs {
		byPath[ex.Host()+ex.Request.URL.Path] = append(byPath[ex.Host()+ex.Request.URL.Path], ex)
	}
	doc := exs[0]
	if got := doc.Request.URL.String(); got != ArticleURL {
		t.Errorf("document URL = %q, want %q", got, ArticleURL)
	}
	cookies := map[string]string{}
	for _, c := range doc.Cookies() {
		cookies[c.Name] = c.Value
	}
	if cookies["_fbp"] != FBP || cookies["_ga"] != GA {
		t.Errorf("first-party cookies %v, want _fbp=%s and _ga=%s", cookies, FBP, GA)
	}
	tr := byPath["www.facebook.com/tr/"]
	if len(tr) != 2 {
		t.Fatalf("%d facebook.com/tr requests, want 2", len(tr))
	}
	for i, ev := range []string{"PageView", "ViewContent"} {
		ps := traffic.Params(&tr[i].Request)
		want := map[string]string{
			"id": PixelID, "ev": ev, "dl": ArticleURL, "fbp": FBP,
			// sha256("jane.doe@example.com"), computed with python's hashlib.
			"ud[em]": "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d",
			"ud[ph]": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		}
		for k, v := range want {
			if got, _ := traffic.Get(ps, k); got != v {
				t.Errorf("tr %s: %s = %q, want %q", ev, k, got, v)
			}
		}
		if got, _ := traffic.Get(ps, "ud[ph]"); !traffic.IsEmptyHash(got) {
			t.Errorf("tr %s: ud[ph] %q is not recognised as the hash of nothing", ev, got)
		}
		if tr[i].Request.Header.Get("Cookie") != FBCookies {
			t.Errorf("tr %s: Cookie = %q, want the logged-in Facebook cookies", ev, tr[i].Request.Header.Get("Cookie"))
		}
	}
	if v, _ := traffic.Get(traffic.Params(&tr[1].Request), "cd[content_name]"); v == "" {
		t.Errorf("ViewContent lacks cd[content_name]")
	}
	like := byPath["www.facebook.com/plugins/like.php"]
	if len(like) != 1 || like[0].Request.Header.Get("Sec-Fetch-Dest") != "iframe" || !strings.Contains(like[0].Request.Header.Get("Cookie"), "c_user=100012345678901") {
		t.Fatalf("like.php: want one iframe request with c_user, got %d", len(like))
	}
	if href, _ := traffic.Get(traffic.Params(&like[0].Request), "href"); href != ArticleURL {
		t.Errorf("like.php href = %q, want the full article URL", href)
	}
	ga := byPath["region1.google-analytics.com/g/collect"]
	if len(ga) != 1 || ga[0].Request.Method != "POST" {
		t.Fatalf("want one GA4 collect POST, got %d", len(ga))
	}
	ps := traffic.Params(&ga[0].Request)
	for k, v := range map[string]string{"v": "2", "tid": MeasureID, "cid": GAClientID, "dl": ArticleURL, "dr": WebmailURL, "dt": Title} {
		if got, _ := traffic.Get(ps, k); got != v {
			t.Errorf("collect %s = %q, want %q", k, got, v)
		}
	}
	var events []string
	for _, p := range ps {
		if p.Name == "en" {
			events = append(events, p.Where+"="+p.Value)
		}
	}
	if got, want := strings.Join(events, " "), "form[0]:en=page_view form[1]:en=scroll"; got != want {
		t.Errorf("collect events %q, want %q", got, want)
	}
}

// TestShopExampleFacts reads the committed shop capture back and checks
// that each planted value survived the HAR round trip in its place.
func TestShopExampleFacts(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "shop-checkout.har"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byHost := map[string][]*traffic.Exchange{}
	n := 0
	if _, err := capture.ReadHAR(f, "shop-checkout.har", func(ex *traffic.Exchange) error {
		byHost[ex.Host()] = append(byHost[ex.Host()], ex)
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := len(ShopExchanges()); n != want {
		t.Fatalf("read %d exchanges, want %d", n, want)
	}
	param := func(host, name string) string {
		t.Helper()
		exs := byHost[host]
		if len(exs) == 0 {
			t.Fatalf("no request to %s", host)
		}
		v, _ := traffic.Get(traffic.Params(&exs[len(exs)-1].Request), name)
		return v
	}
	emailSHA := sha256hex(ShopEmail)
	tests := []struct{ host, name, want string }{
		{"www.facebook.com", "ud[em]", emailSHA},
		// sha256("") as python's hashlib computes it.
		{"www.facebook.com", "ud[ph]", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"alb.reddit.com", "em", emailSHA},
		{"alb.reddit.com", "event", "Purchase"},
		{"tr.snapchat.com", "u_hem", emailSHA},
		{"tr.snapchat.com", "ev", "PURCHASE"},
		{"analytics.tiktok.com", "event", "CompletePayment"},
		{"analytics.tiktok.com", "email", emailSHA},
		{"ct.pinterest.com", "event", "checkout"},
		{"api.segment.io", "email", ShopEmail},
		{"www.awin1.com", "p1", "JANE.DOE%40EXAMPLE.COM"},
	}
	for _, tt := range tests {
		if got := param(tt.host, tt.name); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.host, tt.name, got, tt.want)
		}
	}
	if !traffic.IsEmptyHash(param("alb.reddit.com", "pn")) {
		t.Errorf("reddit pn is not the hash of a blank value")
	}
	k := byHost["a.klaviyo.com"][0]
	if k.Request.Header.Get("X-Klaviyo-Email") != ShopTypedEmail || !strings.Contains(k.Request.Header.Get("Cookie"), "kl_email=jane.doe%40example.com") {
		t.Errorf("klaviyo request lacks the e-mail header or cookie: %v", k.Request.Header)
	}
	if h := byHost["forms.hubspot.com"][0].Request.Header.Get("Content-Type"); !strings.HasPrefix(h, "multipart/form-data; boundary=") {
		t.Errorf("hubspot form Content-Type = %q, want multipart", h)
	}
}

// TestRejectedExampleFacts reads the committed visit after "Reject all"
// back: no Google request and no first-party tracking cookie, but the
// pixel's PageView, with a fresh browser id and Facebook's cookies, and the
// Like button are still there.
func TestRejectedExampleFacts(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "news-site-rejected.har"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var paths []string
	var pageView *traffic.Exchange
	if _, err := capture.ReadHAR(f, "news-site-rejected.har", func(ex *traffic.Exchange) error {
		paths = append(paths, ex.Host()+ex.Request.URL.Path)
		if ev, _ := traffic.Get(traffic.Params(&ex.Request), "ev"); ev == "PageView" {
			pageView = ex
		}
		if ex.ID == 1 && ex.Request.Header.Get("Cookie") != "consent=analytics%3Dno%2Cads%3Dno" {
			t.Errorf("document Cookie %q, want only the consent choice", ex.Request.Header.Get("Cookie"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if strings.Contains(p, "google") {
			t.Errorf("request to %s after Reject all", p)
		}
	}
	if !slices.Contains(paths, "www.facebook.com/plugins/like.php") || pageView == nil {
		t.Fatalf("requests %q, want the Like button and the pixel's PageView", paths)
	}
	if fbp, _ := traffic.Get(traffic.Params(&pageView.Request), "fbp"); fbp != RejectedFBP || pageView.Request.Header.Get("Cookie") != FBCookies {
		t.Errorf("PageView fbp %q Cookie %q, want %s and the Facebook cookies", fbp, pageView.Request.Header.Get("Cookie"), RejectedFBP)
	}
}
