package capture

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/traffic"
)

func init() {
	// Other test files of this package define -update too; whoever runs
	// first registers it.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// harUpdate reports whether -update was given.
func harUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// harSample is a small hand-built capture with secrets in every
// place WriteHAR must redact.
func harSample(t testing.TB) []*traffic.Exchange {
	t.Helper()
	mustURL := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	page := &traffic.Page{URL: "https://www.dailyplanet.example/", Site: "dailyplanet.example", By: "document"}
	return []*traffic.Exchange{
		{
			ID: 1, Start: start, Page: page,
			Request: traffic.Request{Method: "GET", URL: mustURL("https://www.dailyplanet.example/"), Proto: "HTTP/2.0",
				Header: http.Header{"Cookie": {"_fbp=fb.1.1732800000000.1234567890; _ga=GA1.1.987654321.1732800000"}, "Sec-Fetch-Dest": {"document"}}},
			Response: &traffic.Response{Status: 200, Proto: "HTTP/2.0",
				Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Set-Cookie": {"sid=s3cr3t; Path=/; HttpOnly", "lang=en"}},
				Body:   []byte("<!doctype html><title>Daily Planet</title>")},
		},
		{
			ID: 2, Start: start.Add(time.Second), Page: page, Error: "upstream: connection reset",
			Request: traffic.Request{Method: "POST", URL: mustURL("https://api.example/v1/login?next=%2Fhome&x=1&access_token=tok123&em=jane%40example.com"), Proto: "HTTP/1.1",
				Header: http.Header{"Authorization": {"Bearer eyJhbGciOi.secret"}, "Proxy-Authorization": {"opaque"}, "Content-Type": {"application/json"},
					"X-Api-Key": {"k3y"}, "Referer": {"https://www.dailyplanet.example/account?session=sess42&tab=2"}},
				Body: []byte(`{"user":"jane","password":"hunter2","n":12345678901234567890}`)},
		},
		{
			ID: 3, Start: start.Add(2 * time.Second), Page: page, CNAME: "img.example.edgesuite.net",
			Request:  traffic.Request{Method: "GET", URL: mustURL("https://img.example/p.gif"), Header: http.Header{}},
			Response: &traffic.Response{Status: 200, Header: http.Header{"Content-Type": {"image/gif"}}, Body: []byte("GIF89a\x01\x00\x01\x00\x80\xff")},
		},
		{ID: 4, HostOnly: true, Via: "tls-sni", Request: traffic.Request{URL: mustURL("https://sni-only.example/")}},
	}
}

func writeSample(t *testing.T, exs []*traffic.Exchange, opts HARWriteOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHAR(&buf, slices.Values(exs), opts); err != nil {
		t.Fatalf("WriteHAR: %v", err)
	}
	return buf.Bytes()
}

func TestWriteHARGolden(t *testing.T) {
	got := writeSample(t, harSample(t), HARWriteOptions{Creator: "trackaudit", CreatorVersion: "test"})
	golden := filepath.Join("testdata", "har", "written.golden.har")
	if harUpdate() {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("WriteHAR output differs from %s (go test -update rewrites it)\ngot:\n%s", golden, got)
	}
	if !json.Valid(got) {
		t.Errorf("output is not valid JSON")
	}
}

func TestWriteHARRedaction(t *testing.T) {
	tests := []struct {
		secrets   bool
		want, not []string
	}{
		{
			secrets: false,
			want: []string{`"_fbp=REDACTED; _ga=REDACTED"`, `"sid=REDACTED; Path=/; HttpOnly"`, `"lang=REDACTED"`,
				`"Bearer REDACTED"`, `{"name":"Proxy-Authorization","value":"REDACTED"}`, `{"name":"_fbp","value":"REDACTED"}`,
				`{"name":"sid","value":"REDACTED"}`, `{"name":"X-Api-Key","value":"REDACTED"}`,
				`"url":"https://api.example/v1/login?next=%2Fhome&x=1&access_token=REDACTED&em=REDACTED"`,
				`{"name":"access_token","value":"REDACTED"}`, `{"name":"next","value":"/home"}`,
				`"https://www.dailyplanet.example/account?session=REDACTED&tab=2"`,
				`{\"n\":12345678901234567890,\"password\":\"REDACTED\",\"user\":\"jane\"}`,
				`"comment":"response body left out of a redacted export"`},
			not: []string{"1234567890\"", "987654321", "s3cr3t", "eyJhbGciOi", "opaque", "tok123", "jane%40example.com", "jane@example.com",
				"sess42", "k3y", "hunter2", "<!doctype", "GIF89a"},
		},
		{
			secrets: true,
			want:    []string{"fb.1.1732800000000.1234567890", "sid=s3cr3t; Path=/; HttpOnly", "Bearer eyJhbGciOi.secret", `{"name":"_ga","value":"GA1.1.987654321.1732800000"}`},
			not:     []string{"REDACTED"},
		},
	}
	for _, tc := range tests {
		out := string(writeSample(t, harSample(t), HARWriteOptions{ShowSecrets: tc.secrets}))
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("ShowSecrets=%v: output lacks %s", tc.secrets, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("ShowSecrets=%v: output contains %q", tc.secrets, n)
			}
		}
	}
}

