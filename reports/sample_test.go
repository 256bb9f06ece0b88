package reports

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// Values reused across exchanges, so tests can check that equal values
// get equal pseudonyms. They are made up; the hash is SHA-256 of
// "jane@example.com".
const (
	cUser    = "100012345678901"
	xsValue  = "31%3AAbCdEfGhIjKl%3A2%3A1700000000"
	datr     = "Xk9aZ0ABCDEFGHIJKLMNOPQR"
	frValue  = "0AbCdEfGhIjKlMnOp..BlZ"
	fbp      = "fb.1.1700000000000.1234567890"
	fbc      = "fb.1.1700000000000.IwAR0abcdefg"
	emailSHA = "8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d"
	phoneSHA = "6b1b36cbb04b41490bfc0ab2bfa26f86e0ff6ed26cd1f41a2e1b1b3c56a3b0a2"
	gaCID    = "1234567890.1700000000"
)

// ex builds an exchange for rawURL on page (nil: unattributed).
func ex(id int64, rawURL string, page *traffic.Page, findings ...traffic.Finding) *traffic.Exchange {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	return &traffic.Exchange{
		ID:       id,
		Source:   "sample",
		Start:    time.Date(2026, 3, 1, 12, 0, int(id), 0, time.UTC),
		Request:  traffic.Request{Method: "GET", URL: u, Header: http.Header{}},
		Response: &traffic.Response{Status: 200, Header: http.Header{}},
		Page:     page,
		Findings: findings,
	}
}

var (
	healthPage = &traffic.Page{URL: "https://news.example/health/diabetes-type-2?utm_source=newsletter",
		Site: "news.example", Title: "Living with diabetes\x1b[2J", By: "document"}
	searchPage = &traffic.Page{URL: "https://news.example/search?q=divorce+lawyer&session_token=s3cr3tT0ken",
		Site: "news.example", Title: "Search results", By: "referer"}
	shopPage = &traffic.Page{URL: "https://shop.example/checkout/done?order=991&email=jane%40example.com",
		Site: "shop.example", Title: "Thank you for your order", By: "document"}
)

func metaPixel(rule string) traffic.Finding {
	return traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Detector: "tracker",
		Company: "Meta", Product: "Meta Pixel", Category: "pixel", RuleID: rule, Summary: "Meta Pixel (Meta)"}
}

func meta(kind traffic.Kind, sev traffic.Severity, summary string, ev ...traffic.Evidence) traffic.Finding {
	return traffic.Finding{Kind: kind, Severity: sev, Company: "Meta", Product: "Meta Pixel", Category: "pixel",
		RuleID: "meta-pixel-event", Summary: summary, Evidence: ev}
}

func metaCookies() traffic.Finding {
	return meta(traffic.KindCookieLeak, traffic.SeverityHigh,
		"sent 4 cookies: c_user (person), xs (person), datr (browser), fr (browser)",
		traffic.Evidence{Where: "cookie:c_user", Label: "person", Value: cUser, Secret: true},
		traffic.Evidence{Where: "cookie:xs", Label: "person", Value: xsValue, Secret: true},
		traffic.Evidence{Where: "cookie:datr", Label: "browser", Value: datr, Secret: true},
		traffic.Evidence{Where: "cookie:fr", Label: "browser", Value: frValue, Secret: true},
	)
}

