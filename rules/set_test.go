package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
}

func TestDefaultValid(t *testing.T) {
	rs := Default().Rules()
	if len(rs) < 60 {
		t.Errorf("Default has %d rules, want at least 60", len(rs))
	}
	ids := map[string]bool{}
	companies := map[string]bool{}
	for _, r := range rs {
		if ids[r.ID] {
			t.Errorf("rule id %s is not unique", r.ID)
		}
		ids[r.ID] = true
		companies[r.Company] = true
		if r.Company == "" || r.Product == "" || r.Source == "" {
			t.Errorf("rule %s (line %d): company %q, product %q, source %q; all are required here", r.ID, r.Line, r.Company, r.Product, r.Source)
		}
		if !ValidCategory(r.Category) {
			t.Errorf("rule %s: invalid category %q", r.ID, r.Category)
		}
		if len(r.Hosts) == 0 {
			t.Errorf("rule %s has no hosts", r.ID)
		}
	}
	for _, c := range []string{"Meta", "Google", "TikTok", "LinkedIn", "X", "Pinterest", "Snap", "Reddit", "Microsoft",
		"Hotjar", "FullStory", "Yandex", "Criteo", "Taboola", "Outbrain", "Adobe", "Comscore", "Quantcast", "Chartbeat",
		"Segment", "Amplitude", "Mixpanel", "Disqus", "Oracle", "ShareThis", "INFOnline", "AddToAny"} {
		if !companies[c] {
			t.Errorf("no rule for company %s", c)
		}
	}
	if Default() != Default() {
		t.Error("Default() is not cached")
	}
}

