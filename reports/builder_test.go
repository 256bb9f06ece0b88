package reports

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/trackaudit/trackaudit/traffic"
)

func TestWriteJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport(t, Options{})); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	golden(t, "report.json.golden", buf.Bytes())

	var back struct {
		Schema string `json:"schema"`
		Sites  []struct {
			Site string `json:"site"`
		} `json:"sites"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("report JSON does not parse: %v", err)
	}
	if back.Schema != SchemaVersion {
		t.Errorf("schema = %q, want %q", back.Schema, SchemaVersion)
	}
	var sites []string
	for _, s := range back.Sites {
		sites = append(sites, s.Site)
	}
	if got, want := strings.Join(sites, ","), "news.example,shop.example,(unattributed)"; got != want {
		t.Errorf("sites = %s, want %s", got, want)
	}
}

// findLeak returns the value of the ledger row of site whose What starts
// with what.
func findLeak(t *testing.T, r *Report, site, what string) string {
	t.Helper()
	for _, s := range r.Sites {
		if s.Site != site {
			continue
		}
		for _, l := range s.Leaks {
			if strings.HasPrefix(l.What, what) {
				return l.Value
			}
		}
	}
	t.Fatalf("no leak %q on %s", what, site)
	return ""
}

func TestRedactionPseudonyms(t *testing.T) {
	r := sampleReport(t, Options{})
	cookieFbp := findLeak(t, r, "news.example", "first-party cookie _fbp")
	cUserPixel := findLeak(t, r, "news.example", "cookie c_user")
	cUserLike := findLeak(t, r, "news.example", "logged-in state: cookie c_user")
	datrNews := findLeak(t, r, "news.example", "cookie datr")
	datrShop := findLeak(t, r, "shop.example", "cookie datr")
	xs := findLeak(t, r, "news.example", "cookie xs")
	email := findLeak(t, r, "news.example", "email (sha256)")
	emailPII := findLeak(t, r, "shop.example", "email as sha256")

	equal := []struct{ name, a, b string }{
		{"c_user to pixel and to Like button", cUserPixel, cUserLike},
		{"datr on two sites", datrNews, datrShop},
		{"hashed email in two findings", email, emailPII},
	}
	for _, tt := range equal {
		if tt.a != tt.b || !strings.HasPrefix(tt.a, "‹") {
			t.Errorf("%s: pseudonyms %q and %q, want equal pseudonyms", tt.name, tt.a, tt.b)
		}
	}
	distinct := []string{cookieFbp, cUserPixel, datrNews, xs, email}
	seen := map[string]bool{}
	for _, p := range distinct {
		if seen[p] {
			t.Errorf("pseudonym %q used for two different values", p)
		}
		seen[p] = true
	}
	if want := "‹sha256-"; !strings.HasPrefix(email, want) {
		t.Errorf("hashed email pseudonym = %q, want prefix %q", email, want)
	}
	if want := ", 15 chars›"; !strings.HasSuffix(cUserPixel, want) {
		t.Errorf("c_user pseudonym = %q, want the length hint %q", cUserPixel, want)
	}

	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(&buf, r, TableOptions{Width: 400}); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{cUser, xsValue, datr, frValue, fbp, fbc, emailSHA, phoneSHA, gaCID, "s3cr3tT0ken", "jane%40example.com", "jane@example.com"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("redacted output contains secret %q", secret)
		}
	}
	for _, visible := range []string{"divorce+lawyer", "diabetes-type-2", "1234567890", "G-ABC123"} {
		if !strings.Contains(buf.String(), visible) {
			t.Errorf("redacted output lacks non-secret %q", visible)
		}
	}
}

func TestShowSecrets(t *testing.T) {
	r := sampleReport(t, Options{ShowSecrets: true})
	if got := findLeak(t, r, "news.example", "cookie c_user"); got != cUser {
		t.Errorf("c_user with ShowSecrets = %q, want %q", got, cUser)
	}
	if got := r.Sites[1].Pages[0].URL; got != shopPage.URL {
		t.Errorf("page URL with ShowSecrets = %q, want %q", got, shopPage.URL)
	}
	if !r.SecretsShown {
		t.Error("SecretsShown = false, want true")
	}
}

// TestRedactURLAndText covers the redaction of URLs (secret query values,
// passwords) and of free text such as page titles (e-mail addresses,
// JWTs); with secrets shown both stay as they are.
func TestRedactURLAndText(t *testing.T) {
	url, text := (*redactor).url, (*redactor).text
	tests := []struct {
		redact   func(*redactor, string) string
		in, want string
	}{
		{url, "https://a.example/p?q=shoes&page=2", "https://a.example/p?q=shoes&page=2"},
		{url, "https://a.example/p?access_token=abc&x=1", "https://a.example/p?access_token=‹secret-1, 3 chars›&x=1"},
		{url, "https://a.example/p?apiKey=abc", "https://a.example/p?apiKey=‹secret-1, 3 chars›"},
		{url, "https://a.example/p?api_key=abc", "https://a.example/p?api_key=‹secret-1, 3 chars›"},
		{url, "https://a.example/p?keyword=abc", "https://a.example/p?keyword=abc"},
		{url, "https://a.example/p?u=me%40mail.example", "https://a.example/p?u=‹secret-1, 15 chars›"},
		{url, "https://u:pw@a.example/p", "https://u:‹secret-1, 2 chars›@a.example/p"},
		{url, "https://a.example/p?session=x#frag", "https://a.example/p?session=‹secret-1, 1 chars›#frag"},
		{url, "not a url ?token=x", "not a url ?token=x"},
		{text, "Senator hid health scandal – The Daily Planet", "Senator hid health scandal – The Daily Planet"},
		{text, "Inbox (3) - jane.doe@example.com - Mail", "Inbox (3) - ‹secret-1, 20 chars› - Mail"},
		{text, "Account <jane.doe@example.com>: settings", "Account <‹secret-1, 20 chars›>: settings"},
		{text, "  spaced   words  ", "  spaced   words  "},
		{text, "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "token ‹secret-1, 41 chars›"},
	}
	for _, tt := range tests {
		if got := tt.redact(newRedactor(false), tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := tt.redact(newRedactor(true), tt.in); got != tt.in {
			t.Errorf("redact(%q) with secrets shown = %q, want it unchanged", tt.in, got)
		}
	}
}

func TestSiteFilter(t *testing.T) {
	tests := []struct {
		site      string
		wantSites string
		wantReqs  int
	}{
		{"", "news.example,shop.example,(unattributed)", 14},
		{"shop.example", "shop.example", 2},
		{"www.news.example", "news.example", 11},
		{"elsewhere.example", "", 0},
	}
	for _, tt := range tests {
		r := sampleReport(t, Options{Site: tt.site})
		var names []string
		for _, s := range r.Sites {
			names = append(names, s.Site)
		}
		if got := strings.Join(names, ","); got != tt.wantSites {
			t.Errorf("Site %q: sites = %q, want %q", tt.site, got, tt.wantSites)
		}
		if r.Totals.Exchanges != tt.wantReqs {
			t.Errorf("Site %q: exchanges = %d, want %d", tt.site, r.Totals.Exchanges, tt.wantReqs)
		}
	}
}

func TestAggregation(t *testing.T) {
	r := sampleReport(t, Options{})
	news := r.Sites[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"requests", news.Requests, 11},
		{"first party", news.FirstParty, 3},
		{"third party", news.ThirdParty, 8},
		{"pages", len(news.Pages), 2},
		{"page 1 title sanitized", news.Pages[0].Title, "Living with diabetes"},
		{"top company", news.Trackers[0].Company, "Meta"},
		{"Meta requests", news.Trackers[0].Requests, 4},
		{"top third party", news.ThirdParties[0], ThirdParty{Site: "facebook.com", Requests: 4, Tracker: true}},
		{"events", len(news.Events), 3},
		{"PageView count", news.Events[0].Count, 2},
		{"Purchase details", news.Events[1].Details, `value 129.99 EUR, content ids ["sku-42"]`},
		{"personal data", news.PersonalData[0].What + " " + news.PersonalData[0].Encoding, "email sha256"},
		{"click ids", len(news.ClickIDs), 1},
		{"replays", len(news.Replays), 1},
		{"errors", news.Errors[0].Host, "ads.badcert.example"},
		{"news insecure", news.Insecure, false},
		{"shop insecure", r.Sites[1].Insecure, true},
		{"report insecure", r.Insecure, true},
		{"contact", r.Sites[2].Contacts[0], Contact{Host: "analytics.tiktok.com", Via: "tls-sni", Company: "TikTok", Product: "TikTok Pixel", Count: 1}},
		{"companies", r.Totals.Companies, 3},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	render := func(reverse bool) string {
		b := NewBuilder(Options{})
		exs := sampleExchanges()
		if reverse {
			for i, j := 0, len(exs)-1; i < j; i, j = i+1, j-1 {
				exs[i], exs[j] = exs[j], exs[i]
			}
		}
		for _, e := range exs {
			b.Add(e)
		}
		var buf bytes.Buffer
		if err := WriteJSON(&buf, b.Report()); err != nil {
			t.Fatal(err)
		}
		if err := WriteTable(&buf, b.Report(), TableOptions{Color: true}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	first := render(false)
	for i := 0; i < 5; i++ {
		if got := render(false); got != first {
			t.Fatalf("run %d differs from the first run", i+2)
		}
	}
	// Pseudonym numbers follow the sorted report, not arrival order.
	if got := render(true); got != first {
		t.Errorf("report depends on the order exchanges were added")
	}
}

// TestNoRetainedBodies checks that a value cut out of a large body (as
// traffic.Params does) does not keep the body alive in the Builder, also
// when a later exchange repeats a value the report already holds: a map
// assignment stores the key it is given, so a row keyed by that
// exchange's substring would keep its body alive.
func TestNoRetainedBodies(t *testing.T) {
	b := NewBuilder(Options{})
	for i := range 2 {
		body := strings.Repeat("x", 1<<20) + "secretvalue"
		wBody := weak.Make(unsafe.StringData(body))
		e := sampleExchanges()[2]
		e.Findings = append(e.Findings, traffic.Finding{Kind: traffic.KindHashedPII, Severity: traffic.SeverityHigh, Company: "Meta",
			Evidence: []traffic.Evidence{{Where: "form:ud[em]", Label: "email (sha256)", Value: body[1<<20:], Secret: true}}})
		wEx := weak.Make(e)
		b.Add(e)
		e, body = nil, ""
		runtime.GC()
		runtime.GC()
		if wEx.Value() != nil {
			t.Errorf("exchange %d: Builder keeps the exchange reachable", i)
		}
		if wBody.Value() != nil {
			t.Errorf("exchange %d: Builder keeps the request body reachable through a substring", i)
		}
	}
	r := b.Report()
	if got := r.Sites[0].PersonalData[0].Value; !strings.HasPrefix(got, "‹secret-") {
		t.Errorf("personal data value = %q, want a pseudonym", got)
	}
	runtime.KeepAlive(b)
}

// TestBuilderCloaked checks the site's list of trackers behind DNS
// aliases: a request and a contact whose tracker was named by the host's
// alias are counted on one row; a host that is an alias of a CDN, with
// no such finding, is not listed.
func TestBuilderCloaked(t *testing.T) {
	page := &traffic.Page{URL: "https://news.example/a", Site: "news.example", By: "document"}
	cloaked := func(kind traffic.Kind) traffic.Finding {
		return traffic.Finding{Kind: kind, Severity: traffic.SeverityLow, Company: "Adobe", Product: "Analytics", Category: "analytics",
			RuleID: "adobe-analytics", Summary: "Adobe · Analytics (analytics) behind smetrics.news.example",
			Evidence: []traffic.Evidence{{Where: "url", Label: "matched", Value: "host omtrdc.net"},
				{Where: "dns:cname", Label: "DNS alias of", Value: "smetrics.news.example → news.example.ssl.sc.omtrdc.net"}}}
	}
	beacon := ex(1, "https://smetrics.news.example/b/ss/x/1/JS-2.22.0/s1", page, cloaked(traffic.KindTracker))
	contact := ex(2, "https://smetrics.news.example/", page, cloaked(traffic.KindContact))
	contact.HostOnly, contact.Via, contact.Response = true, "tls-sni", nil
	cdn := ex(3, "https://www.news.example/app.js", page)
	for _, e := range []*traffic.Exchange{beacon, contact, cdn} {
		e.CNAME = "news.example.ssl.sc.omtrdc.net"
	}
	cdn.CNAME = "news.example.cdn.cloudflare.net"
	b := NewBuilder(Options{})
	for _, e := range []*traffic.Exchange{beacon, contact, cdn} {
		b.Add(e)
	}
	r := b.Report()
	want := []Cloaked{{Host: "smetrics.news.example", CNAME: "news.example.ssl.sc.omtrdc.net", Company: "Adobe", Product: "Analytics", Count: 2}}
	if len(r.Sites) != 1 || !reflect.DeepEqual(r.Sites[0].Cloaked, want) {
		t.Errorf("cloaked %+v, want %+v", r.Sites, want)
	}
}
