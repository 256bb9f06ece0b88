package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The shop example is written by examples/gen (shop.go); these are its
// planted values. The hashes were computed with python's hashlib.
const (
	shopExample  = "../../examples/shop-checkout.har"
	shopEmail    = "jane.doe@example.com"                                             // as tags normalise it
	shopTyped    = "Jane.Doe@Example.com"                                             // as the shopper typed it
	shopEmailSHA = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d" // sha256(shopEmail)
	shopEmailMD5 = "0cba00ca3da1b283a57287bcceb17e35"
	shopEmptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // sha256("")
	shopUndefSHA = "eb045d78d273107348b0300c01d29b7552d622abbc6faf81b3ec55359aa9950c" // sha256("undefined")
	shopPIIEmail = "email=Jane.Doe@Example.com"
	shopPIIPhone = "phone=+1 555 010 2030"
)

// shopReport is the part of the JSON report (reports/SCHEMA.md) the shop
// tests read.
type shopReport struct {
	Sites []struct {
		Site  string `json:"site"`
		Leaks []struct {
			Kind  string `json:"kind"`
			Where string `json:"where"`
			Value string `json:"value"`
		} `json:"leaks"`
		Events []struct {
			Company string `json:"company"`
			Product string `json:"product"`
			Event   string `json:"event"`
			Details string `json:"details"`
		} `json:"events"`
		PersonalData []struct {
			What     string `json:"what"`
			Encoding string `json:"encoding"`
			Company  string `json:"company"`
			Where    string `json:"where"`
			Value    string `json:"value"`
		} `json:"personal_data"`
		SessionReplay []struct {
			Company string `json:"company"`
			Product string `json:"product"`
			Summary string `json:"summary"`
		} `json:"session_replay"`
	} `json:"sites"`
}

// analyzeShop runs the real CLI on the shop example and decodes its JSON
// report, which must hold exactly the shop's site.
func analyzeShop(t *testing.T, args ...string) (shopReport, string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, append(append([]string{"analyze", "--format", "json"}, args...), shopExample)...)
	if code != 0 {
		t.Fatalf("analyze %q: exit %d, stderr %q", args, code, stderr)
	}
	var r shopReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	if len(r.Sites) != 1 || r.Sites[0].Site != "example-store.example" {
		t.Fatalf("sites = %d, want only example-store.example", len(r.Sites))
	}
	return r, stdout
}

// personalRows lists the site's personal-data rows about what as
// "company | where | encoding", sorted.
func personalRows(r shopReport, what string) []string {
	var out []string
	for _, p := range r.Sites[0].PersonalData {
		if p.What == what {
			out = append(out, p.Company+" | "+p.Where+" | "+p.Encoding)
		}
	}
	sort.Strings(out)
	return out
}

// diffRows reports rows missing from got and rows got has beyond want.
func diffRows(t *testing.T, label string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing row %q", label, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: unexpected row %q", label, g)
		}
	}
}

// hashedKnownFields are the rows the payload decoders report on their own
// (KindHashedPII), with or without --pii.
var hashedKnownEmail = []string{
	"Google | form[2]:em | sha256", // GA4 user-provided data, base64url of the SHA-256
	"Meta | query:ud[em] | sha256",
	"Pinterest | query:pd[em] | sha256",
	"Reddit | query:em | sha256",
	"Segment | body:$.context.traits.email | plain text",
	"Snap | form:u_hem | sha256",
	"TikTok | body:$.context.user.email | sha256",
	"X | query:events[0][email_address] | sha256",
}

var hashedKnownPhone = []string{
	"Google | form[2]:em | sha256", // pn. inside the em parameter
	"Snap | form:u_hpn | sha256",
	"TikTok | body:$.context.user.phone_number | sha256",
}

