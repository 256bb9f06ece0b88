package detectors

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

const (
	undefinedSHA = "eb045d78d273107348b0300c01d29b7552d622abbc6faf81b3ec55359aa9950c" // sha256("undefined")
	testEmailSHA = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b" // sha256("test@example.com")
)

func TestMetaPixel(t *testing.T) {
	qe := url.QueryEscape
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for _, kv := range [][2]string{{"id", "123456789012345"}, {"ev", "Lead"}, {"ud[em]", testEmailSHA}, {"dl", "https://clinic.example/book"}} {
		mw.WriteField(kv[0], kv[1])
	}
	mw.Close()

	tests := []struct {
		name         string
		ex           *traffic.Exchange
		wantEvent    string
		wantSeverity traffic.Severity
		wantSummary  string
		wantEvidence []string // "where | label | value", secret marked " | secret"
		wantPII      []string // "where | label" of each KindHashedPII finding
	}{
		{
			// Shape of the 2020 veteransunited.com capture (tracker-facts §27 #1).
			name: "PageView with empty advanced matching",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=123456789012345&ev=PageView&dl="+qe("https://www.veteransunited.com/")+
				"&rl=&if=false&ts=1589758702127&sw=1920&sh=1080&ud[ph]="+undefinedSHA+"&ud[fn]="+undefinedSHA+"&v=2.9.15&r=stable&ec=0&o=30&fbp=fb.1.1589758702127.2144368150&it=1589758701000&coo=false&rqm=GET",
				withTracker("Meta", "Meta Pixel", "pixel", "meta-pixel-event")),
			wantEvent:    "PageView",
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  `Meta Pixel event "PageView" (viewed a page): sent page URL, browser id`,
			wantEvidence: []string{
				"query:id | account id | 123456789012345",
				"query:ev | event | PageView",
				"query:dl | page URL | https://www.veteransunited.com/",
				"query:ts | event time | 1589758702127",
				"query:ud[ph] | phone (empty) | " + undefinedSHA,
				"query:ud[fn] | first name (empty) | " + undefinedSHA,
				"query:fbp | browser id | fb.1.1589758702127.2144368150 | secret",
				"query:it | pixel start time | 1589758701000",
			},
		},
		{
			name: "Purchase with custom data and hashed and plain PII",
			ex: newTestExchange(t, "GET", "https://www.facebook.com/tr?id=123456789012345&ev=Purchase&cd[value]=49.99&cd[currency]=EUR&cd[content_ids]="+qe(`["SKU-1","SKU-2"]`)+
				"&cd[content_name]=Blue%20shoes&cd[coupon]=SPRING&ud[em]="+testEmailSHA+"&ud[ct]=berlin&fbc=fb.1.1589758702127.IwAR2xyz"),
			wantEvent:    "Purchase",
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  `Meta Pixel event "Purchase" (bought something): sent value, currency, content ids, content name, custom data, click id, hashed email, plain-text city`,
			wantEvidence: []string{
				"query:id | account id | 123456789012345",
				"query:ev | event | Purchase",
				"query:cd[value] | value | 49.99",
				"query:cd[currency] | currency | EUR",
				`query:cd[content_ids] | content ids | ["SKU-1","SKU-2"]`,
				"query:cd[content_name] | content name | Blue shoes",
				"query:cd[coupon] | custom data | SPRING",
				"query:fbc | click id | fb.1.1589758702127.IwAR2xyz | secret",
			},
			wantPII: []string{"query:ud[em] | email (sha256)", "query:ud[ct] | city (plain text)"},
		},
		{
			// Shape of the kohls.com Microdata capture (tracker-facts §27 #2).
			name: "automatic Microdata event leaks page content",
			ex: newTestExchange(t, "POST", "https://www.facebook.com/tr/",
				withBody("application/x-www-form-urlencoded", "id=123456789012345&ev=Microdata&es=automatic&tm=3&cd[Meta]="+
					qe(`{"title":"Pre Qual Form | Kohls","meta:description":"Apply now"}`)+"&cd[OpenGraph]="+qe(`{"og:type":"website"}`))),
			wantEvent:    "Microdata",
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  `Meta Pixel event "Microdata" (automatic event: the page's structured data and meta tags): sent page content, page title`,
			wantEvidence: []string{
				"form:id | account id | 123456789012345",
				"form:ev | event | Microdata",
				"form:cd[Meta] | page content (Meta) | meta:description: Apply now; title: Pre Qual Form | Kohls",
				"form:cd[Meta] › title | page title | Pre Qual Form | Kohls",
				"form:cd[OpenGraph] | page content (OpenGraph) | og:type: website",
			},
		},
		{
			name:         "multipart POST, custom event",
			ex:           newTestExchange(t, "POST", "https://www.facebook.com/tr/", withBody(mw.FormDataContentType(), mp.String())),
			wantEvent:    "Lead",
			wantSeverity: traffic.SeverityHigh,
			wantSummary:  `Meta Pixel event "Lead" (submitted a form (a sales lead)): sent page URL, hashed email`,
			wantEvidence: []string{
				"multipart:id | account id | 123456789012345",
				"multipart:ev | event | Lead",
				"multipart:dl | page URL | https://clinic.example/book",
			},
			wantPII: []string{"multipart:ud[em] | email (sha256)"},
		},
		{
			name:         "custom event name",
			ex:           newTestExchange(t, "GET", "https://www.facebook.com/tr/?id=1&ev=QuizFinished&noscript=1"),
			wantEvent:    "QuizFinished",
			wantSeverity: traffic.SeverityMedium,
			wantSummary:  `Meta Pixel event "QuizFinished" (custom event)`,
			wantEvidence: []string{"query:id | account id | 1", "query:ev | event | QuizFinished"},
		},
		{
			name:         "pixel config script",
			ex:           newTestExchange(t, "GET", "https://connect.facebook.net/signals/config/123456789012345?v=2.9.274&r=stable&domain=shop.example&hme="+testEmailSHA+"&ex_m=62%2C108"),
			wantEvent:    "config",
			wantSeverity: traffic.SeverityLow,
			wantSummary:  "Meta Pixel loaded the configuration of pixel 123456789012345 (it sets which personal fields are matched automatically)",
			wantEvidence: []string{
				"path | account id | 123456789012345",
				"query:domain | page host | shop.example",
				"query:hme | hashed value (hme) | " + testEmailSHA + " | secret",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewMetaPixel().Detect(tt.ex)
			evs := findingsOf(fs, traffic.KindPixelEvent)
			if len(evs) != 1 {
				t.Fatalf("got %d pixel events, want 1", len(evs))
			}
			f := evs[0]
			if f.Event != tt.wantEvent || f.Severity != tt.wantSeverity || f.Summary != tt.wantSummary {
				t.Errorf("got event %q %s %q,\nwant event %q %s %q", f.Event, f.Severity, f.Summary, tt.wantEvent, tt.wantSeverity, tt.wantSummary)
			}
			if f.Company != "Meta" || f.Product != "Meta Pixel" || f.Category != "pixel" {
				t.Errorf("identity %q/%q/%q, want Meta/Meta Pixel/pixel", f.Company, f.Product, f.Category)
			}
			if got := strings.TrimSuffix(evidenceString(f), "\n"); got != strings.Join(tt.wantEvidence, "\n") {
				t.Errorf("evidence:\n%s\nwant:\n%s", got, strings.Join(tt.wantEvidence, "\n"))
			}
			var gotPII []string
			for _, p := range findingsOf(fs, traffic.KindHashedPII) {
				if len(p.Evidence) != 1 || !p.Evidence[0].Secret || p.Severity != traffic.SeverityHigh || p.Event != tt.wantEvent {
					t.Errorf("hashed-PII finding malformed: %+v", p)
					continue
				}
				gotPII = append(gotPII, p.Evidence[0].Where+" | "+p.Evidence[0].Label)
				checkNoSecretInSummary(t, p)
			}
			if strings.Join(gotPII, "\n") != strings.Join(tt.wantPII, "\n") {
				t.Errorf("hashed PII:\n%s\nwant:\n%s", strings.Join(gotPII, "\n"), strings.Join(tt.wantPII, "\n"))
			}
			checkNoSecretInSummary(t, f)
		})
	}
}

