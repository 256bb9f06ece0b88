package traffic

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParams(t *testing.T) {
	tests := []struct {
		name      string
		url, ct   string
		body      string
		want      []Param
		wantCount int // when > 0, only the number of params is checked
	}{
		{
			name: "query in order with duplicates and brackets",
			url:  "https://www.facebook.com/tr?id=123456789012345&ev=PageView&cd%5Bvalue%5D=9.99&ev=Dup&flag",
			want: []Param{
				{"query:id", "id", "123456789012345"}, {"query:ev", "ev", "PageView"},
				{"query:cd[value]", "cd[value]", "9.99"}, {"query:ev", "ev", "Dup"}, {"query:flag", "flag", ""},
			},
		},
		{
			name: "bad escape keeps the good pairs",
			url:  "https://t.example/p?a=1&b=%zz&c=%E2%9C%93&d=50%",
			want: []Param{{"query:a", "a", "1"}, {"query:b", "b", "%zz"}, {"query:c", "c", "✓"}, {"query:d", "d", "50%"}},
		},
		{
			name: "form body",
			url:  "https://t.example/collect", ct: "application/x-www-form-urlencoded; charset=UTF-8",
			body: "email=jane.doe%40example.com&q=a+b",
			want: []Param{{"form:email", "email", "jane.doe@example.com"}, {"form:q", "q", "a b"}},
		},
		{
			name: "JSON nested paths, sorted keys, arrays, numbers, bools, null dropped",
			url:  "https://analytics.tiktok.com/api/v2/pixel", ct: "application/json",
			body: `{"event":"ViewContent","context":{"page":{"url":"https://news.example/a"},"user":{"email":"ab12"}},"n":[1,true,null],"big":12345678901234567890}`,
			want: []Param{
				{"body:$.big", "big", "12345678901234567890"},
				{"body:$.context.page.url", "url", "https://news.example/a"},
				{"body:$.context.user.email", "email", "ab12"},
				{"body:$.event", "event", "ViewContent"},
				{"body:$.n[0]", "n", "1"}, {"body:$.n[1]", "n", "true"},
			},
		},
		{
			name: "JSON sniffed under text/plain (sendBeacon)",
			url:  "https://t.example/b", ct: "text/plain;charset=UTF-8",
			body: ` [{"k":"v"}]`,
			want: []Param{{"body:$[0].k", "k", "v"}},
		},
		{
			name: "GA4 batched body: one form per line",
			url:  "https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&en=page_view", ct: "text/plain;charset=UTF-8",
			body: "en=page_view&_et=1\nen=scroll&epn.percent_scrolled=90\n",
			want: []Param{
				{"query:v", "v", "2"}, {"query:tid", "tid", "G-ABC123"}, {"query:en", "en", "page_view"},
				{"form[0]:en", "en", "page_view"}, {"form[0]:_et", "_et", "1"},
				{"form[1]:en", "en", "scroll"}, {"form[1]:epn.percent_scrolled", "epn.percent_scrolled", "90"},
			},
		},
		{
			name: "broken JSON yields no body params",
			url:  "https://t.example/?a=1", ct: "application/json", body: `{"a":`,
			want: []Param{{"query:a", "a", "1"}},
		},
		{
			name: "binary body of another type is ignored",
			url:  "https://t.example/", ct: "image/gif", body: "GIF89a\x01\x00",
		},
		{
			name:      "hostile query is bounded",
			url:       "https://t.example/?" + strings.Repeat("a=1&", maxParams+100),
			wantCount: maxParams,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			r := &Request{Method: "POST", URL: u, Header: http.Header{}}
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			if tc.body != "" {
				r.Body = []byte(tc.body)
			}
			got := Params(r)
			if tc.wantCount > 0 {
				if len(got) != tc.wantCount {
					t.Errorf("got %d params, want %d", len(got), tc.wantCount)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d params %q\nwant %d %q", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("param %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestExchangeMemo checks the per-exchange accessors: the same results as
// the functions they remember, on every call, and a caller appending to a
// returned slice does not change what the next caller gets.
func TestExchangeMemo(t *testing.T) {
	tests := []struct {
		name, url, ct, body, cookie string
		wantHost, wantSite          string
		wantQuery, wantAll          int
	}{
		{name: "query only", url: "https://www.facebook.com/tr?id=1&ev=PageView", cookie: "_fbp=fb.1.2; c_user=7",
			wantHost: "www.facebook.com", wantSite: "facebook.com", wantQuery: 2, wantAll: 2},
		{name: "query and form body", url: "http://t.example/c?v=2", ct: "application/x-www-form-urlencoded", body: "a=1&b=2",
			wantHost: "t.example", wantSite: "t.example", wantQuery: 1, wantAll: 3},
		{name: "JSON body, no query", url: "https://[::1]:8443/e", ct: "application/json", body: `{"a":{"b":1},"c":"x"}`,
			wantHost: "::1", wantSite: "::1", wantQuery: 0, wantAll: 2},
		{name: "nothing", url: "https://a.example/", wantHost: "a.example", wantSite: "a.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			if tc.ct != "" {
				h.Set("Content-Type", tc.ct)
			}
			if tc.cookie != "" {
				h.Set("Cookie", tc.cookie)
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			ex := &Exchange{Request: Request{Method: "POST", URL: u, Header: h, Body: body}}
			want := Params(&ex.Request)
			wantCookies := ParseCookieHeader(tc.cookie)
			for call := 1; call <= 2; call++ {
				if got := ex.Host(); got != tc.wantHost {
					t.Errorf("call %d: Host() = %q, want %q", call, got, tc.wantHost)
				}
				if got := ex.Site(); got != tc.wantSite {
					t.Errorf("call %d: Site() = %q, want %q", call, got, tc.wantSite)
				}
				if got := ex.Cookies(); !slices.Equal(got, wantCookies) {
					t.Errorf("call %d: Cookies() = %q, want %q", call, got, wantCookies)
				}
				all, query := ex.Params(), ex.QueryParams()
				if !slices.Equal(all, want) || len(all) != tc.wantAll {
					t.Errorf("call %d: Params() = %q, want %d: %q", call, all, tc.wantAll, want)
				}
				if len(query) != tc.wantQuery || !slices.Equal(query, want[:tc.wantQuery]) {
					t.Errorf("call %d: QueryParams() = %q, want the first %d of %q", call, query, tc.wantQuery, want)
				}
				// A detector appending to what it got must not write into
				// the shared slices.
				_ = append(query, Param{Where: "x:clobber", Name: "clobber"})
				_ = append(all, Param{Where: "x:clobber", Name: "clobber"})
				_ = append(ex.Cookies(), Cookie{Name: "clobber"})
			}
		})
	}
}

func TestGet(t *testing.T) {
	ps := []Param{{"query:a", "a", "1"}, {"form:a", "a", "2"}, {"query:b", "b", ""}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{{"a", "1", true}, {"b", "", true}, {"c", "", false}} {
		if got, ok := Get(ps, tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParams checks that Params never panics, stays bounded and names
// every parameter's place.
func FuzzParams(f *testing.F) {
	f.Add("id=1&ev=PageView&dl=https%3A%2F%2Fa.example%2F", "", []byte(nil))
	f.Add("v=2&tid=G-X", "text/plain", []byte("en=page_view\nen=scroll&epn.x=%zz"))
	f.Add("", "application/json", []byte(`{"a":{"b":[1,"x",{"c":null}]}}`))
	f.Add("a=%", "application/x-www-form-urlencoded", []byte("b=%zz&&=&c"))
	f.Add("", "text/plain; charset=\"", []byte("[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]"))
	f.Fuzz(func(t *testing.T, query, ct string, body []byte) {
		r := &Request{URL: &url.URL{Scheme: "https", Host: "t.example", RawQuery: query}, Header: http.Header{"Content-Type": {ct}}, Body: body}
		ps := Params(r)
		// Each source (query, then body) is bounded separately.
		if len(ps) > 2*maxParams {
			t.Fatalf("%d params, want at most %d", len(ps), 2*maxParams)
		}
		// The per-exchange accessors give the same, twice.
		ex := &Exchange{Request: *r}
		for range 2 {
			if got := ex.Params(); !slices.Equal(got, ps) {
				t.Fatalf("ex.Params() = %q, want Params(r) = %q", got, ps)
			}
			if got, want := ex.QueryParams(), ParseQuery("query", query); !slices.Equal(got, want) {
				t.Fatalf("ex.QueryParams() = %q, want ParseQuery = %q", got, want)
			}
		}
		for _, p := range ps {
			if !strings.HasPrefix(p.Where, "query:") && !strings.HasPrefix(p.Where, "form") && !strings.HasPrefix(p.Where, "body:$") {
				t.Fatalf("param %+v: Where has no known prefix", p)
			}
		}
		if utf8.ValidString(query) && !strings.Contains(query, "%") && !strings.Contains(query, "+") {
			// Without escapes, every name in the query comes back verbatim.
			for _, pair := range strings.Split(query, "&") {
				if pair == "" {
					continue
				}
				name, _, _ := strings.Cut(pair, "=")
				if _, ok := Get(ps, name); !ok && len(ps) < maxParams {
					t.Fatalf("query name %q lost: %q", name, ps)
				}
			}
		}
	})
}