// TestMatchDefault checks the curated rules against real-looking URLs;
// want "" means no rule may match.
func TestMatchDefault(t *testing.T) {
	tests := []struct{ url, want string }{
		// Meta
		{"https://connect.facebook.net/en_US/fbevents.js", "meta-pixel-loader"},
		{"https://connect.facebook.net/signals/config/123456789012345?v=2.9.274&r=stable&domain=shop.example", "meta-pixel-loader"},
		{"https://www.facebook.com/tr/?id=123456&ev=PageView&dl=https%3A%2F%2Fshop.example%2F", "meta-pixel-event"},
		{"https://www.facebook.com/tr?id=1&ev=Purchase&noscript=1", "meta-pixel-event"},
		{"https://pixel.facebook.com/", "meta-pixel-host"},
		{"https://pixel.facebook.com/tr?id=1", "meta-pixel-event"},
		{"https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fnews.example%2Fa&layout=button_count", "meta-like-button"},
		{"https://www.facebook.com/v2.5/plugins/like.php?href=x", "meta-like-button"},
		{"https://www.facebook.com/plugins/share_button.php?href=x", "meta-share-button"},
		{"https://www.facebook.com/plugins/page.php?href=x", "meta-page-plugin"},
		{"https://www.facebook.com/plugins/likebox.php?href=x", "meta-page-plugin"},
		{"https://www.facebook.com/plugins/comments.php?href=x", "meta-comments"},
		{"https://www.facebook.com/plugins/post.php?href=x", "meta-embedded-post"},
		{"https://www.facebook.com/plugins/video.php?href=x", "meta-embedded-video"},
		{"https://www.facebook.com/plugins/follow.php?href=x", "meta-social-plugin"},
		{"https://connect.facebook.net/de_DE/sdk.js#xfbml=1&version=v19.0", "meta-sdk"},
		{"https://www.facebook.com/", "meta-facebook"},
		{"https://www.facebook.com/track", "meta-facebook"},
		{"https://notfacebook.com/tr?id=1", ""},
		{"https://facebook.com.evil.example/tr", ""},
		{"https://www.instagram.com/p/Cx1/embed/captioned/", "meta-instagram-embed"},
		{"https://www.instagram.com/someone/", ""},
		// Google
		{"https://www.googletagmanager.com/gtm.js?id=GTM-ABC1234", "google-tag-manager"},
		{"https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234", "google-gtag"},
		{"https://www.googletagmanager.com/static/service_worker/x.js", "google-tag-manager-host"},
		{"https://www.google-analytics.com/g/collect?v=2&tid=G-ABC&en=page_view", "google-analytics-ga4"},
		{"https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC", "google-analytics-ga4"},
		{"https://region1.analytics.google.com/g/collect?v=2&tid=G-ABC", "google-analytics-ga4"},
		{"https://sgtm.shop.example/g/collect?v=2&tid=G-ABC&cid=1.2", "google-analytics-ga4-first-party"},
		{"https://shop.example/g/collect?foo=1", ""},
		{"https://stats.g.doubleclick.net/g/collect?v=2&tid=G-ABC", "google-analytics-signals"},
		{"https://stats.g.doubleclick.net/j/collect?v=1&tid=UA-1-1", "google-analytics-signals"},
		{"https://www.google-analytics.com/collect?v=1&t=pageview&tid=UA-1-1", "google-analytics-ua"},
		{"https://www.google-analytics.com/r/collect?v=1&_v=j47", "google-analytics-ua"},
		{"https://www.google-analytics.com/j/collect?v=1", "google-analytics-ua"},
		{"https://www.google-analytics.com/analytics.js", "google-analytics-js"},
		{"https://ssl.google-analytics.com/ga.js", "google-analytics-js"},
		{"https://www.google-analytics.com/something", "google-analytics-host"},
		{"https://www.googleadservices.com/pagead/conversion/123456789/?label=abc&value=1", "google-ads-conversion"},
		{"https://googleads.g.doubleclick.net/pagead/viewthroughconversion/123/?data=event%3Dpurchase", "google-ads-conversion"},
		{"https://www.google.com/pagead/1p-conversion/123/?random=1", "google-ads-conversion"},
		{"https://www.google.com/pagead/landing?x=1", "google-ads-pagead"},
		{"https://www.google.com/ads/ga-audiences?v=1", "google-ga-audiences"},
		{"https://www.google.com/search?q=shoes", ""},
		{"https://1234567.fls.doubleclick.net/activityi;src=1234567;type=sales;cat=buy;ord=1;~oref=https%3A%2F%2Fshop.example%2Fcart", "google-floodlight"},
		{"https://ad.doubleclick.net/activity;src=1;type=x", "google-floodlight"},
		{"https://123.fls.doubleclick.net/", "google-floodlight-host"},
		{"https://securepubads.g.doubleclick.net/gampad/ads?iu=/1/x", "google-doubleclick"},
		{"https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js", "google-adsense"},
		{"https://www.youtube.com/embed/dQw4w9WgXcQ", "google-youtube-embed"},
		{"https://www.youtube.com/watch?v=dQw4w9WgXcQ", ""},
		{"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "google-youtube-nocookie"},
		// TikTok, LinkedIn, X
		{"https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=ABC&lib=ttq", "tiktok-pixel"},
		{"https://analytics.tiktok.com/api/v2/pixel", "tiktok-pixel-event"},
		{"https://analytics.us.tiktok.com/api/v2/pixel/act", "tiktok-pixel-event"},
		{"https://www.tiktok.com/embed/v2/123", "tiktok-embed"},
		{"https://snap.licdn.com/li.lms-analytics/insight.min.js", "linkedin-insight-loader"},
		{"https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=1&url=x", "linkedin-insight"},
		{"https://www.linkedin.com/in/someone", ""},
		{"https://static.ads-twitter.com/uwt.js", "x-pixel"},
		{"https://t.co/1/i/adsct?txn_id=o1&p_id=Twitter", "x-pixel-event"},
		{"https://analytics.twitter.com/i/adsct?txn_id=o1", "x-pixel-event"},
		{"https://t.co/AbCdEf", ""},
		{"https://platform.twitter.com/widgets.js", "x-widgets"},
		{"https://platform.twitter.com/widgets/tweet_button.a58e82e150afc25eb5372dfb4fcc7a1d.en.html", "x-tweet-button"},
		{"https://platform.twitter.com/embed/Tweet.html?id=1", "x-embedded-tweet"},
		{"https://syndication.twitter.com/i/jot?l=%7B%7D", "x-widgets"},
		// other pixels
		{"https://ct.pinterest.com/v3/?tid=1&event=pagevisit", "pinterest-tag"},
		{"https://s.pinimg.com/ct/core.js", "pinterest-tag-loader"},
		{"https://www.pinterest.com/pin/1/", ""},
		{"https://tr.snapchat.com/p", "snap-pixel"},
		{"https://sc-static.net/scevent.min.js", "snap-pixel"},
		{"https://www.redditstatic.com/ads/pixel.js", "reddit-pixel-loader"},
		{"https://alb.reddit.com/rp.gif?id=a2_x&event=PageVisit", "reddit-pixel"},
		{"https://www.reddit.com/r/golang/", ""},
		{"https://bat.bing.com/action/0?ti=1&evt=pageLoad", "microsoft-uet"},
		{"https://www.bing.com/search?q=x", ""},
		// session replay
		{"https://www.clarity.ms/tag/abc123", "microsoft-clarity"},
		{"https://e.clarity.ms/collect", "microsoft-clarity"},
		{"https://static.hotjar.com/c/hotjar-123.js?sv=6", "hotjar"},
		{"https://rs.fullstory.com/rec/bundle", "fullstory"},
		{"https://mc.yandex.ru/watch/123?page-url=x", "yandex-metrica"},
		{"https://mc.yandex.ru/webvisor/123", "yandex-webvisor"},
		// ads and recommendations
		{"https://sslwidget.criteo.com/event?a=1&v=5", "criteo-onetag"},
		{"https://dynamic.criteo.com/js/ld/ld.js?a=1", "criteo-onetag"},
		{"https://gum.criteo.com/sid/json", "criteo"},
		{"https://trc.taboola.com/1234/log/3/unip?en=page_view", "taboola-pixel"},
		{"https://cdn.taboola.com/libtrc/news/loader.js", "taboola"},
		{"https://tr.outbrain.com/unifiedPixel?marketerId=1&name=PAGE_VIEW", "outbrain-pixel"},
		{"https://widgets.outbrain.com/outbrain.js", "outbrain"},
		// Adobe
		{"http://w88.go.com/b/ss/wdgespcom,wdgespge/1/H.21/s123?AQB=1&AQE=1", "adobe-analytics-beacon"},
		{"https://acme.sc.omtrdc.net/b/ss/acmeprod/1/JS-2.22.0/s1?AQB=1", "adobe-analytics-beacon"},
		{"https://acme.sc.omtrdc.net/id?d_visid_ver=1", "adobe-analytics"},
		{"https://dpm.demdex.net/id?d_visid_ver=5&d_orgid=X@AdobeOrg", "adobe-ecid"},
		{"https://dpm.demdex.net/ibs:dpid=1&dpuuid=2", "adobe-audience-manager"},
		{"https://assets.adobedtm.com/launch-abc.min.js", "adobe-launch"},
		// measurement and product analytics
		{"https://sb.scorecardresearch.com/b?c1=2&c2=1234567", "comscore"},
		{"https://pixel.quantserve.com/pixel;r=1;a=p-x;url=x", "quantcast"},
		{"https://ping.chartbeat.net/ping?h=x", "chartbeat"},
		{"https://de.ioam.de/tx.io?st=x", "infonline"},
		{"https://api.segment.io/v1/t", "segment"},
		{"https://cdn.segment.com/analytics.js/v1/KEY/analytics.min.js", "segment"},
		{"https://api2.amplitude.com/2/httpapi", "amplitude"},
		{"https://api-js.mixpanel.com/track/?ip=1", "mixpanel"},
		{"https://api-js.mixpanel.com/record/?ip=1", "mixpanel-replay"},
		// widgets
		{"https://shortname.disqus.com/embed.js", "disqus"},
		{"https://s7.addthis.com/js/300/addthis_widget.js", "addthis"},
		{"https://m.addthisedge.com/live/boost/x", "addthis"},
		{"https://platform-api.sharethis.com/js/sharethis.js", "sharethis"},
		{"https://static.addtoany.com/menu/page.js", "addtoany"},
		// negatives and edge cases
		{"https://news.example/article/1", ""},
		{"https://news.example/tr", ""},
		{"https://WWW.FACEBOOK.COM./tr?id=1", "meta-pixel-event"},
		{"https://www.facebook.com:443/tr?id=1", "meta-pixel-event"},
		{"/relative/path", ""},
		{"https://com/", ""},
		{"https://127.0.0.1/b/ss/x", "adobe-analytics-beacon"},
	}
	s := Default()
	for _, tt := range tests {
		m, ok := s.Match(mustURL(t, tt.url))
		got := ""
		if ok {
			got = m.Rule.ID
			if m.Why == "" || !strings.Contains(m.Why, "host "+m.Host) {
				t.Errorf("Match(%s).Why = %q, want it to name host %q", tt.url, m.Why, m.Host)
			}
		}
		if got != tt.want {
			t.Errorf("Match(%s) = %q (%s), want %q", tt.url, got, m.Why, tt.want)
		}
	}
}

func TestMatchSpecificity(t *testing.T) {
	const data = `
[host-only-short]
company = A
product = short host
category = embed
hosts = example.com
[host-only-long]
company = A
product = long host
category = embed
hosts = a.example.com
[any-path]
company = A
product = any host with path
category = analytics
hosts = *
paths = /collect
[path-first]
company = A
product = first path rule
category = pixel
hosts = example.com
paths = /p/**
[path-second]
company = A
product = second path rule
category = pixel
hosts = example.com
paths = /p/x
[path-long]
company = A
product = longer host path rule
category = pixel
hosts = b.example.com
paths = /p/**
`
	s, err := Parse("spec.txt", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, want, why string }{
		{"https://example.com/", "host-only-short", "host example.com"},
		{"https://x.a.example.com/", "host-only-long", "host a.example.com"},
		{"https://a.example.com/collect", "any-path", "host *, path /collect"}, // a path rule beats a longer host-only rule
		{"https://example.com/p/x", "path-first", "host example.com, path /p/**"},
		{"https://b.example.com/p/x", "path-long", "host b.example.com, path /p/**"},
		{"https://other.example/collect", "any-path", "host *, path /collect"},
		{"https://other.example/", "", ""},
	}
	for _, tt := range tests {
		m, ok := s.Match(mustURL(t, tt.url))
		got := ""
		if ok {
			got = m.Rule.ID
		}
		if got != tt.want || m.Why != tt.why {
			t.Errorf("Match(%s) = %q (%q), want %q (%q)", tt.url, got, m.Why, tt.want, tt.why)
		}
	}
	var nilSet *Set
	if _, ok := nilSet.Match(mustURL(t, "https://example.com/")); ok || nilSet.Rules() != nil {
		t.Error("a nil Set matched or has rules")
	}
	if _, ok := s.Match(nil); ok {
		t.Error("Match(nil) matched")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	s := Default()
	u := mustURL(t, "https://www.facebook.com/plugins/like.php?href=x")
	if n := testing.AllocsPerRun(100, func() { s.Match(u) }); n != 0 {
		t.Errorf("Match allocates %v times per call, want 0", n)
	}
}

// FuzzMatch parses arbitrary strings as URLs and matches them: no panics.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"https://www.facebook.com/tr?id=1", "http://[::1]:80/b/ss/x", "https://x/g/collect?tid=1&", "//a.b./c", "https://A.B/"} {
		f.Add(s)
	}
	s := Default()
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if m, ok := s.Match(u); ok && (m.Rule == nil || m.Why == "") {
			t.Fatalf("Match(%q) = %+v: a match without rule or reason", raw, m)
		}
	})
}