func TestMetaPixelIgnores(t *testing.T) {
	for _, u := range []string{
		"https://www.facebook.com/plugins/like.php?href=x",
		"https://www.facebook.com/trx?id=1",
		"https://facebook.example/tr?id=1&ev=PageView",
		"https://connect.facebook.net/en_US/fbevents.js",
		"https://connect.facebook.net/signals/config/",
	} {
		if fs := NewMetaPixel().Detect(newTestExchange(t, "GET", u)); len(fs) != 0 {
			t.Errorf("%s: got %s, want nothing", u, fs[0].Summary)
		}
	}
}

func TestMetaEventMeaning(t *testing.T) {
	for ev, want := range map[string]string{
		"PageView": "viewed a page", "Schedule": "booked an appointment", "Purchase": "bought something",
		"SubscribedButtonClick": "automatic event: clicked a button", "pageview": "custom event", "": "custom event",
	} {
		if got := MetaEventMeaning(ev); got != want {
			t.Errorf("MetaEventMeaning(%q) = %q, want %q", ev, got, want)
		}
	}
	if len(metaStandardEvents) != 20 {
		t.Errorf("%d standard and automatic events, want 18 + 2 from tracker-facts §1.2", len(metaStandardEvents))
	}
}

func FuzzMetaPixel(f *testing.F) {
	f.Add("id=1&ev=PageView&ud[em]="+testEmailSHA, "", "")
	f.Add("", "application/x-www-form-urlencoded", "id=1&ev=Microdata&cd[Meta]=%7B%22title%22%3A%22x%22%7D")
	f.Add("", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"ev\"\r\n\r\nLead\r\n--X--\r\n")
	f.Add("", "application/json", `{"ud":{"em":"x"},"cd[DataLayer]":"[1,2"}`)
	f.Fuzz(func(t *testing.T, query, contentType, body string) {
		u := &url.URL{Scheme: "https", Host: "www.facebook.com", Path: "/tr/", RawQuery: query}
		ex := &traffic.Exchange{Request: traffic.Request{Method: "POST", URL: u, Body: []byte(body), Header: map[string][]string{"Content-Type": {contentType}}}}
		fs := NewMetaPixel().Detect(ex)
		if len(fs) == 0 || fs[0].Kind != traffic.KindPixelEvent {
			t.Fatalf("a /tr request gave no pixel event")
		}
		for _, f := range fs {
			if f.Kind == traffic.KindHashedPII && traffic.IsEmptyHash(f.Evidence[0].Value) {
				t.Fatalf("empty hash reported as PII: %+v", f)
			}
			if len(f.Evidence) > maxMetaEvidence {
				t.Fatalf("%d evidence items", len(f.Evidence))
			}
		}
	})
}

func BenchmarkMetaPixel(b *testing.B) {
	ex := newTestExchange(b, "GET", "https://www.facebook.com/tr/?id=123456789012345&ev=PageView&dl=https%3A%2F%2Fshop.example%2Fp&rl=&if=false&ts=1589758702127&sw=1920&sh=1080&ud[em]="+testEmailSHA+"&ud[ph]="+undefinedSHA+"&v=2.9.15&r=stable&ec=0&o=30&fbp=fb.1.1589758702127.2144368150&it=1589758701000&coo=false&rqm=GET")
	d := NewMetaPixel()
	b.ReportAllocs()
	for b.Loop() {
		d.Detect(ex)
	}
}