// sampleExchanges is a hand-built capture following the finding
// conventions: two sites, a Meta pixel with cookies, page URL, hashed
// e-mail and a Purchase; a Like button; GA4; a session recorder; a
// host-only TikTok contact; an upstream error; an insecure exchange.
func sampleExchanges() []*traffic.Exchange {
	var out []*traffic.Exchange
	add := func(e *traffic.Exchange) { out = append(out, e) }

	add(ex(1, healthPage.URL, healthPage))
	add(ex(2, "https://news.example/static/app.js", healthPage))
	for _, id := range []int64{3, 4} { // the same PageView twice: one ledger row, count 2
		add(ex(id, "https://www.facebook.com/tr?id=1234567890&ev=PageView", healthPage,
			metaPixel("meta-pixel-event"),
			meta(traffic.KindPixelEvent, traffic.SeverityMedium, "PageView: a page was viewed",
				traffic.Evidence{Where: "query:id", Label: "account id", Value: "1234567890"},
				traffic.Evidence{Where: "query:ev", Label: "event", Value: "PageView"},
				traffic.Evidence{Where: "query:fbp", Label: "browser id", Value: fbp, Secret: true}),
			metaCookies(),
			meta(traffic.KindPageURLLeak, traffic.SeverityHigh, "page URL in dl (health)",
				traffic.Evidence{Where: "query:dl", Label: "page URL", Value: healthPage.URL},
				traffic.Evidence{Where: "query:dl", Label: "sensitive: health", Value: "diabetes-type-2"}),
			meta(traffic.KindCookieSharing, traffic.SeverityMedium, "first-party cookie _fbp copied into fbp",
				traffic.Evidence{Where: "query:fbp", Label: "first-party cookie _fbp", Value: fbp, Secret: true}),
			meta(traffic.KindClickID, traffic.SeverityMedium, "Meta click id in _fbc",
				traffic.Evidence{Where: "cookie:_fbc", Label: "Meta click id (_fbc)", Value: fbc, Secret: true}),
		))
		out[len(out)-1].Findings[1].Event = "PageView"
	}
	purchase := ex(5, "https://www.facebook.com/tr?id=1234567890&ev=Purchase", healthPage,
		metaPixel("meta-pixel-event"),
		meta(traffic.KindPixelEvent, traffic.SeverityHigh, "Purchase: a purchase was completed",
			traffic.Evidence{Where: "query:id", Label: "account id", Value: "1234567890"},
			traffic.Evidence{Where: "query:cd[value]", Label: "value", Value: "129.99"},
			traffic.Evidence{Where: "query:cd[currency]", Label: "currency", Value: "EUR"},
			traffic.Evidence{Where: "query:cd[content_ids]", Label: "content ids", Value: `["sku-42"]`}),
		meta(traffic.KindHashedPII, traffic.SeverityHigh, "hashed email and phone in advanced matching",
			traffic.Evidence{Where: "query:ud[em]", Label: "email (sha256)", Value: emailSHA, Secret: true},
			traffic.Evidence{Where: "query:ud[ph]", Label: "phone (sha256)", Value: phoneSHA, Secret: true}),
		meta(traffic.KindReferrerLeak, traffic.SeverityMedium, "full page URL in Referer",
			traffic.Evidence{Where: "header:Referer", Label: "page URL", Value: healthPage.URL}),
	)
	purchase.Findings[1].Event = "Purchase"
	purchase.Request.Method = "POST"
	add(purchase)

	like := ex(6, "https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fnews.example%2Fsearch", searchPage,
		traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Company: "Meta", Product: "Like button",
			Category: "social-plugin", RuleID: "meta-like-button", Summary: "Like button (Meta)"},
		traffic.Finding{Kind: traffic.KindSocialPlugin, Severity: traffic.SeverityHigh, Company: "Meta", Product: "Like button",
			Category: "social-plugin", RuleID: "meta-like-button",
			Summary: "Like button on news.example — sent the page URL and logged-in Facebook cookies (c_user)",
			Evidence: []traffic.Evidence{
				{Where: "query:href", Label: "page URL", Value: "https://news.example/search"},
				{Where: "cookie:c_user", Label: "person", Value: cUser, Secret: true},
				{Where: "cookie:datr", Label: "browser", Value: datr, Secret: true},
			}},
	)
	add(like)

	ga := ex(7, "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&en=page_view", searchPage,
		traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Company: "Google", Product: "Google Analytics 4",
			Category: "analytics", RuleID: "ga4-collect", Summary: "Google Analytics 4 (Google)"},
		traffic.Finding{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityMedium, Company: "Google", Product: "Google Analytics 4",
			Category: "analytics", RuleID: "ga4-collect", Event: "page_view", Summary: "page_view: a page was viewed",
			Evidence: []traffic.Evidence{
				{Where: "query:tid", Label: "account id", Value: "G-ABC123"},
				{Where: "query:cid", Label: "browser id", Value: gaCID, Secret: true},
				{Where: "query:dl", Label: "page URL", Value: searchPage.URL},
			}},
		traffic.Finding{Kind: traffic.KindPageURLLeak, Severity: traffic.SeverityHigh, Company: "Google", Product: "Google Analytics 4",
			Category: "analytics", RuleID: "ga4-collect", Summary: "page URL in dl (search terms)",
			Evidence: []traffic.Evidence{
				{Where: "query:dl", Label: "page URL", Value: searchPage.URL},
				{Where: "query:dl", Label: "sensitive: search terms", Value: "divorce lawyer"},
			}},
	)
	add(ga)
	add(ex(8, "https://cdnjs.cloudflare.com/ajax/libs/jquery.min.js", searchPage))
	add(ex(9, "https://news.example/api/comments", searchPage))

	replay := ex(10, "https://in.hotjar.com/api/v2/client/sites/1/visit-data", healthPage,
		traffic.Finding{Kind: traffic.KindTracker, Severity: traffic.SeverityInfo, Company: "Hotjar", Product: "Hotjar",
			Category: "session-replay", RuleID: "hotjar", Summary: "Hotjar"},
		traffic.Finding{Kind: traffic.KindSessionReplay, Severity: traffic.SeverityHigh, Company: "Hotjar", Product: "Hotjar",
			Category: "session-replay", RuleID: "hotjar", Summary: "records what you do on the page (mouse moves, clicks, typed text)"},
	)
	add(replay)

	broken := ex(11, "https://ads.badcert.example/pixel.gif", healthPage,
		traffic.Finding{Kind: traffic.KindUpstreamError, Severity: traffic.SeverityLow, Summary: "could not verify the server's certificate"})
	broken.Response = nil
	broken.Error = "tls: failed to verify certificate: x509: certificate signed by unknown authority"
	add(broken)

	contact := ex(12, "https://analytics.tiktok.com/", nil,
		traffic.Finding{Kind: traffic.KindContact, Severity: traffic.SeverityLow, Company: "TikTok", Product: "TikTok Pixel",
			Category: "pixel", RuleID: "tiktok-pixel", Summary: "contact only (TLS SNI)"})
	contact.HostOnly, contact.Via, contact.Response = true, "tls-sni", nil
	add(contact)

	add(ex(13, shopPage.URL, shopPage))
	shop := ex(14, "https://www.facebook.com/tr?id=555&ev=Purchase", shopPage,
		metaPixel("meta-pixel-event"),
		meta(traffic.KindPixelEvent, traffic.SeverityHigh, "Purchase: a purchase was completed",
			traffic.Evidence{Where: "query:id", Label: "account id", Value: "555"},
			traffic.Evidence{Where: "query:cd[value]", Label: "value", Value: "19.00"},
			traffic.Evidence{Where: "query:cd[currency]", Label: "currency", Value: "USD"}),
		meta(traffic.KindCookieLeak, traffic.SeverityMedium, "sent 1 cookie: datr (browser)",
			traffic.Evidence{Where: "cookie:datr", Label: "browser", Value: datr, Secret: true}),
		meta(traffic.KindPII, traffic.SeverityHigh, "watched email sent as sha256",
			traffic.Evidence{Where: "query:ud[em]", Label: "email as sha256", Value: emailSHA, Secret: true}),
	)
	shop.Findings[1].Event = "Purchase"
	shop.Insecure = true
	add(shop)
	return out
}

// sampleInputs describes the sample as if read from one HAR file.
func sampleInputs() []Input {
	return []Input{{Name: "sample.har", Format: "HAR", Exchanges: 14, Skipped: 1,
		Warnings: []string{"sample.har: entry 15: no request URL, skipped"}}}
}

// sampleReport builds the sample report with o.
func sampleReport(t testing.TB, o Options) *Report {
	t.Helper()
	b := NewBuilder(o)
	for _, in := range sampleInputs() {
		b.AddInput(in)
	}
	for _, e := range sampleExchanges() {
		b.Add(e)
	}
	return b.Report()
}
