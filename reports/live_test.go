package reports

import (
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

func TestLiveLine(t *testing.T) {
	all := sampleExchanges()
	byID := map[int64]*traffic.Exchange{}
	for _, e := range all {
		byID[e.ID] = e
	}
	tests := []struct {
		name string
		id   int64
		o    LiveOptions
		want string
	}{
		{"no findings", 1, LiveOptions{}, ""},
		{"pixel with cookies", 3, LiveOptions{},
			"12:00:03 HIGH news.example → Meta / Meta Pixel: PageView · first-party cookie _fbp copied into parameter fbp · cookie c_user (person) · cookie xs (person) · cookie datr (browser) · cookie fr (browser) · page URL in parameter dl · sensitive: health (parameter dl) · Meta click id (_fbc)"},
		{"hashed email, secrets shown", 5, LiveOptions{ShowSecrets: true},
			"12:00:05 HIGH news.example → Meta / Meta Pixel: Purchase · email (sha256) in parameter ud[em]=" + clip(emailSHA, liveValueMax) + " · phone (sha256) in parameter ud[ph]=" + clip(phoneSHA, liveValueMax) + " · full page URL via Referer"},
		{"social plugin", 6, LiveOptions{},
			"12:00:06 HIGH news.example → Meta / Like button · page URL in parameter href · logged-in state: cookie c_user (person) · browser id: cookie datr (browser)"},
		{"upstream error", 11, LiveOptions{},
			"12:00:11 LOW  news.example → ads.badcert.example · error: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"host-only contact", 12, LiveOptions{},
			"12:00:12 LOW  (no page) → TikTok / TikTok Pixel · contact only (tls-sni)"},
		{"insecure", 14, LiveOptions{},
			"12:00:14 HIGH shop.example → Meta / Meta Pixel: Purchase · email as sha256 in parameter ud[em] · cookie datr (browser) · upstream certificate not verified"},
		{"colour", 11, LiveOptions{Color: true},
			"12:00:11 \x1b[36mLOW \x1b[0m news.example → ads.badcert.example · error: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		got := LiveLine(byID[tt.id], tt.o)
		if got != tt.want {
			t.Errorf("%s: LiveLine =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

func TestLiveLineNeverLeaksSecretsOrControls(t *testing.T) {
	secrets := []string{cUser, xsValue, datr, frValue, fbp, fbc, emailSHA, phoneSHA, gaCID}
	for _, e := range sampleExchanges() {
		line := LiveLine(e, LiveOptions{})
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("exchange %d: live line shows secret %q: %s", e.ID, s, line)
			}
		}
		if r, bad := unsafeForTerminal(line); bad {
			t.Errorf("exchange %d: live line contains %U", e.ID, r)
		}
	}
	hostile := ex(99, "https://evil.example/x", &traffic.Page{URL: "https://a.example/", Site: "a.example\x1b]8;;x\x07"},
		traffic.Finding{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityLow, Company: "Evil\x1b[2J", Event: "Page\nView\u009b"})
	line := LiveLine(hostile, LiveOptions{Color: false})
	if r, bad := unsafeForTerminal(line); bad {
		t.Errorf("hostile exchange: live line %q contains %U", line, r)
	}
	if want := "a.example → Evil: Page View"; !strings.Contains(line, want) {
		t.Errorf("hostile exchange: live line %q, want it to contain %q", line, want)
	}
	if got := LiveLine(nil, LiveOptions{}); got != "" {
		t.Errorf("LiveLine(nil) = %q, want empty", got)
	}
}

// TestLiveLineCloaked checks that a tracker named by the host's DNS alias
// says which name hid it.
func TestLiveLineCloaked(t *testing.T) {
	page := &traffic.Page{URL: "https://news.example/a", Site: "news.example", By: "document"}
	e := ex(1, "https://smetrics.news.example/b/ss/x/1/JS-2.22.0/s1", page,
		traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics", Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host omtrdc.net"},
				{Where: "dns:cname", Label: "DNS alias of", Value: "smetrics.news.example → news.example.ssl.sc.omtrdc.net"}}},
		traffic.Finding{Kind: traffic.KindCookieLeak, Severity: traffic.SeverityHigh, Company: "Adobe", Product: "Analytics",
			Evidence: []traffic.Evidence{{Where: "cookie:dp_session", Label: "site session", Value: "x", Secret: true}}})
	e.CNAME = "news.example.ssl.sc.omtrdc.net"
	want := "12:00:01 HIGH news.example → Adobe / Analytics behind smetrics.news.example (a DNS alias) · cookie dp_session (site session)"
	if got := LiveLine(e, LiveOptions{}); got != want {
		t.Errorf("LiveLine =\n%q\nwant\n%q", got, want)
	}
}
