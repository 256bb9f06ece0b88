package detectors

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

func hexSum(h []byte) string { return hex.EncodeToString(h) }

// piiExchange builds a third-party request from a news page.
func piiExchange(t *testing.T, method, rawURL, ct, body string, hdr http.Header) *traffic.Exchange {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if hdr == nil {
		hdr = http.Header{}
	}
	if ct != "" {
		hdr.Set("Content-Type", ct)
	}
	return &traffic.Exchange{
		Request: traffic.Request{Method: method, URL: u, Header: hdr, Body: []byte(body)},
		Page:    &traffic.Page{URL: "https://shop.example/checkout", Site: "shop.example"},
	}
}

func TestPIIWatchFindsEveryChannelAndEncoding(t *testing.T) {
	const email = "Jane.Doe@Example.com"
	norm := "jane.doe@example.com"
	s256 := sha256.Sum256([]byte(norm))
	s1 := sha1.Sum([]byte(norm))
	m5 := md5.Sum([]byte(norm))
	phoneHash := sha256.Sum256([]byte("15550102030"))
	b64 := base64.StdEncoding.EncodeToString([]byte(norm))
	watch := []Watched{{Kind: "email", Value: email}, {Kind: "phone", Value: "+1 (555) 010-2030"}}

	tests := []struct {
		name               string
		ex                 *traffic.Exchange
		wantWhere, wantEnc string // a finding with this place and label suffix must exist
	}{
		{"query plain", piiExchange(t, "GET", "https://t.example/p?em="+url.QueryEscape(norm), "", "", nil), "query:em", "plain"},
		{"query case-folded", piiExchange(t, "GET", "https://t.example/p?e=JANE.DOE%40EXAMPLE.COM", "", "", nil), "query:e", "plain"},
		{"query sha256", piiExchange(t, "GET", "https://www.facebook.com/tr?id=1&ud[em]="+hexSum(s256[:]), "", "", nil), "query:ud[em]", "sha256"},
		{"query sha256 upper", piiExchange(t, "GET", "https://t.example/p?h="+strings.ToUpper(hexSum(s256[:])), "", "", nil), "query:h", "sha256"},
		{"query sha1", piiExchange(t, "GET", "https://t.example/p?h="+hexSum(s1[:]), "", "", nil), "query:h", "sha1"},
		{"query md5", piiExchange(t, "GET", "https://t.example/p?h="+hexSum(m5[:]), "", "", nil), "query:h", "md5"},
		{"query base64", piiExchange(t, "GET", "https://t.example/p?d="+url.QueryEscape(b64), "", "", nil), "query:d", "base64"},
		{"double URL-encoded", piiExchange(t, "GET", "https://t.example/p?u="+url.QueryEscape(url.QueryEscape("https://x.example/?mail="+norm)), "", "", nil), "query:u", "URL-encoded"},
		{"header", piiExchange(t, "GET", "https://t.example/p", "", "", http.Header{"X-User": {norm}}), "header:X-User", "plain"},
		{"cookie", piiExchange(t, "GET", "https://t.example/p", "", "", http.Header{"Cookie": {"a=1; uid=" + url.QueryEscape(norm)}}), "cookie:uid", "URL-encoded"},
		{"form body", piiExchange(t, "POST", "https://t.example/p", "application/x-www-form-urlencoded", "x=1&email="+url.QueryEscape(norm), nil), "form:email", "plain"},
		{"json body", piiExchange(t, "POST", "https://api.segment.io/v1/t", "application/json", `{"context":{"user":{"email":"`+norm+`"}}}`, nil), "body:$.context.user.email", "plain"},
		{"json in a string", piiExchange(t, "POST", "https://t.example/p", "application/json", `{"data":"{\"em\":\"`+norm+`\"}"}`, nil), "body:$.data › $.em", "plain"},
		{"base64 json batch", piiExchange(t, "POST", "https://api-js.mixpanel.com/track", "application/x-www-form-urlencoded", "data="+url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(`[{"properties":{"$email":"`+norm+`"}}]`))), nil), "form:data (base64) › $[0].properties.$email", "plain"},
		{"multipart", piiExchange(t, "POST", "https://t.example/p", "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"ud[em]\"\r\n\r\n"+hexSum(s256[:])+"\r\n--XyZ--\r\n", nil), "multipart:ud[em]", "sha256"},
		{"phone sha256 normalised", piiExchange(t, "GET", "https://analytics.tiktok.com/api/v2/pixel?ph="+hexSum(phoneHash[:]), "", "", nil), "query:ph", "sha256"},
		{"sha256 base64url (GA4 em)", piiExchange(t, "POST", "https://region1.google-analytics.com/g/collect?v=2&tid=G-X", "text/plain", "en=purchase&em=tv.1~em."+base64.RawURLEncoding.EncodeToString(s256[:]), nil), "form:em", "sha256, base64"},
		{"raw body fallback", piiExchange(t, "POST", "https://t.example/p", "application/octet-stream", "\x00\x01"+norm+"\x02", nil), "body", "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewPIIWatch(watch).Detect(tt.ex)
			var places []string
			for _, f := range got {
				if f.Kind != traffic.KindPII || f.Severity != traffic.SeverityHigh {
					t.Errorf("finding kind/severity = %s/%s, want pii/high", f.Kind, f.Severity)
				}
				if strings.Contains(f.Summary, norm) {
					t.Errorf("summary leaks the value: %q", f.Summary)
				}
				e := f.Evidence[0]
				places = append(places, e.Where+" = "+e.Label)
				if e.Where == tt.wantWhere && strings.HasSuffix(e.Label, " as "+tt.wantEnc) && e.Secret {
					return
				}
			}
			t.Errorf("no finding at %q encoded %q; got %q", tt.wantWhere, tt.wantEnc, places)
		})
	}
}

