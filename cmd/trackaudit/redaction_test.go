package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/reports"
	"github.com/trackaudit/trackaudit/traffic"
)

// canaryExchanges are a page and tracker requests carrying canary secrets
// in every place reliability-security.md T15 names: cookies, Set-Cookie,
// Authorization, Proxy-Authorization, token query parameters (in the
// request and in the page URL the Referer carries), a JWT, a JSON body and
// an API key header, and an e-mail address in the page title.
func canaryExchanges() []*traffic.Exchange {
	page := "https://news.example/account?session=CANARY_12"
	doc := &traffic.Exchange{ID: 1, Source: "proxy", Client: "127.0.0.1",
		Request: traffic.Request{Method: "GET", Proto: "HTTP/1.1",
			URL:    mustURL(page),
			Header: http.Header{"Accept": {"text/html"}, "Cookie": {"sid=CANARY_13"}, "Sec-Fetch-Dest": {"document"}}},
		Response: &traffic.Response{Status: 200, Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"sid=CANARY_14; Path=/"}},
			Body:   []byte("<html><title>Account of CANARY_16@x.example</title></html>")},
		// As the live proxy stores it: the page, titled from its HTML.
		Page: &traffic.Page{URL: page, Site: "news.example", Title: "Account of CANARY_16@x.example", By: "document"},
	}
	pixel := &traffic.Exchange{ID: 2, Source: "proxy", Client: "127.0.0.1",
		Request: traffic.Request{Method: "POST", Proto: "HTTP/1.1",
			URL: mustURL("https://www.facebook.com/tr/?id=123&ev=Purchase&token=CANARY_6&access_token=CANARY_7" +
				"&dl=" + url.QueryEscape(page) + "&rl=" + url.QueryEscape("https://mail.example/open?email=CANARY_15%40x.example") +
				"&id_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJDQU5BUllfMTAifQ.c2lnbmF0dXJlQ0FOQVJZ"),
			Header: http.Header{
				"Cookie":              {"fr=CANARY_1; c_user=CANARY_2"},
				"Referer":             {page},
				"Authorization":       {"Bearer CANARY_4"},
				"Proxy-Authorization": {"Basic CANARY_5"},
				"X-Api-Key":           {"CANARY_11"},
				"Content-Type":        {"application/json"},
			},
			Body: []byte(`{"user":{"session":"CANARY_9","password":"CANARY_8"}}`)},
		Response: &traffic.Response{Status: 200, Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"image/gif"}, "Set-Cookie": {"_fbp=CANARY_3; Path=/; Secure"}},
			Body:   []byte("GIF89a")},
	}
	return []*traffic.Exchange{doc, pixel}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

var canaryRE = regexp.MustCompile(`CANARY_[0-9]+|eyJhbGciOiJIUzI1NiJ9\.[A-Za-z0-9_.-]+`)

// TestRedactionCanaries runs every default output over traffic full of
// canary secrets and requires that none of them appears: the table and
// JSON reports of a saved capture, its HAR export, the report of that
// HAR, and everything written to stderr. With --show-secrets the cookie
// values are back, as the user asked.
func TestRedactionCanaries(t *testing.T) {
	db := saveCapture(t, canaryExchanges()...)
	har := filepath.Join(t.TempDir(), "out.har")
	outputs := map[string]string{}
	runs := [][]string{
		{"report", db},
		{"report", db, "--format", "json"},
		{"report", db, "--format", "html"},
		{"export", db, "--har", har},
		{"analyze", har},
		{"analyze", har, "--format", "json", "--pii", "email=CANARY_8@x.example"},
	}
	for _, table := range reports.CSVTables() {
		runs = append(runs, []string{"report", db, "--format", "csv", "--table", table})
	}
	for _, args := range runs {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		name := strings.Join(args, " ")
		outputs[name+" (stdout)"], outputs[name+" (stderr)"] = stdout, stderr
	}
	b, err := os.ReadFile(har)
	if err != nil {
		t.Fatal(err)
	}
	outputs["exported HAR"] = string(b)
	for name, out := range outputs {
		if found := canaryRE.FindAllString(out, -1); len(found) > 0 {
			t.Errorf("%s shows secrets %q", name, found)
		}
	}
	if !strings.Contains(outputs["report "+db+" (stdout)"], "c_user") {
		t.Errorf("the report lost the cookie names; want names without values")
	}

	stdout, _, code := runCLI(t, "report", db, "--show-secrets")
	if code != 0 || !strings.Contains(stdout, "CANARY_1") {
		t.Errorf("--show-secrets: exit %d, cookie value CANARY_1 missing from the report", code)
	}
}
