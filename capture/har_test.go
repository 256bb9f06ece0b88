package capture

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/traffic"
)

// readHARFile reads path with ReadHAR and returns every exchange.
func readHARFile(t testing.TB, path string) ([]*traffic.Exchange, HARStats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var exs []*traffic.Exchange
	st, err := ReadHAR(f, filepath.Base(path), func(ex *traffic.Exchange) error {
		exs = append(exs, ex)
		return nil
	})
	return exs, st, err
}

// TestReadHARFixtures reads every shared real-world HAR. The expected
// counts were taken once by inspection (python's json module: len of
// log.entries and log.pages; requests with a Cookie header or, failing
// that, a non-empty cookies[]; responses with status 0).
func TestReadHARFixtures(t *testing.T) {
	tests := []struct {
		file                            string
		entries, pages, cookies, noResp int
		creator                         string
	}{
		{"mitmproxy-charles.har", 1, 0, 0, 0, "Charles Proxy 4.6.3"},
		{"mitmproxy-chrome.har", 3, 1, 1, 1, "WebInspector 537.36"},
		{"mitmproxy-firefox.har", 14, 1, 0, 0, "Firefox 111.0.1"},
		{"mitmproxy-head-content-length.har", 1, 1, 0, 0, "Firefox 111.0.1"},
		{"mitmproxy-insomnia.har", 1, 0, 0, 0, "Insomnia REST Client insomnia.desktop.app:v2022.1.1"},
		{"mitmproxy-postdata.har", 1, 0, 0, 0, "WebInspector 537.36"},
		{"mitmproxy-safari.har", 19, 1, 0, 0, "WebKit Web Inspector 1.0"},
		{"mitmproxy-with-bom.har", 1, 0, 0, 0, "WebInspector 537.36"},
		{"perfcascade-browsertime_sitespeed.io.har", 27, 3, 0, 0, "Browsertime 1.0"},
		{"perfcascade-capture-har_cnn.har", 2, 0, 0, 0, "capture-har 0.3.2"},
		{"perfcascade-capture-har_redirect-loop.har", 11, 0, 0, 0, "capture-har 0.3.2"},
		{"perfcascade-chrome_enorm-magazin.de.har", 65, 1, 41, 0, "WebInspector 537.36"},
		{"perfcascade-chrome_github.com_home.har", 20, 1, 7, 0, "WebInspector 537.36"},
		{"perfcascade-chrome_h2_www.nghttp2.org.har", 11, 1, 0, 1, "WebInspector 537.36"},
		{"perfcascade-firefox_h2_filamentgroup.com.har", 15, 1, 6, 5, "Firefox 54.0"},
		{"perfcascade-firefox_www.nghttp2.org.har", 10, 1, 0, 1, "Firefox 54.0"},
	}
	dir := fixtures.Dir(t, "har")
	if got, want := len(fixtures.Files(t, "har", ".har")), len(tests); got != want {
		t.Errorf("shared fixtures hold %d HAR files, table covers %d: add the new ones", got, want)
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			exs, st, err := readHARFile(t, filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatalf("ReadHAR: %v", err)
			}
			if st.Entries != tc.entries || len(exs) != tc.entries || st.Skipped != 0 {
				t.Errorf("entries = %d (fn saw %d, skipped %d %q), want %d, 0 skipped", st.Entries, len(exs), st.Skipped, st.SkipReasons, tc.entries)
			}
			if st.Pages != tc.pages {
				t.Errorf("pages = %d, want %d", st.Pages, tc.pages)
			}
			if st.CookieHeaders != tc.cookies {
				t.Errorf("CookieHeaders = %d, want %d", st.CookieHeaders, tc.cookies)
			}
			if st.Creator != tc.creator {
				t.Errorf("Creator = %q, want %q", st.Creator, tc.creator)
			}
			noResp := 0
			for i, ex := range exs {
				if ex.ID != int64(i+1) || ex.Source != tc.file {
					t.Errorf("exchange %d: ID %d Source %q, want %d %q", i, ex.ID, ex.Source, i+1, tc.file)
				}
				if ex.Request.URL == nil || ex.Request.URL.Scheme == "" || ex.Request.URL.Host == "" {
					t.Errorf("exchange %d: URL %v is not absolute", ex.ID, ex.Request.URL)
				}
				for k := range ex.Request.Header {
					if strings.HasPrefix(k, ":") {
						t.Errorf("exchange %d: pseudo-header %q left in Header", ex.ID, k)
					}
				}
				if ex.Response == nil {
					noResp++
				}
			}
			if noResp != tc.noResp {
				t.Errorf("exchanges without response = %d, want %d", noResp, tc.noResp)
			}
		})
	}
}

