// Command gen writes the example captures (first parties use reserved
// example domains; trackers use their real host names), as Chrome would
// send them:
//
//   - examples/news-site.har: one made-up visit to a news article on
//     https://www.dailyplanet.example/ with the Meta pixel, a Facebook
//     Like button and Google Analytics 4;
//   - examples/news-site-rejected.har: the same visit after "Reject all"
//     on the site's consent banner (RejectedExchanges), to try
//     trackaudit diff on;
//   - examples/shop-checkout.har: the confirmation page of an appointment
//     checkout on https://shop.example-store.example/ whose tags (GA4,
//     TikTok, Snap, Pinterest, Reddit, X, Meta, Clarity, Segment,
//     Mixpanel and others) send the shopper's e-mail in every channel and
//     encoding trackaudit's --pii search knows (see shop.go).
//
// The output is deterministic; run it from the repository root:
//
//	go run ./examples/gen              # rewrites both files in examples/
//	go run ./examples/gen -dir out     # writes them into out/
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/traffic"
)

// The visit's facts, shared with the tests that check the example.
const (
	ArticleURL = "https://www.dailyplanet.example/politics/2026/11/senator-health-scandal?utm_source=newsletter&email=jane.doe%40example.com"
	Origin     = "https://www.dailyplanet.example/"
	Title      = "Senator hid health scandal, records show – The Daily Planet"
	PixelID    = "123456789012345"
	FBP        = "fb.1.1732800000000.1234567890"
	// RejectedFBP is the browser id the pixel made on the visit after
	// "Reject all", when no _fbp cookie was kept.
	RejectedFBP = "fb.1.1732800605000.2468013579"
	GA          = "GA1.1.987654321.1732800000"
	GAClientID  = "987654321.1732800000" // _ga without its "GA1.1." prefix
	MeasureID   = "G-DP4PLN3T26"
	Email       = "jane.doe@example.com"
	WebmailURL  = "https://mail.example/"
	// Logged-in Facebook cookies (made-up values of the real names).
	FBCookies = "c_user=100012345678901; xs=31%3AqW3rTy7UiOpAsD%3A2%3A1732800000%3A-1%3A11002; datr=Zk9HZ3xYqW1aBcDeFgHiJkLm; fr=1AbCdEfGhIjKlMnOp.AWXyZ0123456789.BnSFAA..AAA.0.0.BnSFAA.AWVuVwXyZ12"
	PageRef   = "page_1"
)

// visitStart is when the article was requested, just after the _fbp and
// _ga cookies' creation time (1732800000, in their values);
// rejectedStart when it was read again, after "Reject all", the moment
// RejectedFBP was made.
var (
	visitStart    = time.Date(2024, 11, 28, 13, 20, 5, 0, time.UTC)
	rejectedStart = time.Date(2024, 11, 28, 13, 30, 5, 0, time.UTC)
)

// sha256hex is how the Meta pixel hashes advanced-matching fields.
func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// transparent 1×1 GIF, the body of facebook.com/tr answers.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// chrome returns the headers Chrome 131 on Windows sends with every
// request, plus the Sec-Fetch trio and the given extra pairs.
func chrome(dest, mode, site string, extra ...string) http.Header {
	h := http.Header{}
	h.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	h.Set("Sec-Ch-Ua", `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`)
	h.Set("Sec-Ch-Ua-Mobile", "?0")
	h.Set("Sec-Ch-Ua-Platform", `"Windows"`)
	h.Set("Accept-Language", "en-US,en;q=0.9")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Sec-Fetch-Dest", dest)
	h.Set("Sec-Fetch-Mode", mode)
	h.Set("Sec-Fetch-Site", site)
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return h
}

// Exchanges builds the visit, in request order.
func Exchanges() []*traffic.Exchange { return visit(false) }

// RejectedExchanges builds the same visit after the reader chose "Reject
// all" on the site's consent banner: Google Analytics no longer loads and
// no first-party tracking cookie is kept, but the site still fires the
// Meta pixel's PageView (with a fresh browser id) and embeds the Like
// button, and Facebook's own cookies still travel with both.
func RejectedExchanges() []*traffic.Exchange { return visit(true) }