// benchURLs mixes tracker and ordinary URLs, roughly as a page load does.
var benchURLs = []string{
	"https://news.example/article/2024/05/some-story?utm_source=x",
	"https://cdn.news.example/static/js/app.4f3a2b.js",
	"https://www.facebook.com/tr/?id=123456&ev=PageView&dl=https%3A%2F%2Fnews.example%2F",
	"https://www.google-analytics.com/g/collect?v=2&tid=G-ABC&en=page_view",
	"https://fonts.gstatic.com/s/roboto/v30/KFOmCnqEu92Fr1Mu4mxK.woff2",
	"https://www.facebook.com/v2.5/plugins/like.php?href=x",
	"https://images.news.example/2024/05/photo-1200x800.jpg",
	"https://acme.sc.omtrdc.net/b/ss/acmeprod/1/JS-2.22.0/s1?AQB=1",
	"https://sgtm.news.example/g/collect?v=2&tid=G-ABC",
	"https://ajax.googleapis.com/ajax/libs/jquery/3.7.1/jquery.min.js",
}

func BenchmarkMatch(b *testing.B) {
	s := Default()
	us := make([]*url.URL, len(benchURLs))
	for i, raw := range benchURLs {
		us[i] = mustURL(b, raw)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Match(us[i%len(us)])
	}
}