func TestReadHARFixtureDetails(t *testing.T) {
	dir := fixtures.Dir(t, "har")

	t.Run("h2 pseudo-headers", func(t *testing.T) {
		exs, _, err := readHARFile(t, filepath.Join(dir, "perfcascade-chrome_h2_www.nghttp2.org.har"))
		if err != nil {
			t.Fatal(err)
		}
		ex := exs[0]
		if got, want := ex.Request.URL.String(), "https://www.nghttp2.org/"; got != want {
			t.Errorf("URL = %q, want %q", got, want)
		}
		if got, want := ex.Request.Proto, "HTTP/2.0"; got != want {
			t.Errorf("Proto = %q, want %q (httpVersion unknown, pseudo-headers present)", got, want)
		}
		if got := ex.Request.Header.Get("User-Agent"); !strings.Contains(got, "Chrome/58") {
			t.Errorf("User-Agent = %q, want the lower-case user-agent header canonicalised", got)
		}
		if ex.PageRef == "" || ex.PageTitle == "" {
			t.Errorf("PageRef %q PageTitle %q: want both from pages[] listed before entries", ex.PageRef, ex.PageTitle)
		}
	})

	t.Run("BOM", func(t *testing.T) {
		exs, st, err := readHARFile(t, filepath.Join(dir, "mitmproxy-with-bom.har"))
		if err != nil || st.Entries != 1 {
			t.Fatalf("ReadHAR = %d entries, %v; want 1, nil", st.Entries, err)
		}
		if exs[0].Request.Method != "POST" || len(exs[0].Request.Body) == 0 {
			t.Errorf("got %s with %d body bytes, want a POST with a body", exs[0].Request.Method, len(exs[0].Request.Body))
		}
	})

	t.Run("postData", func(t *testing.T) {
		exs, _, err := readHARFile(t, filepath.Join(dir, "mitmproxy-postdata.har"))
		if err != nil {
			t.Fatal(err)
		}
		r := exs[0].Request
		if !bytes.HasPrefix(r.Body, []byte(`{"metadata":{"pageViewId":1689428126308`)) {
			t.Errorf("body starts %q, want the Sovrn beacon JSON", r.Body[:min(40, len(r.Body))])
		}
		if got, want := r.Header.Get("Content-Type"), "text/plain;charset=UTF-8"; got != want {
			t.Errorf("Content-Type = %q, want %q", got, want)
		}
		ps := traffic.Params(&r)
		if v, ok := traffic.Get(ps, "domain"); !ok || v != "reqbin.com" {
			t.Errorf("Params domain = %q, %v; want reqbin.com from the JSON body", v, ok)
		}
	})
}