// TestAnalyzeShopPII is the end-to-end proof that every major pixel's
// payload is decoded and that --pii finds the planted e-mail in every
// channel and encoding of the shop example.
func TestAnalyzeShopPII(t *testing.T) {
	r, raw := analyzeShop(t, "--pii", shopPIIEmail, "--pii", shopPIIPhone)
	s := r.Sites[0]

	t.Run("events per vendor", func(t *testing.T) {
		want := []struct{ company, product, event, details string }{
			{"Google", "Google Analytics 4", "purchase", "SKU-CUT-45"},
			{"Google", "Google Analytics 4", "page_view", ""},
			{"TikTok", "Pixel", "CompletePayment", "129.99 USD"},
			{"TikTok", "Pixel", "Pageview", ""},
			{"Snap", "Pixel", "PURCHASE", "129.99 USD"},
			{"Pinterest", "Tag", "checkout", "129.99 USD"},
			{"Reddit", "Pixel", "Purchase", "SO-1042"},
			{"X", "Pixel", "purchase", "129.99 USD"},
			{"Meta", "Pixel", "Purchase", "129.99 USD"},
			{"Segment", "Analytics.js", "Order Completed", "SO-1042"},
			{"Mixpanel", "Analytics", "Appointment Booked", ""},
		}
		for _, w := range want {
			found := false
			for _, e := range s.Events {
				found = found || e.Company == w.company && e.Product == w.product && e.Event == w.event && strings.Contains(e.Details, w.details)
			}
			if !found {
				t.Errorf("no %s %s event %q with details containing %q", w.company, w.product, w.event, w.details)
			}
		}
	})

	t.Run("session replay", func(t *testing.T) {
		if len(s.SessionReplay) != 1 {
			t.Fatalf("%d session-replay rows, want 1 (Clarity)", len(s.SessionReplay))
		}
		sr := s.SessionReplay[0]
		if sr.Company != "Microsoft" || sr.Product != "Clarity" || !strings.Contains(sr.Summary, "keystrokes/form input") {
			t.Errorf("session replay = %+v, want Microsoft Clarity recording keystrokes/form input", sr)
		}
	})

	t.Run("email in every channel and encoding", func(t *testing.T) {
		planted := []string{
			// URL path, query (double URL-encoded, case-folded; raw base64).
			"HubSpot | url | plain",
			"Awin | query:p1 | URL-encoded",
			"Awin | query:p1 (URL-decoded) | plain",
			"Awin | query:p2 | base64",
			"Awin | query:p2 (base64) | plain",
			// Base64 JSON in a parameter, a custom header, a cookie.
			"Klaviyo | query:data (base64) › $.properties.$email | plain",
			"Klaviyo | header:X-Klaviyo-Email | plain",
			"Klaviyo | cookie:kl_email | URL-encoded",
			"Klaviyo | cookie:kl_email (URL-decoded) | plain",
			// MD5, SHA-1 and SHA-256 side by side.
			"LiveIntent | query:e | md5",
			"LiveIntent | query:e | sha1",
			"LiveIntent | query:e | sha256",
			// Multipart, JSON bodies, JSON in a JSON string, base64 batch.
			"HubSpot | multipart:email | plain",
			"Segment | body:$.context.traits.email | plain",
			"Amplitude | body:$.events[0].user_id | plain",
			"Amplitude | body:$.events[0].event_properties.form_state › $.email | plain",
			"Mixpanel | form:data (base64) › $[0].properties.email | plain",
			"Mixpanel | form:data (base64) › $[1].properties.email | plain",
			// The gzip-compressed session-replay upload (decoded text).
			"Microsoft | body:$.p[1][3] | plain",
			// Pixels: form, query, JSON in a parameter, JSON body, batch line.
			"Snap | form:u_hem | sha256",
			"Reddit | query:em | sha256",
			"Meta | query:ud[em] | sha256",
			"Pinterest | query:pd › $.em | sha256",
			"X | query:events › $[0][1].email_address | sha256",
			"TikTok | body:$.context.user.email | sha256",
			"Google | form[2]:em | sha256, base64",
		}
		want := append(slices.Clone(planted), hashedKnownEmail...)
		diffRows(t, "email rows", personalRows(r, "email"), want)
		diffRows(t, "phone rows", personalRows(r, "phone"), hashedKnownPhone)
	})

	t.Run("redacted by default", func(t *testing.T) {
		for _, secret := range []string{shopEmail, shopTyped, "jane.doe%40example.com", shopEmailSHA, shopEmailMD5} {
			if strings.Contains(strings.ToLower(raw), strings.ToLower(secret)) {
				t.Errorf("default report contains the secret %q", secret)
			}
		}
		for _, p := range s.PersonalData {
			if !strings.HasPrefix(p.Value, "‹") {
				t.Errorf("personal data at %s is not a pseudonym: %q", p.Where, p.Value)
			}
		}
	})
}

