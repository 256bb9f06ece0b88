package detectors

import (
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/rules"
	"github.com/trackaudit/trackaudit/traffic"
)

func TestSocialPlugin(t *testing.T) {
	const page = "https://news.example/2026/11/story?id=7"
	qe := url.QueryEscape
	tests := []struct {
		name         string
		ex           *traffic.Exchange
		wantProduct  string
		wantCompany  string
		wantSeverity traffic.Severity
		wantSummary  string
		wantEvidence []string // "where | label"
	}{
		{
			name: "Like button, logged in",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/v18.0/plugins/like.php?href="+qe(page)+"&layout=button_count&action=like&app_id=1234&sdk=joey&channel="+qe("https://staticxx.facebook.com/x/connect/xd_arbiter/?origin=https%3A%2F%2Fnews.example"),
				withPage(page), withTracker("Meta", "Facebook social plugins", "social-plugin", "facebook-plugins"),
				withCookies("c_user=100001234567890; xs=12%3Aabc; datr=AbCdEfGh; locale=de_DE")),
			wantProduct:  "Like button",
			wantCompany:  "Meta",
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "Like button on news.example — sent the page URL and logged-in Facebook cookies (c_user, xs)",
			wantEvidence: []string{"query:href | page URL", "cookie:c_user | person", "cookie:xs | person", "cookie:datr | browser"},
		},
		{
			name: "Page plugin showing the site's Facebook page, logged out",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/plugins/page.php?href="+qe("https://www.facebook.com/newsexample")+"&tabs=timeline",
				withPage(page), withCookies("datr=AbCdEfGh; fr=0aBc")),
			wantProduct:  "Page plugin",
			wantCompany:  "Meta",
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "Page plugin on news.example — sent Facebook browser-id cookies (datr, fr)",
			wantEvidence: []string{"query:href | shared URL", "cookie:datr | browser", "cookie:fr | browser"},
		},
		{
			name: "Tweet button iframe with a full Referer and X login",
			ex: newTestExchange(t, "GET", "https://platform.twitter.com/widgets/tweet_button.2f70fb173b9000da126c79afe2098f02.en.html",
				withPage(page), withHeader("Referer", page), withCookies("auth_token=abcdef0123; twid=u%3D12345; personalization_id=v1_xyz; lang=en")),
			wantProduct:  "Tweet button",
			wantCompany:  "X",
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "Tweet button on news.example — sent the page URL and logged-in X cookies (auth_token, twid)",
			wantEvidence: []string{"header:Referer | page URL", "cookie:auth_token | person", "cookie:twid | person", "cookie:personalization_id | browser"},
		},
		{
			name:         "AddToAny script, origin-only Referer",
			ex:           newTestExchange(t, "GET", "https://static.addtoany.com/menu/page.js", withPage(page), withHeader("Referer", "https://news.example/")),
			wantProduct:  "AddToAny share buttons",
			wantCompany:  "AddToAny",
			wantSeverity: traffic.SeverityLow,
			wantSummary:  "AddToAny share buttons on news.example — AddToAny sees your IP address and which site you are on",
		},
		{
			name:         "LinkedIn embedded post",
			ex:           newTestExchange(t, "GET", "https://www.linkedin.com/embed/feed/update/urn:li:share:7000000000000000000", withPage(page), withCookies("li_at=AQEDAR; bcookie=v%3D2")),
			wantProduct:  "Embedded LinkedIn post",
			wantCompany:  "LinkedIn",
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  "Embedded LinkedIn post on news.example — sent logged-in LinkedIn cookies (li_at)",
			wantEvidence: []string{"cookie:li_at | person", "cookie:bcookie | browser"},
		},
		{
			name:         "unknown Facebook plugin name, unknown page",
			ex:           newTestExchange(t, "GET", "https://www.facebook.com/plugins/newthing.php?url="+qe(page)),
			wantProduct:  "Facebook plugin (newthing)",
			wantCompany:  "Meta",
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  "Facebook plugin (newthing) on an unknown page — sent the page URL",
			wantEvidence: []string{"query:url | page URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewSocialPlugin(rules.DefaultCookies()).Detect(tt.ex)
			if len(fs) != 1 || fs[0].Kind != traffic.KindSocialPlugin {
				t.Fatalf("got %d findings, want 1 social plugin", len(fs))
			}
			f := fs[0]
			if f.Product != tt.wantProduct || f.Company != tt.wantCompany || f.Category != "social-plugin" || f.Severity != tt.wantSeverity || f.Summary != tt.wantSummary {
				t.Errorf("got %q/%q/%q %s %q,\nwant %q/%q/social-plugin %s %q", f.Company, f.Product, f.Category, f.Severity, f.Summary, tt.wantCompany, tt.wantProduct, tt.wantSeverity, tt.wantSummary)
			}
			var got []string
			for _, e := range f.Evidence {
				got = append(got, e.Where+" | "+e.Label)
				if e.Secret != strings.HasPrefix(e.Where, "cookie:") {
					t.Errorf("evidence %s secret = %v", e.Where, e.Secret)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantEvidence, "\n") {
				t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantEvidence, "\n"))
			}
			checkNoSecretInSummary(t, f)
		})
	}
}

