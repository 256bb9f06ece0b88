package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/traffic"
)

var update = flag.Bool("update", false, "rewrite ../news-site.har")

var committed = filepath.Join("..", "news-site.har")

// TestCommittedMatchesGenerator keeps the committed example in step with
// this program: go test ./examples/gen -update rewrites it.
func TestCommittedMatchesGenerator(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs of the generator differ: output is not deterministic")
	}
	if *update {
		if err := os.WriteFile(committed, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v (go test ./examples/gen -update writes it)", err)
	}
	if !bytes.Equal(a.Bytes(), want) {
		t.Errorf("%s is stale: run go run ./examples/gen (or go test ./examples/gen -update)", committed)
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