// TestPIIWatchReportsInnermostPlace: a value inside JSON held in a
// parameter is reported where it sits, not also at the whole parameter.
func TestPIIWatchReportsInnermostPlace(t *testing.T) {
	s256 := sha256.Sum256([]byte("jane.doe@example.com"))
	pd := url.QueryEscape(`{"em":"` + hexSum(s256[:]) + `","np":"gtm"}`)
	ex := piiExchange(t, "GET", "https://ct.pinterest.com/v3/?tid=1&event=checkout&pd="+pd, "", "", nil)
	var got []string
	for _, f := range NewPIIWatch([]Watched{{Kind: "email", Value: "jane.doe@example.com"}}).Detect(ex) {
		got = append(got, f.Evidence[0].Where+" = "+f.Evidence[0].Label)
	}
	if want := "query:pd › $.em = email as sha256"; len(got) != 1 || got[0] != want {
		t.Errorf("findings %q, want only %q", got, want)
	}
}

func TestPIIWatchNoFalseFindings(t *testing.T) {
	empty := sha256.Sum256(nil)
	watch := []Watched{{Kind: "email", Value: "jane.doe@example.com"}}
	first := piiExchange(t, "POST", "https://shop.example/login", "application/x-www-form-urlencoded", "email=jane.doe%40example.com", nil)
	tests := []struct {
		name  string
		watch []Watched
		ex    *traffic.Exchange
	}{
		{"empty hash", watch, piiExchange(t, "GET", "https://www.facebook.com/tr?ud[em]="+hexSum(empty[:]), "", "", nil)},
		{"other address", watch, piiExchange(t, "GET", "https://t.example/p?em=john%40example.com", "", "", nil)},
		{"first-party form", watch, first},
		{"nothing watched", nil, piiExchange(t, "GET", "https://t.example/p?em=jane.doe%40example.com", "", "", nil)},
		{"host only", watch, &traffic.Exchange{HostOnly: true, Request: traffic.Request{URL: &url.URL{Scheme: "https", Host: "jane.doe.example.com"}}}},
	}
	for _, tt := range tests {
		if got := NewPIIWatch(tt.watch).Detect(tt.ex); len(got) != 0 {
			t.Errorf("%s: got %d findings, want none: %+v", tt.name, len(got), got)
		}
	}
}

func TestWatchedNormalized(t *testing.T) {
	tests := []struct {
		w    Watched
		want string
	}{
		{Watched{"email", "  Jane.Doe@Example.COM "}, "jane.doe@example.com"},
		{Watched{"phone", "+49 (030) 1234-567"}, "490301234567"},
		{Watched{"name", " Jane "}, "jane"},
		{Watched{"text", " Dr. Who "}, "Dr. Who"},
	}
	for _, tt := range tests {
		if got := tt.w.Normalized(); got != tt.want {
			t.Errorf("%+v.Normalized() = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func FuzzPIIWatch(f *testing.F) {
	f.Add("https://t.example/p?em=jane%40example.com", "application/json", `{"a":"amFuZUBleGFtcGxlLmNvbQ=="}`)
	f.Add("https://t.example/p", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n%25%25\r\n--b--")
	d := NewPIIWatch([]Watched{{Kind: "email", Value: "jane@example.com"}, {Kind: "phone", Value: "+1 555 0100"}})
	f.Fuzz(func(t *testing.T, rawURL, ct, body string) {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return
		}
		ex := &traffic.Exchange{Request: traffic.Request{Method: "POST", URL: u, Header: http.Header{"Content-Type": {ct}}, Body: []byte(body)}}
		for _, f := range d.Detect(ex) {
			if len(f.Evidence) == 0 {
				t.Fatal("finding without evidence")
			}
		}
	})
}