func visit(rejected bool) []*traffic.Exchange {
	start, source := visitStart, "news-site.har"
	firstPartyCookies := "_fbp=" + FBP + "; _ga=" + GA + "; _ga_DP4PLN3T26=GS1.1.1732800000.1.1.1732800005.0.0.0; consent=analytics%3Dyes%2Cads%3Dyes"
	fbp := FBP
	if rejected {
		start, source = rejectedStart, "news-site-rejected.har"
		firstPartyCookies = "consent=analytics%3Dno%2Cads%3Dno"
		fbp = RejectedFBP
	}
	// pixel builds a facebook.com/tr GET: ts is the event time in ms, ec
	// the event count so far on the page.
	pixel := func(ev, ts, ec string, extra ...string) string {
		q := []string{
			"id", PixelID, "ev", ev,
			"dl", ArticleURL, "rl", WebmailURL, "if", "false", "ts", ts,
		}
		q = append(q, extra...)
		q = append(q,
			"sw", "1920", "sh", "1080", "v", "2.9.177", "r", "stable", "ec", ec,
			"o", "4126", "fbp", fbp,
			"ud[em]", sha256hex(Email), "ud[ph]", sha256hex(""),
			"cs_est", "true", "it", "1732800005981", "coo", "false", "rqm", "GET",
		)
		return "https://www.facebook.com/tr/?" + encode(q)
	}
	likeURL := "https://www.facebook.com/plugins/like.php?" + encode([]string{
		"href", ArticleURL, "layout", "button_count", "action", "like", "size", "small", "share", "true",
		"width", "150", "height", "20", "appId", "", "locale", "en_US", "sdk", "joey",
		"channel", "https://staticxx.facebook.com/x/connect/xd_arbiter/?version=46#cb=f1e2d3c4&domain=www.dailyplanet.example&is_canvas=false&origin=https%3A%2F%2Fwww.dailyplanet.example%2Ff3a4b5c6&relation=parent.parent",
		"container_width", "680",
	})
	collectURL := "https://region1.google-analytics.com/g/collect?" + encode([]string{
		"v", "2", "tid", MeasureID, "gtm", "45je4bk0v9179850866za200", "_p", "1732800005543",
		"gcd", "13l3l3l3l1l1", "npa", "0", "dma", "0", "cid", GAClientID, "ul", "en-us", "sr", "1920x1080",
		"uaa", "x86", "uab", "64", "uafvl", "Google Chrome;131.0.6778.86", "uamb", "0", "uap", "Windows", "uapv", "15.0.0", "uaw", "0",
		"are", "1", "frm", "0", "pscdl", "noapi", "_eu", "AAAI", "_s", "1",
		"sid", "1732800000", "sct", "1", "seg", "1",
		"dl", ArticleURL, "dr", WebmailURL, "dt", Title, "tfd", "1870",
	})
	collectBody := "en=page_view&_fv=1&_nsi=1&_ss=1&_ee=1&tfd=1872\r\nen=scroll&epn.percent_scrolled=90&_et=5230&tfd=7110"

	var exs []*traffic.Exchange
	at := start
	add := func(method, rawURL string, h http.Header, body []byte, status int, ctype string, respBody []byte) {
		u, err := url.Parse(rawURL)
		if err != nil {
			panic(fmt.Sprintf("examples/gen: bad URL %q: %v", rawURL, err)) // a bug in this program, not input
		}
		ex := &traffic.Exchange{
			ID: int64(len(exs) + 1), Source: source, Start: at, PageRef: PageRef, PageTitle: Title,
			Request: traffic.Request{Method: method, URL: u, Proto: "HTTP/2.0", Header: h, Body: body},
		}
		if status != 0 {
			rh := http.Header{}
			if ctype != "" {
				rh.Set("Content-Type", ctype)
			}
			ex.Response = &traffic.Response{Status: status, Proto: "HTTP/2.0", Header: rh, Body: respBody}
		}
		exs = append(exs, ex)
		at = at.Add(137 * time.Millisecond)
	}

	// 1. The article, opened from a newsletter link in webmail.
	add("GET", ArticleURL, chrome("document", "navigate", "cross-site",
		"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
		"Upgrade-Insecure-Requests", "1", "Sec-Fetch-User", "?1",
		"Referer", WebmailURL, "Cookie", firstPartyCookies),
		nil, 200, "text/html; charset=utf-8",
		[]byte("<!doctype html><html lang=\"en\"><head><title>"+Title+"</title>"+
			"<link rel=\"stylesheet\" href=\"/static/css/site.css\">"+
			"<script async src=\"https://connect.facebook.net/en_US/fbevents.js\"></script>"+
			"<script async src=\"https://www.googletagmanager.com/gtag/js?id="+MeasureID+"\"></script></head>"+
			"<body><h1>Senator hid health scandal, records show</h1><img src=\"/images/2026/11/senator.jpg\" alt=\"\">"+
			"<div class=\"fb-like\" data-href=\"\" data-layout=\"button_count\"></div></body></html>\n"))
	// 2. First-party CSS and image: same-origin, so the full URL as Referer.
	add("GET", "https://www.dailyplanet.example/static/css/site.css", chrome("style", "no-cors", "same-origin",
		"Accept", "text/css,*/*;q=0.1", "Referer", ArticleURL, "Cookie", firstPartyCookies),
		nil, 200, "text/css; charset=utf-8", []byte("body{font-family:Georgia,serif;margin:0 auto;max-width:42em}\n"))
	add("GET", "https://www.dailyplanet.example/images/2026/11/senator.jpg", chrome("image", "no-cors", "same-origin",
		"Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "Referer", ArticleURL, "Cookie", firstPartyCookies),
		nil, 200, "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"))
	// 3. Meta pixel loader and its per-pixel configuration: cross-site, so
	// the Referer is the origin only (strict-origin-when-cross-origin).
	add("GET", "https://connect.facebook.net/en_US/fbevents.js", chrome("script", "no-cors", "cross-site",
		"Accept", "*/*", "Referer", Origin),
		nil, 200, "application/x-javascript; charset=utf-8", []byte("/* fbevents.js stand-in for trackaudit's example */\n"))
	if !rejected {
		add("GET", "https://www.googletagmanager.com/gtag/js?id="+MeasureID, chrome("script", "no-cors", "cross-site",
			"Accept", "*/*", "Referer", Origin),
			nil, 200, "application/javascript; charset=UTF-8", []byte("/* gtag.js stand-in for trackaudit's example */\n"))
	}
	add("GET", "https://connect.facebook.net/signals/config/"+PixelID+"?v=2.9.177&r=stable&domain=www.dailyplanet.example",
		chrome("script", "no-cors", "cross-site", "Accept", "*/*", "Referer", Origin),
		nil, 200, "application/x-javascript; charset=utf-8", []byte("/* signals config stand-in */\n"))
	// 4. Pixel PageView: Facebook's own cookies travel with it.
	add("GET", pixel("PageView", "1732800006120", "0"), chrome("image", "no-cors", "cross-site",
		"Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "Referer", Origin, "Cookie", FBCookies),
		nil, 200, "image/gif", gif)
	// 5. The Like button iframe and a request made from inside it.
	add("GET", likeURL, chrome("iframe", "navigate", "cross-site",
		"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
		"Upgrade-Insecure-Requests", "1", "Referer", Origin, "Cookie", FBCookies),
		nil, 200, "text/html; charset=\"utf-8\"", []byte("<!DOCTYPE html><html><body><button>Like</button> <span>Share</span></body></html>\n"))
	add("GET", "https://static.xx.fbcdn.net/rsrc.php/v3/yH/r/Wv9fWyx3bFx.css", chrome("style", "no-cors", "cross-site",
		"Accept", "text/css,*/*;q=0.1", "Referer", "https://www.facebook.com/"),
		nil, 200, "text/css; charset=utf-8", []byte("._4s7c{display:inline-block}\n"))
	if rejected {
		return exs
	}
	// 6. GA4: shared parameters in the query, a batch of two events in the
	// body (page_view and a 90% scroll), sent with sendBeacon.
	add("POST", collectURL, chrome("empty", "no-cors", "cross-site",
		"Accept", "*/*", "Content-Type", "text/plain;charset=UTF-8", "Origin", strings.TrimSuffix(Origin, "/"), "Referer", Origin),
		[]byte(collectBody), 204, "text/plain", nil)
	// 7. Pixel ViewContent with custom data.
	add("GET", pixel("ViewContent", "1732800006845", "1",
		"cd[content_name]", "Senator hid health scandal, records show",
		"cd[content_category]", "Politics", "cd[value]", "0.00", "cd[currency]", "USD"),
		chrome("image", "no-cors", "cross-site",
			"Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "Referer", Origin, "Cookie", FBCookies),
		nil, 200, "image/gif", gif)
	return exs
}

// encode builds a query string from name, value pairs in the given order
// (url.Values would sort them; pixels send them in a fixed order).
func encode(pairs []string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

// Write writes the example HAR to w, secrets included (they are made up).
func Write(w io.Writer) error { return writeVisit(w, Exchanges()) }

// WriteRejected writes the visit after "Reject all" as HAR.
func WriteRejected(w io.Writer) error { return writeVisit(w, RejectedExchanges()) }

func writeVisit(w io.Writer, exs []*traffic.Exchange) error {
	return capture.WriteHAR(w, slices.Values(exs), capture.HARWriteOptions{
		ShowSecrets: true, Creator: "trackaudit examples/gen", CreatorVersion: "1",
		Pages: []capture.HARPage{{ID: PageRef, Title: Title, Start: exs[0].Start}},
	})
}

// outputs are the files gen writes, by name, with their writers.
var outputs = []struct {
	name  string
	write func(io.Writer) error
}{
	{"news-site.har", Write},
	{"news-site-rejected.har", WriteRejected},
	{"shop-checkout.har", WriteShop},
}

func main() {
	dir := flag.String("dir", "examples", "output directory")
	flag.Parse()
	for _, o := range outputs {
		if err := writeFile(filepath.Join(*dir, o.name), o.write); err != nil {
			fmt.Fprintf(os.Stderr, "gen: %v\n", err)
			os.Exit(1)
		}
	}
}

// writeFile creates name and fills it with write.
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}
