package capture

import (
	"bufio"
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestScanHTTPHead(t *testing.T) {
	tests := []struct {
		name    string
		resp    bool
		in      string
		wantErr error
		want    httpHead // URL compared as URLString; Header as given
		url     string
	}{
		{name: "request, lower-case names", in: "GET /tr/?id=1&dl=x HTTP/1.1\r\nhost: www.facebook.com\r\nuser-agent: UA\r\nsec-ch-ua: \"Chromium\"\r\nX-custom-NAME:  v \r\nCookie: a=1\r\n\r\n",
			want: httpHead{Method: "GET", Target: "/tr/?id=1&dl=x", Host: "www.facebook.com", Proto: "HTTP/1.1", Length: -1,
				Header: http.Header{"User-Agent": {"UA"}, "Sec-Ch-Ua": {`"Chromium"`}, "X-Custom-Name": {"v"}, "Cookie": {"a=1"}}},
			url: "/tr/?id=1&dl=x"},
		{name: "absolute form wins over Host", in: "GET http://a.example/x HTTP/1.1\r\nHost: other.example\r\n\r\n",
			want: httpHead{Method: "GET", Target: "http://a.example/x", Host: "a.example", Proto: "HTTP/1.1", Length: -1, Header: http.Header{}},
			url:  "http://a.example/x"},
		{name: "connect authority form", in: "CONNECT a.example:443 HTTP/1.1\r\n\r\n",
			want: httpHead{Method: "CONNECT", Target: "a.example:443", Host: "a.example:443", Proto: "HTTP/1.1", Length: -1, Header: http.Header{}},
			url:  "//a.example:443"},
		{name: "bare LF, repeated names, folding", in: "POST /p HTTP/1.0\nCookie: a=1\nCookie: b=2\nX-Long: one\n\t two \nContent-Length: 3\n\n",
			want: httpHead{Method: "POST", Target: "/p", Proto: "HTTP/1.0", Length: 3,
				Header: http.Header{"Cookie": {"a=1", "b=2"}, "X-Long": {"one two"}, "Content-Length": {"3"}}},
			url: "/p"},
		{name: "equal Content-Lengths merged", in: "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
			want: httpHead{Method: "POST", Target: "/", Proto: "HTTP/1.1", Length: 5, Header: http.Header{"Content-Length": {"5"}}}, url: "/"},
		{name: "chunked request drops Content-Length", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
			want: httpHead{Method: "POST", Target: "/", Proto: "HTTP/1.1", Length: -1, TE: true, Chunked: true, Header: http.Header{}}, url: "/"},
		{name: "transfer-encoding ignored in HTTP/1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n",
			want: httpHead{Method: "POST", Target: "/", Proto: "HTTP/1.0", Length: 2, Header: http.Header{"Content-Length": {"2"}}}, url: "/"},
		{name: "response", resp: true, in: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 10\r\n\r\n",
			want: httpHead{Proto: "HTTP/1.1", Status: 200, Length: 10,
				Header: http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"a=1", "b=2"}, "Content-Length": {"10"}}}},
		{name: "response without reason", resp: true, in: "HTTP/1.1 204\r\n\r\n",
			want: httpHead{Proto: "HTTP/1.1", Status: 204, Length: -1, Header: http.Header{}}},
		{name: "response gzip then chunked", resp: true, in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
			want: httpHead{Proto: "HTTP/1.1", Status: 200, Length: -1, TE: true, Chunked: true, Header: http.Header{}}},
		{name: "response coding not chunked: until close", resp: true, in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\n",
			want: httpHead{Proto: "HTTP/1.1", Status: 200, Length: -1, TE: true, Header: http.Header{"Content-Length": {"4"}}}},

		{name: "request TE without chunked", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: errHeadRequestTE},
		{name: "conflicting Content-Length", in: "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", wantErr: errHeadLength},
		{name: "signed Content-Length", in: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", wantErr: errHeadLength},
		{name: "huge Content-Length", in: "POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", wantErr: errHeadLength},
		{name: "two Host headers", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", wantErr: errHeadHosts},
		{name: "fold first", in: "GET / HTTP/1.1\r\n X: y\r\n\r\n", wantErr: errHeadFold},
		{name: "space in name", in: "GET / HTTP/1.1\r\nBad Name: y\r\n\r\n", wantErr: errHeadField},
		{name: "no colon", in: "GET / HTTP/1.1\r\nnocolon\r\n\r\n", wantErr: errHeadField},
		{name: "empty name", in: "GET / HTTP/1.1\r\n: y\r\n\r\n", wantErr: errHeadField},
		{name: "control byte in value", in: "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", wantErr: errHeadField},
		{name: "bad version", in: "GET / HTTP/11\r\n\r\n", wantErr: errHeadVersion},
		{name: "bad method", in: "G(T / HTTP/1.1\r\n\r\n", wantErr: errHeadMethod},
		{name: "two words", in: "GET /\r\n\r\n", wantErr: errHeadLine},
		{name: "bad target", in: "GET a%zz HTTP/1.1\r\n\r\n", wantErr: errHeadURL},
		{name: "short status", resp: true, in: "HTTP/1.1 20 OK\r\n\r\n", wantErr: errHeadStatus},
		{name: "status letters", resp: true, in: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: errHeadStatus},
		{name: "status line alone", resp: true, in: "HTTP/1.1\r\n\r\n", wantErr: errHeadLine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got httpHead
			err := scanHTTPHead([]byte(tt.in), tt.resp, &got)
			if err != tt.wantErr {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			gotURL := ""
			if got.URL != nil {
				gotURL = got.URL.String()
			}
			if gotURL != tt.url {
				t.Errorf("URL = %q, want %q", gotURL, tt.url)
			}
			got.URL = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("head =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestCanonicalKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"content-type", "Content-Type"}, {"CONTENT-LENGTH", "Content-Length"}, {"sec-ch-ua-platform", "Sec-Ch-Ua-Platform"},
		{"x-my-header", "X-My-Header"}, {"X-My-Header", "X-My-Header"}, {"etag", "Etag"}, {"a-", "A-"},
		{"x-a-very-long-header-name-beyond-the-common-table", "X-A-Very-Long-Header-Name-Beyond-The-Common-Table"},
	}
	for _, tt := range tests {
		got, ok := canonicalKey(tt.in)
		if !ok || got != tt.want || got != http.CanonicalHeaderKey(tt.in) {
			t.Errorf("canonicalKey(%q) = %q, %v; want %q, true (net/http: %q)", tt.in, got, ok, tt.want, http.CanonicalHeaderKey(tt.in))
		}
	}
	for _, bad := range []string{"a b", "a:b", "é", "a\x00"} {
		if _, ok := canonicalKey(bad); ok {
			t.Errorf("canonicalKey(%q) accepted a name that is not a token", bad)
		}
	}
}

// FuzzHTTPScanner checks that scanHTTPHead never panics and that when
// both it and net/http accept a header block, they read the same
// message: method, target, version, status, host and headers.
func FuzzHTTPScanner(f *testing.F) {
	for _, s := range []string{
		"GET /tr/?id=1 HTTP/1.1\r\nhost: www.facebook.com\r\nCookie: a=1\r\nReferer: https://shop.example/\r\n\r\n",
		"POST /g/collect HTTP/1.1\r\nHost: www.google-analytics.com\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\n",
		"GET http://a.example/ HTTP/1.0\nX: one\n two\n\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: /x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.0 204\n\n",
	} {
		f.Add([]byte(s), strings.HasPrefix(s, "HTTP/"))
	}
	f.Fuzz(func(t *testing.T, data []byte, resp bool) {
		var h httpHead
		err := scanHTTPHead(data, resp, &h)
		if err != nil {
			return
		}
		if h.Header == nil {
			t.Fatal("accepted head without a Header map")
		}
		if h.Length < -1 || (h.Chunked && !h.TE) {
			t.Fatalf("inconsistent framing: Length %d, TE %v, Chunked %v", h.Length, h.TE, h.Chunked)
		}
		for k := range h.Header {
			if c, ok := canonicalKey(k); !ok || c != k {
				t.Fatalf("header key %q is not canonical", k)
			}
		}
		// Only messages net/http accepts too are compared: the scanner is
		// deliberately more lenient in places (Transfer-Encoding lists on
		// responses).
		br := bufio.NewReader(bytes.NewReader(data))
		var want http.Header
		if resp {
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				return
			}
			if res.StatusCode != h.Status || res.Proto != h.Proto {
				t.Fatalf("status %d %q, net/http %d %q", h.Status, h.Proto, res.StatusCode, res.Proto)
			}
			want = res.Header
		} else {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if req.Method != h.Method || req.RequestURI != h.Target || req.Proto != h.Proto || req.Host != h.Host {
				t.Fatalf("request %q %q %q host %q, net/http %q %q %q host %q",
					h.Method, h.Target, h.Proto, h.Host, req.Method, req.RequestURI, req.Proto, req.Host)
			}
			if req.URL.String() != h.URL.String() {
				t.Fatalf("URL %q, net/http %q", h.URL, req.URL)
			}
			want = req.Header
		}
		// net/http adds Cache-Control: no-cache for Pragma: no-cache (a
		// header that was not sent) and keeps raw multi-line folds that
		// differ in inner whitespace only; compare the rest.
		if _, sent := h.Header["Cache-Control"]; !sent {
			delete(want, "Cache-Control")
		}
		got := maps.Clone(h.Header)
		for k, vs := range want {
			for i := range vs {
				vs[i] = strings.Join(strings.Fields(vs[i]), " ")
			}
			if gv, ok := got[k]; ok {
				for i := range gv {
					gv[i] = strings.Join(strings.Fields(gv[i]), " ")
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("headers\n%q\nnet/http\n%q", got, want)
		}
	})
}

// FuzzRequestTarget checks that whenever parseOriginForm takes a request
// target, url.ParseRequestURI accepts it and makes the same URL.
func FuzzRequestTarget(f *testing.F) {
	for _, s := range []string{
		"/", "/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fshop.example%2F", "/p?", "/p??", "/p?a?b", "/a%20b", "/a b",
		"//x/y", "/a#f", "/é?q=é", "/x?\x7f", "*", "http://a.example/x", "/a;b,c=d:e@f$g&h+i~j_k-l.m",
		"/!'()*", "/[x]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		var got url.URL
		if !parseOriginForm(target, &got) {
			return
		}
		want, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("parseOriginForm(%q) took a target url.ParseRequestURI refuses: %v", target, err)
		}
		if got != *want {
			t.Fatalf("parseOriginForm(%q) =\n%#v\nurl.ParseRequestURI:\n%#v", target, got, *want)
		}
	})
}

func TestParseOriginForm(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want url.URL
	}{
		{"/", true, url.URL{Path: "/"}},
		{"/tr/?id=1&dl=https%3A%2F%2Fa", true, url.URL{Path: "/tr/", RawQuery: "id=1&dl=https%3A%2F%2Fa"}},
		{"/p?", true, url.URL{Path: "/p", ForceQuery: true}},
		{"/p??", true, url.URL{Path: "/p", RawQuery: "?"}},
		{"//x/y", true, url.URL{Path: "//x/y"}},
		{"/a%20b", false, url.URL{}}, // escaped path: url.ParseRequestURI sets RawPath
		{"/a#f", false, url.URL{}},
		{"/x?\x00", false, url.URL{}},
		{"http://a.example/", false, url.URL{}},
		{"*", false, url.URL{}},
		{"", false, url.URL{}},
	}
	for _, tt := range tests {
		var got url.URL
		ok := parseOriginForm(tt.in, &got)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("parseOriginForm(%q) = %#v, %v; want %#v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			if want, err := url.ParseRequestURI(tt.in); err != nil || *want != got {
				t.Errorf("parseOriginForm(%q) = %#v; url.ParseRequestURI: %#v, %v", tt.in, got, want, err)
			}
		}
	}
}

// BenchmarkParseOriginForm parses a tracker beacon's target: a short
// path and a long query, the common shape in captures.
func BenchmarkParseOriginForm(b *testing.B) {
	target := "/tr/?id=1234567890&ev=PageView&dl=https%3A%2F%2Fshop.example%2Fproducts%2Fblue-widget%3Fref%3Dnewsletter&rl=https%3A%2F%2Fwww.google.com%2F&if=false&ts=1700000000000&cd[content_ids]=%5B%22sku-123%22%5D&cd[value]=19.99&cd[currency]=EUR&sw=1920&sh=1080&v=2.9.140&r=stable&ec=0&o=4126&fbp=fb.1.1700000000000.1234567890&it=1700000000000&coo=false&rqm=GET"
	var u url.URL
	b.SetBytes(int64(len(target)))
	for b.Loop() {
		if !parseOriginForm(target, &u) {
			b.Fatal("refused")
		}
	}
}
