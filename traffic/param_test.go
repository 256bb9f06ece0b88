package traffic

import (
	"net/http"
	"net/url"
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