// TestFixtures matches every request URL of the shared real HAR captures
// and compares the matched ones with testdata/fixtures.golden.
func TestFixtures(t *testing.T) {
	s := Default()
	var out bytes.Buffer
	for _, path := range fixtures.Files(t, "har", ".har") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var har struct {
			Log struct {
				Entries []struct {
					Request struct {
						URL string `json:"url"`
					} `json:"request"`
				} `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &har); err != nil {
			t.Fatalf("read %s: %v", filepath.Base(path), err)
		}
		lines := map[string]bool{}
		for _, e := range har.Log.Entries {
			u, err := url.Parse(e.Request.URL)
			if err != nil {
				continue
			}
			if m, ok := s.Match(u); ok {
				lines[fmt.Sprintf("  %-28s %s%s  (%s)", m.Rule.ID, u.Host, u.Path, m.Why)] = true
			}
		}
		sorted := make([]string, 0, len(lines))
		for l := range lines {
			sorted = append(sorted, l)
		}
		sort.Strings(sorted)
		fmt.Fprintf(&out, "%s: %d requests, %d distinct tracker URLs\n", filepath.Base(path), len(har.Log.Entries), len(sorted))
		for _, l := range sorted {
			fmt.Fprintln(&out, l)
		}
	}
	golden := filepath.Join("testdata", "fixtures.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s: %v (run go test -update to create it)", golden, err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("fixture matches differ from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}