// TestAnalyzeShopNoEmptyHashes: the hashes of blank fields (Meta ud[ph],
// Reddit pn, TikTok's PageView phone_number) are never personal data, with
// or without --pii; values are shown so the test sees them.
func TestAnalyzeShopNoEmptyHashes(t *testing.T) {
	// The hashes must be in the capture for this test to mean anything.
	har, err := os.ReadFile(shopExample)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{shopEmptySHA, shopUndefSHA} {
		if !strings.Contains(string(har), h) {
			t.Fatalf("%s lacks the blank-field hash %s: regenerate it with go run ./examples/gen", shopExample, h)
		}
	}
	for _, args := range [][]string{
		{"--show-secrets"},
		{"--show-secrets", "--pii", shopPIIEmail, "--pii", shopPIIPhone},
	} {
		r, raw := analyzeShop(t, args...)
		for _, p := range r.Sites[0].PersonalData {
			if p.Value == shopEmptySHA || p.Value == shopUndefSHA || p.Where == "query:ud[ph]" || p.Where == "query:pn" {
				t.Errorf("%q: blank-field hash reported as personal data: %+v", args, p)
			}
		}
		for _, l := range r.Sites[0].Leaks {
			if (l.Kind == "hashed-pii" || l.Kind == "pii") && (l.Value == shopEmptySHA || l.Value == shopUndefSHA) {
				t.Errorf("%q: blank-field hash in the leak ledger: %+v", args, l)
			}
		}
		if !strings.Contains(raw, shopEmailSHA) {
			t.Errorf("%q: --show-secrets hides the e-mail hash", args)
		}
	}
}

// TestAnalyzeShopWithoutPII: with no --pii the decoders still report the
// hashed fields they know, nothing is reported as a watched value, and
// secrets stay redacted unless --show-secrets.
func TestAnalyzeShopWithoutPII(t *testing.T) {
	r, raw := analyzeShop(t)
	diffRows(t, "email rows", personalRows(r, "email"), hashedKnownEmail)
	diffRows(t, "phone rows", personalRows(r, "phone"), hashedKnownPhone)
	for _, l := range r.Sites[0].Leaks {
		if l.Kind == "pii" {
			t.Errorf("watched-value row without --pii: %+v", l)
		}
	}
	for _, secret := range []string{shopEmail, shopEmailSHA} {
		if strings.Contains(raw, secret) {
			t.Errorf("default report contains the secret %q", secret)
		}
	}
	_, shown := analyzeShop(t, "--show-secrets")
	for _, secret := range []string{shopEmail, shopEmailSHA} {
		if !strings.Contains(shown, secret) {
			t.Errorf("--show-secrets report lacks %q", secret)
		}
	}
}

// TestAnalyzeShopTable is a smoke check of the terminal table with --pii:
// it runs, names the vendors and events, and prints no secret.
func TestAnalyzeShopTable(t *testing.T) {
	stdout, stderr, code := runCLI(t, "analyze", "--color", "never", "--width", "120", "--pii", shopPIIEmail, shopExample)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"example-store.example", "Clarity", "session recording", "TikTok", "CompletePayment",
		"email as sha256", "email as plain", "email as md5", "email as sha1", "email as base64", "email as URL-encoded"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	for _, secret := range []string{shopEmail, shopTyped, shopEmailSHA} {
		if strings.Contains(stdout, secret) {
			t.Errorf("table prints the secret %q", secret)
		}
	}
}

// BenchmarkAnalyzeShopPII measures one whole analyze run of the shop
// example (read, detect, report as JSON), without and with two watched
// values, so the cost of --pii shows.
func BenchmarkAnalyzeShopPII(b *testing.B) {
	for _, bc := range []struct {
		name string
		pii  []string
	}{
		{"no-pii", nil},
		{"email+phone", []string{"--pii", shopPIIEmail, "--pii", shopPIIPhone}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			args := append(append([]string{"analyze", "--format", "json"}, bc.pii...), shopExample)
			for b.Loop() {
				var stdout, stderr strings.Builder
				if err := run(context.Background(), args, &stdout, &stderr); err != nil {
					b.Fatalf("%v: %s", err, stderr.String())
				}
			}
		})
	}
}