// summary is what a round trip must keep of an exchange.
type summary struct {
	Method, URL, Proto string
	Header             http.Header
	Body               string
	Status             int
	RespHeader         http.Header
	RespBody           string
	PageRef, Error     string
}

func summarise(ex *traffic.Exchange, pageref bool) summary {
	s := summary{Method: ex.Request.Method, URL: ex.Request.URL.String(), Proto: ex.Request.Proto,
		Header: ex.Request.Header, Body: string(ex.Request.Body), Error: ex.Error}
	if pageref {
		s.PageRef = ex.PageRef
	}
	if ex.Response != nil {
		s.Status, s.RespHeader, s.RespBody = ex.Response.Status, ex.Response.Header, string(ex.Response.Body)
	}
	return s
}

func TestWriteHARRoundTrip(t *testing.T) {
	t.Run("sample", func(t *testing.T) {
		in := harSample(t)
		out := readBack(t, writeSample(t, in, HARWriteOptions{ShowSecrets: true}))
		if len(out) != 3 {
			t.Fatalf("read back %d exchanges, want 3 (the host-only contact is not written)", len(out))
		}
		for i, ex := range out {
			got, want := summarise(ex, false), summarise(in[i], false)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("exchange %d:\ngot  %+v\nwant %+v", i+1, got, want)
			}
			if ex.PageRef != "page_1" || !ex.Start.Equal(in[i].Start) || ex.CNAME != in[i].CNAME {
				t.Errorf("exchange %d: pageref %q start %v cname %q, want page_1, %v and %q", i+1, ex.PageRef, ex.Start, ex.CNAME, in[i].Start, in[i].CNAME)
			}
		}
	})
	// Every shared fixture survives write-then-read with method, URL,
	// headers, bodies and pageref intact.
	for _, path := range fixtures.Files(t, "har", ".har") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			in, _, err := readHARFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			out := readBack(t, writeSample(t, in, HARWriteOptions{ShowSecrets: true}))
			if len(out) != len(in) {
				t.Fatalf("read back %d exchanges, want %d", len(out), len(in))
			}
			for i := range in {
				got, want := summarise(out[i], true), summarise(in[i], true)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("exchange %d:\ngot  %+v\nwant %+v", i+1, got, want)
				}
			}
		})
	}
}

func readBack(t *testing.T, b []byte) []*traffic.Exchange {
	t.Helper()
	var out []*traffic.Exchange
	st, err := ReadHAR(bytes.NewReader(b), "written.har", func(ex *traffic.Exchange) error {
		out = append(out, ex)
		return nil
	})
	if err != nil || st.Skipped != 0 {
		t.Fatalf("ReadHAR of written HAR: %v, skipped %q", err, st.SkipReasons)
	}
	return out
}

// BenchmarkWriteHAR measures writing the largest shared fixture back out.
func BenchmarkWriteHAR(b *testing.B) {
	var biggest string
	var size int64
	for _, p := range fixtures.Files(b, "har", ".har") {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			biggest, size = p, fi.Size()
		}
	}
	exs, _, err := readHARFile(b, biggest)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteHAR(&buf, slices.Values(exs), HARWriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteHARPagesFirst checks that pages given up front are written
// before the entries, so ReadHAR gives entries their page title.
func TestWriteHARPagesFirst(t *testing.T) {
	exs := harSample(t)
	for _, ex := range exs {
		ex.PageRef = "p1"
	}
	tests := []struct {
		pages     []HARPage
		wantTitle string
	}{
		{nil, ""}, // pages after entries: the streaming reader cannot know titles
		{[]HARPage{{ID: "p1", Title: "Daily Planet", Start: exs[0].Start}}, "Daily Planet"},
	}
	for _, tc := range tests {
		b := writeSample(t, exs, HARWriteOptions{Pages: tc.pages})
		pagesAt, entriesAt := bytes.Index(b, []byte(`"pages"`)), bytes.Index(b, []byte(`"entries"`))
		if (tc.pages != nil) != (pagesAt < entriesAt) {
			t.Errorf("Pages=%v: pages at byte %d, entries at %d", tc.pages, pagesAt, entriesAt)
		}
		for _, ex := range readBack(t, b) {
			if ex.PageRef != "p1" || ex.PageTitle != tc.wantTitle {
				t.Errorf("Pages=%v: exchange %d pageref %q title %q, want p1 %q", tc.pages, ex.ID, ex.PageRef, ex.PageTitle, tc.wantTitle)
			}
		}
	}
}