func TestReadHARTestdata(t *testing.T) {
	t.Run("bad URL skipped", func(t *testing.T) {
		exs, st, err := readHARFile(t, "testdata/har/bad-url.har")
		if err != nil {
			t.Fatal(err)
		}
		var urls []string
		for _, ex := range exs {
			urls = append(urls, ex.Request.URL.String())
		}
		if got, want := strings.Join(urls, " "), "https://first.example/a https://first.example/c"; got != want {
			t.Errorf("kept %q, want %q", got, want)
		}
		if st.Skipped != 3 || len(st.SkipReasons) != 3 {
			t.Fatalf("Skipped = %d reasons %q, want 3", st.Skipped, st.SkipReasons)
		}
		for i, want := range []string{"entry 2: bad URL", "entry 3: bad URL", "entry 4: "} {
			if !strings.HasPrefix(st.SkipReasons[i], want) {
				t.Errorf("reason %d = %q, want prefix %q", i, st.SkipReasons[i], want)
			}
		}
		if exs[1].ID != 2 || exs[1].Response == nil || exs[1].Response.Status != 204 {
			t.Errorf("second kept exchange: ID %d response %+v, want ID 2 and status 204 from the string \"204\"", exs[1].ID, exs[1].Response)
		}
	})

	t.Run("nulls", func(t *testing.T) {
		exs, st, err := readHARFile(t, "testdata/har/nulls.har")
		if err != nil || st.Entries != 3 {
			t.Fatalf("ReadHAR = %d entries (%q), %v; want 3, nil", st.Entries, st.SkipReasons, err)
		}
		if exs[0].Request.Method != "GET" || exs[0].Response != nil || !exs[0].Start.IsZero() {
			t.Errorf("entry 1: method %q response %v start %v; want GET, nil, zero", exs[0].Request.Method, exs[0].Response, exs[0].Start)
		}
		if exs[1].Response != nil || exs[1].Request.Header.Get("Cookie") != "" {
			t.Errorf("entry 2: response %v cookie %q; want nil and none", exs[1].Response, exs[1].Request.Header.Get("Cookie"))
		}
		if exs[2].Response == nil || exs[2].Response.Status != 200 || exs[2].Response.Body != nil {
			t.Errorf("entry 3: response %+v, want status 200 and no body", exs[2].Response)
		}
	})

	t.Run("base64 body", func(t *testing.T) {
		exs, _, err := readHARFile(t, "testdata/har/base64-body.har")
		if err != nil {
			t.Fatal(err)
		}
		b := exs[0].Response.Body
		if len(b) != 43 || !bytes.HasPrefix(b, []byte("GIF89a")) {
			t.Errorf("body = %d bytes %q…, want the 43-byte GIF", len(b), b[:min(6, len(b))])
		}
		if exs[0].Request.Proto != "HTTP/2.0" {
			t.Errorf("Proto = %q, want HTTP/2.0", exs[0].Request.Proto)
		}
		if !strings.Contains(exs[1].Error, "not valid base64") {
			t.Errorf("broken base64: Error = %q, want it explained", exs[1].Error)
		}
	})

	t.Run("cookies only in cookies[]", func(t *testing.T) {
		exs, st, err := readHARFile(t, "testdata/har/cookies-array.har")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := exs[0].Request.Header.Get("Cookie"), "c_user=100012345678901; fr=0abc.def"; got != want {
			t.Errorf("synthesised Cookie = %q, want %q", got, want)
		}
		if got, want := exs[1].Request.Header.Get("Cookie"), "datr=header-wins"; got != want {
			t.Errorf("Cookie = %q, want the header %q kept", got, want)
		}
		if st.CookieHeaders != 2 {
			t.Errorf("CookieHeaders = %d, want 2", st.CookieHeaders)
		}
		if got, want := string(exs[2].Request.Body), "email=jane.doe%40example.com&q=a+b%26c"; got != want {
			t.Errorf("form body from params = %q, want %q", got, want)
		}
		if exs[2].Response != nil {
			t.Errorf("status 0: Response = %+v, want nil", exs[2].Response)
		}
	})
}

func TestReadHARFatal(t *testing.T) {
	tests := []struct {
		file    string
		entries int
		want    string
	}{
		{"not-json.har", 0, `not-json.har: not a HAR file: not JSON (invalid character '<' looking for beginning of value at byte offset 1)`},
		{"no-log.har", 0, `no-log.har: not a HAR file: no "log" object`},
		{"no-entries.har", 0, `no-entries.har: not a HAR file: no "log.entries" array`},
		{"truncated.har", 3, `truncated.har: truncated JSON after 3 entries (byte offset 812): unexpected EOF`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			exs, st, err := readHARFile(t, filepath.Join("testdata/har", tc.file))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant %s", err, tc.want)
			}
			if st.Entries != tc.entries || len(exs) != tc.entries {
				t.Errorf("entries = %d, fn saw %d, want %d (read before the failure)", st.Entries, len(exs), tc.entries)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		_, err := ReadHAR(strings.NewReader(""), "e.har", func(*traffic.Exchange) error { return nil })
		if err == nil || err.Error() != "e.har: not a HAR file: empty" {
			t.Errorf("error = %v, want e.har: not a HAR file: empty", err)
		}
	})
	t.Run("fn error stops", func(t *testing.T) {
		stop := errors.New("stop here")
		n := 0
		_, err := ReadHAR(mustOpen(t, "testdata/har/bad-url.har"), "b.har", func(*traffic.Exchange) error { n++; return stop })
		if err != stop || n != 1 {
			t.Errorf("error = %v after %d calls, want the fn's own error after 1", err, n)
		}
	})
}

func mustOpen(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestSanitizedHARWarning(t *testing.T) {
	w := SanitizedHARWarning("site.har")
	for _, want := range []string{"site.har has no Cookie headers", "sanitized", "Allow to generate HAR with sensitive data"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q lacks %q", w, want)
		}
	}
	if strings.Contains(w, "\n") {
		t.Errorf("warning %q spans lines, want one", w)
	}
}

