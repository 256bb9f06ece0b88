package traffic

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// req describes one exchange of an attribution sequence.
type req struct {
	client, url, pageref, title string
	hdr                         []string // name, value pairs
	status                      int      // 0: no response
	ctype, location             string
	method                      string
}

func (r req) exchange(t *testing.T, id int) *Exchange {
	t.Helper()
	u, err := url.Parse(r.url)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for i := 0; i+1 < len(r.hdr); i += 2 {
		h.Add(r.hdr[i], r.hdr[i+1])
	}
	m := r.method
	if m == "" {
		m = http.MethodGet
	}
	ex := &Exchange{ID: int64(id), Source: "t.har", Client: r.client, PageRef: r.pageref, PageTitle: r.title,
		Request: Request{Method: m, URL: u, Header: h}}
	if r.status != 0 {
		rh := http.Header{}
		if r.ctype != "" {
			rh.Set("Content-Type", r.ctype)
		}
		if r.location != "" {
			rh.Set("Location", r.location)
		}
		ex.Response = &Response{Status: r.status, Header: rh}
	}
	return ex
}

// pageBy is "page URL by" for ex's page, "" for none.
func pageBy(ex *Exchange) string {
	if ex.Page == nil {
		return ""
	}
	return ex.Page.URL + " " + ex.Page.By
}