func TestSocialPluginIgnores(t *testing.T) {
	const page = "https://news.example/story"
	for _, u := range []string{
		"https://static.xx.fbcdn.net/rsrc.php/v3/yV/r/abc.js", // inside the Like iframe
		"https://www.facebook.com/tr/?id=1&ev=PageView",
		"https://syndication.twitter.com/i/jot?l=%7B%7D",
		"https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example%2Fstory",
		"https://platform.twitter.com/js/button.abc.js",
		"https://www.linkedin.com/feed/",
	} {
		if fs := NewSocialPlugin(rules.DefaultCookies()).Detect(newTestExchange(t, "GET", u, withPage(page))); len(fs) != 0 {
			t.Errorf("%s: got %s, want nothing", u, fs[0].Summary)
		}
	}
	// Facebook's own page loading its own plugin is not an embed.
	own := newTestExchange(t, "GET", "https://www.facebook.com/plugins/like.php?href=x", withPage("https://www.facebook.com/somepage"))
	if fs := NewSocialPlugin(nil).Detect(own); len(fs) != 0 {
		t.Errorf("first-party plugin load reported: %s", fs[0].Summary)
	}
}

func TestWidgetOf(t *testing.T) {
	tests := []struct{ host, path, want string }{
		{"www.facebook.com", "/plugins/share_button.php", "Share button"},
		{"web.facebook.com", "/v2.5/plugins/comments.php", "Comments plugin"},
		{"connect.facebook.net", "/en_US/sdk.js", "Facebook SDK (plugin loader)"},
		{"platform.twitter.com", "/widgets.js", "X widgets loader"},
		{"platform.twitter.com", "/embed/Tweet.html", "Embedded tweet"},
		{"syndication.twitter.com", "/srv/timeline-profile/screen-name/x", "Embedded timeline"},
		{"assets.pinterest.com", "/js/pinit.js", "Pin It button"},
		{"www.instagram.com", "/p/CxYz123/embed/captioned/", "Embedded Instagram post"},
		{"s7.addthis.com", "/js/300/addthis_widget.js", "AddThis share buttons"},
		{"platform-api.sharethis.com", "/js/sharethis.js", "ShareThis share buttons"},
		{"platform.linkedin.com", "/in.js", "LinkedIn share button"},
		{"www.facebook.com", "/plugins/like.phpx", ""},
		{"facebook.example", "/plugins/like.php", ""},
	}
	for _, tt := range tests {
		w, _ := widgetOf(tt.host, tt.path)
		if w.product != tt.want {
			t.Errorf("widgetOf(%s, %s) = %q, want %q", tt.host, tt.path, w.product, tt.want)
		}
	}
}