func TestReadHARBodyCap(t *testing.T) {
	big := strings.Repeat("a", traffic.BodyCap+10)
	har := `{"log":{"entries":[{"request":{"method":"POST","url":"https://x.example/","postData":{"text":"` + big + `"}},"response":{"status":200,"content":{"text":"` + big + `"}}}]}}`
	var ex *traffic.Exchange
	if _, err := ReadHAR(strings.NewReader(har), "big.har", func(e *traffic.Exchange) error { ex = e; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ex.Request.Body) != traffic.BodyCap || !ex.Request.BodyTruncated || len(ex.Response.Body) != traffic.BodyCap || !ex.Response.BodyTruncated {
		t.Errorf("bodies %d/%v and %d/%v, want %d and truncated", len(ex.Request.Body), ex.Request.BodyTruncated, len(ex.Response.Body), ex.Response.BodyTruncated, traffic.BodyCap)
	}
}

func FuzzReadHAR(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/har/*.har")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\xef\xbb\xbf{\"log\":{\"pages\":[{\"id\":\"p\",\"title\":1}],\"entries\":[{\"pageref\":\"p\",\"request\":{\"url\":\"\",\"headers\":[{\"name\":\":authority\",\"value\":\"a.example\"}]}}]}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		st, err := ReadHAR(bytes.NewReader(b), "fuzz.har", func(ex *traffic.Exchange) error {
			n++
			if ex.Request.URL == nil || ex.Request.URL.Host == "" {
				t.Fatalf("exchange without absolute URL: %v", ex.Request.URL)
			}
			return nil
		})
		if st.Entries != n {
			t.Fatalf("Entries %d, fn called %d times", st.Entries, n)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.har: ") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}

// BenchmarkReadHAR measures throughput over the largest shared fixture.
func BenchmarkReadHAR(b *testing.B) {
	var biggest string
	var size int64
	for _, p := range fixtures.Files(b, "har", ".har") {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			biggest, size = p, fi.Size()
		}
	}
	data, err := os.ReadFile(biggest)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadHAR(bytes.NewReader(data), "bench.har", func(*traffic.Exchange) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExampleNewsSite reads the project's own example capture (made by
// examples/gen) and checks that attribution puts every request, the
// trackers and the request from inside the Like iframe included, on the
// article page.
func TestExampleNewsSite(t *testing.T) {
	const article = "https://www.dailyplanet.example/politics/2026/11/senator-health-scandal?utm_source=newsletter&email=jane.doe%40example.com"
	exs, st, err := readHARFile(t, filepath.Join("..", "examples", "news-site.har"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 11 || st.Skipped != 0 || st.Pages != 1 || st.CookieHeaders != 6 {
		t.Errorf("stats %+v, want 11 entries, 0 skipped, 1 page, 6 with cookies", st)
	}
	a := traffic.NewAttributor()
	wantBy := []string{"document", "pageref", "pageref", "pageref", "pageref", "pageref", "pageref", "pageref", "pageref", "pageref", "pageref"}
	for i, ex := range exs {
		a.Attribute(ex)
		if ex.Page == nil || ex.Page.URL != article || ex.Page.Site != "dailyplanet.example" || !strings.HasPrefix(ex.Page.Title, "Senator hid") {
			t.Errorf("exchange %d (%s): page %+v, want the article", ex.ID, ex.Request.URL, ex.Page)
			continue
		}
		if ex.Page.By != wantBy[i] {
			t.Errorf("exchange %d (%s): by %q, want %q", ex.ID, ex.Request.URL, ex.Page.By, wantBy[i])
		}
	}
	// Without the HAR pageref the same capture must still land on the
	// article: by Referer (full or origin-only), the page URL the
	// trackers carry, the iframe and recency.
	a = traffic.NewAttributor()
	wantBy = []string{"document", "referer", "referer", "referer", "referer", "referer", "page-url", "referer", "initiator", "page-url", "page-url"}
	for i, ex := range exs {
		ex.Page, ex.PageRef = nil, ""
		a.Attribute(ex)
		if ex.Page == nil || ex.Page.URL != article || ex.Page.By != wantBy[i] {
			t.Errorf("no pageref: exchange %d (%s): page %+v, want the article by %q", ex.ID, ex.Request.URL, ex.Page, wantBy[i])
		}
	}
}