// Chrome-like header sets.
var (
	navigate = []string{"Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "none"}
	iframe   = []string{"Sec-Fetch-Dest", "iframe", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "cross-site"}
)

func sub(dest, referer string) []string {
	return []string{"Sec-Fetch-Dest", dest, "Sec-Fetch-Mode", "no-cors", "Referer", referer}
}

// The pages and the Like button of the attribution tests.
const (
	news    = "https://www.dailyplanet.example/politics/story?id=7"
	newsO   = "https://www.dailyplanet.example/"
	shop    = "https://shop.example/cart"
	likeURL = "https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fwww.dailyplanet.example%2F"
)

func TestAttribute(t *testing.T) {
	const (
		news2 = "https://www.dailyplanet.example/politics/story?id=8"
		shopO = "https://shop.example/"
	)
	tests := []struct {
		name string
		seq  []req
		// want is "page URL by" for each exchange, "" for no page.
		want []string
	}{
		{
			name: "document then full and origin Referers",
			seq: []req{
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				{url: "https://www.dailyplanet.example/style.css", hdr: sub("style", news)},
				{url: "https://connect.facebook.net/en_US/fbevents.js", hdr: sub("script", newsO)},
				{url: "https://cdn.example/font.woff2", hdr: sub("font", "https://www.dailyplanet.example/style.css")},
				{url: "https://beacon.example/b", hdr: []string{"Sec-Fetch-Dest", "empty"}},
			},
			want: []string{news + " document", news + " referer", news + " referer", news + " referer", news + " recent"},
		},
		{
			name: "origin-only Referer from two tabs of different sites",
			seq: []req{
				{url: news, hdr: navigate, status: 200},
				{url: shop, hdr: navigate, status: 200},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView", hdr: sub("image", newsO)},
				{url: "https://www.facebook.com/tr?id=2&ev=AddToCart", hdr: sub("image", shopO)},
				{url: "https://region1.google-analytics.com/g/collect", hdr: sub("empty", "https://unknown.example/")},
			},
			want: []string{news + " document", shop + " document", news + " referer", shop + " referer", shop + " recent"},
		},
		{
			name: "iframe chain to the embedding page",
			seq: []req{
				{url: news, hdr: navigate, status: 200},
				{url: likeURL, hdr: append(iframe[:len(iframe):len(iframe)], "Referer", newsO), status: 200, ctype: "text/html"},
				{url: "https://static.xx.fbcdn.net/rsrc.php/v3/like.css", hdr: sub("style", "https://www.facebook.com/")},
				{url: "https://www.facebook.com/plugins/inner.php", hdr: append(iframe[:len(iframe):len(iframe)], "Referer", likeURL)},
				{url: "https://static.xx.fbcdn.net/inner.js", hdr: sub("script", "https://www.facebook.com/plugins/inner.php")},
				{url: shop, hdr: navigate, status: 200},
				{url: "https://static.xx.fbcdn.net/again.css", hdr: sub("style", "https://www.facebook.com/")},
			},
			want: []string{news + " document", news + " referer", news + " initiator", news + " initiator", news + " initiator",
				shop + " document", news + " initiator"},
		},
		{
			name: "two pages of one site: the page URL a tracker carries tells them apart",
			seq: []req{
				{url: news, hdr: navigate, status: 200},
				{url: news2, hdr: navigate, status: 200},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView&dl=" + url.QueryEscape(news+"#comments"), hdr: sub("image", newsO)},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView&dl=" + url.QueryEscape(news2) + "&rl=" + url.QueryEscape(news), hdr: sub("image", newsO)},
				{url: "https://www.facebook.com/plugins/like.php?href=" + url.QueryEscape(news), hdr: append(iframe[:len(iframe):len(iframe)], "Referer", newsO)},
				{url: "https://static.xx.fbcdn.net/like.css", hdr: sub("style", "https://www.facebook.com/")},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView&dl=" + url.QueryEscape(shop), hdr: sub("image", newsO)},
				{url: "https://region1.google-analytics.com/g/collect?v=2&en=page_view", hdr: sub("empty", newsO)},
			},
			// A Like button's href= names the page to like, which may be
			// another one: it does not name the page it is on.
			want: []string{news + " document", news2 + " document", news + " page-url", news2 + " page-url",
				news2 + " referer", news2 + " initiator", news2 + " referer", news2 + " referer"},
		},
		{
			name: "without a Referer the page URL a tracker carries names its page",
			seq: []req{
				{url: news, hdr: navigate, status: 200},
				{url: shop, hdr: navigate, status: 200},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView&dl=" + url.QueryEscape(news), hdr: []string{"Sec-Fetch-Dest", "image"}},
				{url: "https://beacon.example/b", hdr: []string{"Sec-Fetch-Dest", "empty"}},
			},
			want: []string{news + " document", shop + " document", news + " page-url", shop + " recent"},
		},
		{
			name: "a prefetch is the page only once a request names it",
			seq: []req{
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				// the prefetch is a request of the page whose rules asked for it
				{url: news2, hdr: append(navigate[:len(navigate):len(navigate)], "Sec-Purpose", "prefetch", "Referer", news), status: 200, ctype: "text/html"},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView", hdr: sub("image", newsO)},
				{url: "https://beacon.example/b", hdr: []string{"Sec-Fetch-Dest", "empty"}},
				// the browser shows the prefetched page: its subresources name it
				{url: "https://www.dailyplanet.example/app.js", hdr: sub("script", news2)},
				{url: "https://www.facebook.com/tr?id=1&ev=ViewContent", hdr: sub("image", newsO)},
				{url: "https://beacon.example/b", hdr: []string{"Sec-Fetch-Dest", "empty"}},
			},
			want: []string{news + " document", news + " referer", news + " referer", news + " recent",
				news2 + " referer", news2 + " referer", news2 + " recent"},
		},
		{
			name: "a prerender is a page",
			seq: []req{
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				{url: news2, hdr: append(navigate[:len(navigate):len(navigate)], "Sec-Purpose", "prefetch;prerender"), status: 200, ctype: "text/html"},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView", hdr: sub("image", newsO)},
			},
			want: []string{news + " document", news2 + " document", news2 + " referer"},
		},
		{
			name: "document redirect carries the page",
			seq: []req{
				{url: "http://dailyplanet.example/politics/story?id=7", hdr: navigate, status: 301, location: news},
				{url: news, hdr: []string{"Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, status: 200, ctype: "text/html"},
				{url: "https://www.dailyplanet.example/app.js", hdr: sub("script", news)},
			},
			want: []string{"http://dailyplanet.example/politics/story?id=7 document", news + " document", news + " referer"},
		},
		{
			name: "redirect without Sec-Fetch headers (HAR pageref)",
			seq: []req{
				{url: "http://dailyplanet.example/", pageref: "page_1", status: 302, location: "/home"},
				{url: "http://dailyplanet.example/home", pageref: "page_1", status: 200, ctype: "text/html"},
				{url: "http://dailyplanet.example/a.png", pageref: "page_1", status: 200, ctype: "image/png"},
			},
			want: []string{"http://dailyplanet.example/ document", "http://dailyplanet.example/home document", "http://dailyplanet.example/home pageref"},
		},
		{
			name: "pageref without Sec-Fetch: first HTML GET is the page, later HTML is a frame",
			seq: []req{
				{url: news, pageref: "page_1", status: 200, ctype: "text/html; charset=utf-8"},
				{url: likeURL, pageref: "page_1", status: 200, ctype: "text/html"},
				{url: "https://static.xx.fbcdn.net/x.css", hdr: []string{"Referer", likeURL}},
				{url: "https://www.dailyplanet.example/i.png", pageref: "page_1", status: 200, ctype: "image/png"},
			},
			want: []string{news + " document", news + " pageref", news + " initiator", news + " pageref"},
		},
		{
			name: "pageref whose document was not captured uses a URL title",
			seq: []req{
				{url: "https://cdn.example/a.js", pageref: "page_3", title: shop},
				{url: "https://cdn.example/b.js", pageref: "page_4", title: "My Shop"},
			},
			want: []string{shop + " pageref", shop + " recent"},
		},
		{
			name: "clients keep their own current page",
			seq: []req{
				{client: "10.0.0.1", url: news, hdr: navigate, status: 200},
				{client: "10.0.0.2", url: shop, hdr: navigate, status: 200},
				{client: "10.0.0.1", url: "https://x.example/p.gif", hdr: []string{"Sec-Fetch-Dest", "image"}},
				{client: "10.0.0.3", url: "https://x.example/p.gif", hdr: []string{"Sec-Fetch-Dest", "image"}},
			},
			want: []string{news + " document", shop + " document", news + " recent", ""},
		},
		{
			name: "no Sec-Fetch, no pageref: HTML GET is a document, POST form too",
			seq: []req{
				{url: news, status: 200, ctype: "text/html"},
				{url: "https://www.dailyplanet.example/api", status: 200, ctype: "application/json"},
			},
			want: []string{news + " document", news + " recent"},
		},
		{
			name: "no Sec-Fetch: an HTML answer to what asked for an image is no document",
			seq: []req{
				{url: news, hdr: []string{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}, status: 200, ctype: "text/html"},
				{url: "https://www.dailyplanet.example/favicon.ico", hdr: []string{"Accept", "image/avif,image/webp,*/*;q=0.8", "Referer", news}, status: 404, ctype: "text/html"},
				{url: shop, hdr: []string{"Accept", "*/*"}, status: 200, ctype: "text/html"},
			},
			want: []string{news + " document", news + " referer", shop + " document"},
		},
		{
			name: "no page seen yet: the Referer names it, origin or full URL",
			seq: []req{
				{client: "10.0.0.1", url: "https://www.facebook.com/tr?id=1&ev=Purchase", hdr: sub("image", shopO)},
				{client: "10.0.0.1", url: "https://x.example/p.gif", hdr: []string{"Sec-Fetch-Dest", "image"}},
				{client: "10.0.0.1", url: "https://y.example/p.gif", hdr: sub("image", "https://other.example/")},
				{client: "10.0.0.2", url: "http://ads.example/p.gif", hdr: []string{"Referer", news + "#c1"}},
				{client: "10.0.0.3", url: "https://x.example/p.gif", hdr: []string{"Referer", "android-app://com.example/"}},
			},
			want: []string{shopO + " referer", shopO + " recent", shopO + " recent", news + " referer", ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAttributor()
			for i, r := range tc.seq {
				ex := r.exchange(t, i+1)
				a.Attribute(ex)
				if got := pageBy(ex); got != tc.want[i] {
					t.Errorf("exchange %d (%s): page = %q, want %q", i+1, r.url, got, tc.want[i])
				}
			}
		})
	}
}

// TestAttributeBegin plays a live source's order of events: Begin when a
// request starts, Attribute when its response ends. A page still arriving
// when its trackers are done must still be theirs.
func TestAttributeBegin(t *testing.T) {
	like := append(iframe[:len(iframe):len(iframe)], "Referer", newsO)
	type step struct {
		begin bool
		r     int // index in seq
	}
	tests := []struct {
		name  string
		seq   []req
		steps []step
		// want is "page URL by" after each step, "" for no page.
		want []string
	}{
		{
			name: "trackers end before their page",
			seq: []req{
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				{url: "https://connect.facebook.net/en_US/fbevents.js", hdr: sub("script", newsO), status: 200},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView", hdr: sub("image", newsO), status: 200},
			},
			steps: []step{{true, 0}, {false, 1}, {false, 2}, {false, 0}},
			want:  []string{news + " document", news + " referer", news + " referer", news + " document"},
		},
		{
			name: "a newer navigation stays the client's page",
			seq: []req{
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				{url: shop, hdr: navigate, status: 200, ctype: "text/html"},
				{url: "https://beacon.example/b", hdr: []string{"Sec-Fetch-Dest", "empty"}, status: 204},
			},
			steps: []step{{true, 0}, {true, 1}, {false, 0}, {false, 2}, {false, 1}},
			want:  []string{news + " document", shop + " document", news + " document", shop + " recent", shop + " document"},
		},
		{
			name: "a frame and its requests before the page ends",
			seq: []req{
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				{url: likeURL, hdr: like, status: 200, ctype: "text/html"},
				{url: "https://static.xx.fbcdn.net/rsrc.php/v3/like.css", hdr: sub("style", "https://www.facebook.com/"), status: 200},
			},
			steps: []step{{true, 0}, {true, 1}, {false, 2}, {false, 1}, {false, 0}},
			want:  []string{news + " document", news + " referer", news + " initiator", news + " referer", news + " document"},
		},
		{
			name: "a redirected navigation",
			seq: []req{
				{url: "http://dailyplanet.example/politics/story?id=7", hdr: navigate, status: 301, location: news},
				{url: news, hdr: navigate, status: 200, ctype: "text/html"},
				{url: "https://www.dailyplanet.example/app.js", hdr: sub("script", news), status: 200},
			},
			steps: []step{{true, 0}, {false, 0}, {true, 1}, {false, 2}, {false, 1}},
			want: []string{"http://dailyplanet.example/politics/story?id=7 document", "http://dailyplanet.example/politics/story?id=7 document",
				news + " document", news + " referer", news + " document"},
		},
		{
			name: "without Sec-Fetch headers Begin leaves the request to Attribute",
			seq: []req{
				{url: news, status: 200, ctype: "text/html"},
				{url: "https://www.facebook.com/tr?id=1&ev=PageView", hdr: []string{"Referer", news}, status: 200},
			},
			steps: []step{{true, 0}, {false, 0}, {true, 1}, {false, 1}},
			want:  []string{"", news + " document", "", news + " referer"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAttributor()
			for i, st := range tc.steps {
				r := tc.seq[st.r]
				ex := r.exchange(t, st.r+1)
				if st.begin {
					ex.Response = nil // only the request has come
					a.Begin(ex)
				} else {
					a.Attribute(ex)
				}
				if got := pageBy(ex); got != tc.want[i] {
					t.Errorf("step %d (begin %v, %s): page = %q, want %q", i+1, st.begin, r.url, got, tc.want[i])
				}
			}
			if n := a.begun.len(); n != 0 {
				t.Errorf("%d navigations still held after their end", n)
			}
		})
	}
}

// TestAttributeBeginTitle checks that a page Begin made gets its title
// when its document ends, for the requests after, also when the document
// was prefetched.
func TestAttributeBeginTitle(t *testing.T) {
	a := NewAttributor()
	doc := req{url: "https://news.example/a", hdr: navigate, status: 200, ctype: "text/html"}.exchange(t, 1)
	early := *doc
	early.Response = nil
	a.Begin(&early)
	doc.Response.Body = []byte("<!doctype html><title>Senator scandal</title><p>…")
	a.Attribute(doc)
	after := req{url: "https://www.facebook.com/tr", hdr: sub("image", "https://news.example/")}.exchange(t, 2)
	a.Attribute(after)
	for _, ex := range []*Exchange{doc, after} {
		if ex.Page == nil || ex.Page.Title != "Senator scandal" || ex.Page.URL != "https://news.example/a" {
			t.Errorf("%s: page = %+v, want https://news.example/a titled from the document", ex.Request.URL, ex.Page)
		}
	}

	// A prefetch is a request of the page that asked for it; its own page
	// gets its title, and is the page once shown.
	pre := req{url: "https://news.example/b", hdr: append(navigate[:len(navigate):len(navigate)], "Sec-Purpose", "prefetch", "Referer", "https://news.example/a"),
		status: 200, ctype: "text/html"}.exchange(t, 3)
	early = *pre
	early.Response = nil
	a.Begin(&early)
	pre.Response.Body = []byte("<title>Second story</title>")
	a.Attribute(pre)
	shown := req{url: "https://news.example/app.js", hdr: sub("script", "https://news.example/b")}.exchange(t, 4)
	a.Attribute(shown)
	if pre.Page == nil || pre.Page.URL != "https://news.example/a" {
		t.Errorf("prefetch: page = %+v, want https://news.example/a, the page that asked for it", pre.Page)
	}
	if shown.Page == nil || shown.Page.URL != "https://news.example/b" || shown.Page.Title != "Second story" {
		t.Errorf("after the prefetched page is shown: page = %+v, want https://news.example/b titled from its prefetch", shown.Page)
	}
}

func TestAttributeKeepsSourcePage(t *testing.T) {
	a := NewAttributor()
	p := &Page{URL: "https://given.example/", By: "document"}
	ex := req{url: "https://www.dailyplanet.example/", hdr: navigate, status: 200}.exchange(t, 1)
	ex.Page = p
	a.Attribute(ex)
	if ex.Page != p {
		t.Errorf("page = %+v, want the source's page kept", ex.Page)
	}
	a.Attribute(&Exchange{}) // no URL: no panic, nothing to do
	a.Attribute(nil)         // nil: no panic
	host := &Exchange{HostOnly: true, Request: Request{URL: &url.URL{Scheme: "https", Host: "x.example"}}}
	a.Attribute(host)
	if host.Page != nil {
		t.Errorf("host-only contact got page %+v, want none (no content to tell by)", host.Page)
	}
}

func TestAttributeTitleAndSite(t *testing.T) {
	a := NewAttributor()
	ex := req{url: "https://www.dailyplanet.example/a", pageref: "p1", title: "Senator scandal", status: 200, ctype: "text/html"}.exchange(t, 1)
	a.Attribute(ex)
	if ex.Page == nil || ex.Page.Title != "Senator scandal" || ex.Page.Site != "dailyplanet.example" {
		t.Errorf("page = %+v, want title from PageTitle and site dailyplanet.example", ex.Page)
	}
	sub := req{url: "https://www.facebook.com/tr", pageref: "p1"}.exchange(t, 2)
	a.Attribute(sub)
	if !sub.ThirdParty() {
		t.Errorf("facebook.com request on %+v: ThirdParty false, want true", sub.Page)
	}
}

// BenchmarkAttribute measures attribution over a long single-client
// browsing sequence with origin-only Referers.
func BenchmarkAttribute(b *testing.B) {
	var exs []*Exchange
	for p := range 50 {
		page := fmt.Sprintf("https://site%d.example/article", p)
		u, _ := url.Parse(page)
		exs = append(exs, &Exchange{Request: Request{Method: "GET", URL: u, Header: http.Header{"Sec-Fetch-Dest": {"document"}}}})
		for i := range 40 {
			su, _ := url.Parse(fmt.Sprintf("https://tracker%d.example/p?i=%d", i%5, i))
			exs = append(exs, &Exchange{Request: Request{Method: "GET", URL: su, Header: http.Header{
				"Sec-Fetch-Dest": {"image"}, "Referer": {fmt.Sprintf("https://site%d.example/", p)}}}})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		a := NewAttributor()
		for _, ex := range exs {
			ex.Page = nil
			a.Attribute(ex)
		}
	}
}

func TestBounded(t *testing.T) {
	m := newBounded[int](3)
	for i := range 3 {
		m.put(fmt.Sprint(i), i)
	}
	m.put("3", 3) // rotates: 0,1,2 become the old generation
	if v, ok := m.get("0"); !ok || v != 0 {
		t.Fatalf("get(0) = %d, %v after one rotation; want 0, true", v, ok)
	}
	// "0" was promoted; two more rotations drop 1 and 2 but keep 0's copy
	// until it ages out too.
	m.put("4", 4)
	m.put("5", 5) // cur {3,0,4} full: rotate, cur {5}
	if _, ok := m.get("1"); ok {
		t.Errorf("get(1) found an entry two generations old")
	}
	if v, ok := m.get("0"); !ok || v != 0 {
		t.Errorf("get(0) = %d, %v; want the promoted entry", v, ok)
	}
	m.del("0")
	if _, ok := m.get("0"); ok {
		t.Errorf("get(0) found a deleted entry")
	}
	if n := m.len(); n > 2*3 {
		t.Errorf("len = %d, want at most %d", n, 2*3)
	}
}

// TestAttributeBounded feeds more distinct pages and clients than the
// Attributor remembers: its maps stay within their bounds and a page seen
// recently is still found by its Referer.
func TestAttributeBounded(t *testing.T) {
	a := NewAttributor()
	n := 3*maxPages + 7
	for i := range n {
		client := fmt.Sprintf("10.0.%d.%d", i/250%250, i%250)
		page := fmt.Sprintf("https://shop%d.example/p/%d", i%97, i)
		doc := req{client: client, url: page, hdr: []string{"Sec-Fetch-Dest", "document"}}.exchange(t, 2*i+1)
		a.Attribute(doc)
		px := req{client: client, url: "https://www.facebook.com/tr/?id=1", hdr: []string{"Sec-Fetch-Dest", "image", "Referer", page}}.exchange(t, 2*i+2)
		a.Attribute(px)
		if px.Page == nil || px.Page.URL != page || px.Page.By != "referer" {
			t.Fatalf("request %d: page = %+v, want %s by referer", i, px.Page, page)
		}
	}
	for name, got := range map[string]int{"pages": a.pages.len(), "refs": a.refs.len(), "frames": a.frames.len(), "redirects": a.redirects.len()} {
		if got > 2*maxPages {
			t.Errorf("%s holds %d entries after %d pages; want at most %d", name, got, n, 2*maxPages)
		}
	}
	for name, got := range map[string]int{"last": a.last.len(), "recent": a.recent.len()} {
		if got > 2*maxClients {
			t.Errorf("%s holds %d clients; want at most %d", name, got, 2*maxClients)
		}
	}
	if a.pages.len() < maxPages {
		t.Errorf("pages holds %d entries; want the last %d or more remembered", a.pages.len(), maxPages)
	}
}

// TestAttributeContacts checks host-only contacts (TLS SNI, DNS): a
// contact to a host that is no tracker after a quiet gap starts a visit of
// its site, and the contacts that follow within visitGap belong to it.
func TestAttributeContacts(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	trackers := map[string]bool{"connect.facebook.net": true, "www.google-analytics.com": true}
	type contact struct {
		client, host string
		at           time.Duration
	}
	tests := []struct {
		name      string
		isTracker bool // set IsTracker
		plainPage string
		seq       []contact
		want      []string // "page URL by", "" for none
	}{
		{
			name: "a visit and its trackers, then a new visit after a gap", isTracker: true,
			seq: []contact{
				{"10.0.0.1", "www.dailyplanet.example", 0},
				{"10.0.0.1", "connect.facebook.net", 300 * time.Millisecond},
				{"10.0.0.1", "cdn.example", 1500 * time.Millisecond},
				{"10.0.0.1", "www.google-analytics.com", 3 * time.Second},
				{"10.0.0.1", "shop.example", 10 * time.Second},
				{"10.0.0.1", "connect.facebook.net", 10*time.Second + 200*time.Millisecond},
				{"10.0.0.2", "connect.facebook.net", 10*time.Second + 300*time.Millisecond},
			},
			want: []string{
				"https://www.dailyplanet.example/ contact", "https://www.dailyplanet.example/ contact",
				"https://www.dailyplanet.example/ contact", "https://www.dailyplanet.example/ contact",
				"https://shop.example/ contact", "https://shop.example/ contact", "",
			},
		},
		{
			name: "a little out of time order stays in the visit", isTracker: true,
			seq: []contact{
				{"10.0.0.1", "news.example", time.Second},
				{"10.0.0.1", "connect.facebook.net", 900 * time.Millisecond},
			},
			want: []string{"https://news.example/ contact", "https://news.example/ contact"},
		},
		{
			name: "a tracker outside a visit gets the plaintext page", isTracker: true, plainPage: "http://old.example/a",
			seq:  []contact{{"10.0.0.1", "connect.facebook.net", 5 * time.Second}},
			want: []string{"http://old.example/a recent"},
		},
		{
			name: "a plaintext document starts a visit", isTracker: true, plainPage: "http://old.example/a",
			seq: []contact{
				{"10.0.0.1", "connect.facebook.net", 300 * time.Millisecond},
				{"10.0.0.1", "cdn.example", time.Second},
				{"10.0.0.1", "shop.example", 10 * time.Second},
			},
			want: []string{"http://old.example/a contact", "http://old.example/a contact", "https://shop.example/ contact"},
		},
		{
			name: "an Encrypted Client Hello front starts no visit", isTracker: true,
			seq: []contact{
				{"10.0.0.1", "news.example", 0},
				{"10.0.0.1", "ech:cloudflare-ech.com", 500 * time.Millisecond},
				{"10.0.0.1", "ech:cloudflare-ech.com", 20 * time.Second},
				{"10.0.0.1", "connect.facebook.net", 20*time.Second + 300*time.Millisecond},
			},
			want: []string{"https://news.example/ contact", "https://news.example/ contact", "", ""},
		},
		{
			name: "without IsTracker only the plaintext page", plainPage: "http://old.example/a",
			seq:  []contact{{"10.0.0.1", "news.example", 0}, {"10.0.0.1", "connect.facebook.net", time.Second}},
			want: []string{"http://old.example/a recent", "http://old.example/a recent"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAttributor()
			if tc.isTracker {
				a.IsTracker = func(ex *Exchange) bool { return trackers[ex.Host()] }
			}
			if tc.plainPage != "" {
				doc := req{client: "10.0.0.1", url: tc.plainPage, hdr: navigate, status: 200}.exchange(t, 0)
				doc.Start = t0
				a.Attribute(doc)
			}
			for i, c := range tc.seq {
				via, host := "dns", c.host
				if h, ok := strings.CutPrefix(c.host, "ech:"); ok { // a TLS contact to an ECH public name
					via, host = "tls-ech", h
				}
				ex := &Exchange{ID: int64(i + 1), Client: c.client, Start: t0.Add(c.at), HostOnly: true, Via: via,
					Request: Request{URL: &url.URL{Scheme: "https", Host: host, Path: "/"}}}
				a.Attribute(ex)
				if got := pageBy(ex); got != tc.want[i] {
					t.Errorf("contact %d (%s %s): page = %q, want %q", i+1, c.client, c.host, got, tc.want[i])
				}
			}
		})
	}
}
