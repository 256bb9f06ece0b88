package main

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/traffic"
)

// The shop visit's facts, shared with the tests that check the example.
// The shopper typed her e-mail as ShopTypedEmail; tags normalise it to
// ShopEmail before hashing (tracker-facts.md §1.4, §3, §7).
const (
	ShopOrigin     = "https://shop.example-store.example/"
	ShopPageURL    = "https://shop.example-store.example/checkout/appointment/confirmed?order=SO-1042"
	ShopCheckout   = "https://shop.example-store.example/checkout/appointment"
	ShopTitle      = "Appointment booked – Example Store"
	ShopTypedEmail = "Jane.Doe@Example.com"
	ShopEmail      = "jane.doe@example.com"
	ShopPhone      = "+1 555 010 2030"
	ShopPhoneE164  = "+15550102030"
	ShopPageRef    = "page_1"
	ShopOrder      = "SO-1042"
	ShopGA4ID      = "G-SHOP2026X1"
	ShopTikTokCode = "CSHOP7Q3C77U1VKT5ABC"
	ShopSnapID     = "3f6c2b1a-5d4e-4c3b-9a8f-0123456789ab"
	ShopPinTagID   = "2612345678901"
	ShopRedditID   = "a2_shop4u0kbdr3v"
	ShopXTagID     = "o8shp"
	ShopClarityID  = "shp7k2m9q1"
)

// shopVisitStart is when the confirmation page was requested.
var shopVisitStart = time.Date(2026, 3, 14, 9, 30, 12, 0, time.UTC)

func md5hex(s string) string  { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
func sha1hex(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// ShopEmptyHashes are the hashes of blank fields the visit carries (Meta
// ud[ph] = SHA-256 of "", Reddit pn = SHA-256 of "undefined", TikTok's
// PageView phone_number = SHA-256 of ""): none of them is personal data.
var ShopEmptyHashes = []string{sha256hex(""), sha256hex("undefined")}

// builder appends exchanges of one capture with increasing start times.
type builder struct {
	source, pageRef, title string
	at                     time.Time
	exs                    []*traffic.Exchange
}

// add appends one exchange; status 0 means no response was seen.
func (b *builder) add(method, rawURL string, h http.Header, body []byte, status int, ctype string, respBody []byte) {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(fmt.Sprintf("examples/gen: bad URL %q: %v", rawURL, err)) // a bug in this program, not input
	}
	ex := &traffic.Exchange{
		ID: int64(len(b.exs) + 1), Source: b.source, Start: b.at, PageRef: b.pageRef, PageTitle: b.title,
		Request: traffic.Request{Method: method, URL: u, Proto: "HTTP/2.0", Header: h, Body: body},
	}
	if status != 0 {
		rh := http.Header{}
		if ctype != "" {
			rh.Set("Content-Type", ctype)
		}
		ex.Response = &traffic.Response{Status: status, Proto: "HTTP/2.0", Header: rh, Body: respBody}
	}
	b.exs = append(b.exs, ex)
	b.at = b.at.Add(113 * time.Millisecond)
}

// mustJSON encodes v compactly (map keys sorted, so the output is stable).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("examples/gen: %v", err)) // a bug in this program, not input
	}
	return string(b)
}

// ShopExchanges builds the checkout visit, in request order. Each
// tracker request follows the shape documented in tracker-facts.md (the
// section is named next to it) and the decoder goldens under
// detectors/testdata/decoders/.
func ShopExchanges() []*traffic.Exchange {
	b := &builder{source: "shop-checkout.har", pageRef: ShopPageRef, title: ShopTitle, at: shopVisitStart}
	origin := strings.TrimSuffix(ShopOrigin, "/")
	img := func(extra ...string) http.Header {
		return chrome("image", "no-cors", "cross-site", append([]string{
			"Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "Referer", ShopOrigin}, extra...)...)
	}
	fetch := func(ctype string, extra ...string) http.Header {
		h := chrome("empty", "cors", "cross-site", append([]string{"Accept", "*/*", "Origin", origin, "Referer", ShopOrigin}, extra...)...)
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		return h
	}
	emailSHA, phoneSHA := sha256hex(ShopEmail), sha256hex(ShopPhoneE164)
	phoneDigitsSHA := sha256hex(strings.TrimPrefix(ShopPhoneE164, "+"))
	sum := sha256.Sum256([]byte(ShopEmail))
	emailSHAb64url := base64.RawURLEncoding.EncodeToString(sum[:])

	// 1. The confirmation page, after the checkout form was submitted.
	b.add("GET", ShopPageURL, chrome("document", "navigate", "same-origin",
		"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8",
		"Upgrade-Insecure-Requests", "1", "Sec-Fetch-User", "?1", "Referer", ShopCheckout,
		"Cookie", "_ga=GA1.1.555010203.1773480000; _ttp=2dKx9Qm3shopTtpCookie01; _scid=7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d; _pin_unauth=dWlkPU5qWTFOVGN4; _rdt_uuid=1773480000123.9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a; _clck=1x2y3z4%5E2%5Efo1%5E0%5E1900; ajs_anonymous_id=shop-anon-7c1d"),
		nil, 200, "text/html; charset=utf-8",
		[]byte("<!doctype html><html lang=\"en\"><head><title>"+ShopTitle+"</title></head>"+
			"<body><h1>Your appointment is booked</h1><p>Order "+ShopOrder+": haircut and colour, 129.99 USD.</p></body></html>\n"))

	// 2. GA4 (§2.2, §2.3): purchase with an item, batched in one POST with
	// page_view and add_payment_info; user-provided data (em, pn) as
	// enhanced conversions send it (ga4/batched_post golden).
	b.add("POST", "https://region1.google-analytics.com/g/collect?"+encode([]string{
		"v", "2", "tid", ShopGA4ID, "gtm", "45je63c0v9181813176za200", "_p", "1773480612345",
		"gcd", "13l3l3l3l1l1", "npa", "0", "dma", "0", "cid", "555010203.1773480000", "ul", "en-us", "sr", "1920x1080",
		"are", "1", "frm", "0", "pscdl", "noapi", "_s", "2", "sid", "1773480000", "sct", "1", "seg", "1",
		"dl", ShopPageURL, "dr", ShopCheckout, "dt", ShopTitle, "tfd", "2310",
	}), fetch("text/plain;charset=UTF-8"),
		[]byte("en=page_view&_ee=1&_et=12\n"+
			"en=add_payment_info&cu=USD&epn.value=129.99&ep.payment_type=card&_et=1900\n"+
			"en=purchase&_c=1&cu=USD&epn.value=129.99&ep.transaction_id="+ShopOrder+
			"&pr1=idSKU-CUT-45~nmHaircut%20and%20colour~pr129.99~qt1&ec_mode=c&em=tv.1~em."+emailSHAb64url+"~pn."+phoneSHA+"&_et=40"),
		204, "text/plain", nil)

	// 3. TikTok pixel (§3): PageView with a blank phone (SHA-256 of ""),
	// then CompletePayment with hashed e-mail and phone (tiktok goldens).
	tiktok := func(ev, id string, idx int, phone string, props map[string]any) []byte {
		return []byte(mustJSON(map[string]any{
			"event": ev, "event_id": id, "message_id": "messageId-" + id, "timestamp": "2026-03-14T09:30:13.000Z",
			"context": map[string]any{
				"ad":        map[string]any{"jsb_status": 2, "sdk_env": "external"},
				"device":    map[string]any{"platform": "pc"},
				"index":     idx,
				"library":   map[string]any{"name": "pixel.js", "version": "2.2.1"},
				"page":      map[string]any{"url": ShopPageURL, "referrer": ShopCheckout},
				"pixel":     map[string]any{"code": ShopTikTokCode, "codes": ShopTikTokCode, "runtime": "1"},
				"user":      map[string]any{"email": emailSHA, "phone_number": phone, "anonymous_id": "2dKx9Qm3shopTtpCookie01"},
				"userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			},
			"properties": props,
			"signal_diagnostic_labels": map[string]any{
				"hashed_email": map[string]any{"label": "hashed"},
				"hashed_phone": map[string]any{"label": map[bool]string{true: "empty", false: "hashed"}[phone == sha256hex("")]},
			},
		}))
	}
	b.add("POST", "https://analytics.tiktok.com/api/v2/pixel", fetch("application/json"),
		tiktok("Pageview", "1773480613001_pv", 0, sha256hex(""), map[string]any{}), 200, "application/json", []byte(`{"code":0,"message":"OK"}`))
	b.add("POST", "https://analytics.tiktok.com/api/v2/pixel", fetch("application/json"),
		tiktok("CompletePayment", "1773480613102_cp", 1, phoneSHA, map[string]any{
			"value": 129.99, "currency": "USD", "content_id": "SKU-CUT-45",
			"contents": []any{map[string]any{"content_id": "SKU-CUT-45", "quantity": 1, "price": 129.99}},
		}), 200, "application/json", []byte(`{"code":0,"message":"OK"}`))

	// 4. Snap pixel (§7), the form-encoded format: u_hem and u_hpn are
	// SHA-256 of the e-mail and of the phone digits (snap/form_purchase).
	b.add("POST", "https://tr.snapchat.com/p", fetch("application/x-www-form-urlencoded"),
		[]byte(encode([]string{
			"pid", ShopSnapID, "ev", "PURCHASE", "pl", ShopPageURL, "rf", ShopCheckout, "ts", "1773480613210", "v", "1.3",
			"u_hem", emailSHA, "u_hpn", phoneDigitsSHA,
			"e_pr", "129.99", "e_cur", "USD", "e_tid", ShopOrder, "e_iids", `["SKU-CUT-45"]`,
		})), 200, "application/json", []byte(`{}`))

	// 5. Pinterest tag (§6): checkout with ed (event data), pd (partner
	// data: em = SHA-256 e-mail) and ad (automatic data), all JSON.
	b.add("GET", "https://ct.pinterest.com/v3/?"+encode([]string{
		"tid", ShopPinTagID, "event", "checkout",
		"ed", mustJSON(map[string]any{"value": "129.99", "order_quantity": 1, "currency": "USD", "order_id": ShopOrder,
			"line_items": []any{map[string]any{"product_name": "Haircut and colour", "product_id": "SKU-CUT-45", "product_price": "129.99", "product_quantity": 1}}}),
		"pd", mustJSON(map[string]any{"em": emailSHA, "np": "gtm"}),
		"ad", mustJSON(map[string]any{"loc": ShopPageURL, "ref": ShopCheckout, "if": false, "sh": 1080, "sw": 1920, "is_eu": false}),
		"cb", "1773480613320",
	}), img(), nil, 200, "image/gif", gif)

	// 6. Reddit pixel (§8): Purchase; em is the hashed e-mail, pn the
	// SHA-256 of "undefined" (a blank phone) (reddit/lead golden).
	b.add("GET", "https://alb.reddit.com/rp.gif?"+encode([]string{
		"ts", "1773480613431", "id", ShopRedditID, "event", "Purchase",
		"m.itemCount", "1", "m.value", "129.99", "m.valueDecimal", "129.99", "m.currency", "USD",
		"m.transactionId", ShopOrder, "m.conversionId", ShopOrder,
		"uuid", "1773480000123.9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
		"em", emailSHA, "pn", sha256hex("undefined"), "external_id", "", "aaid", "", "idfa", "",
		"integration", "reddit", "opt_out", "0", "sh", "1080", "sw", "1920", "v", "rdt_8a6b6d9e",
	}), img(), nil, 200, "image/gif", gif)

	// 7. X pixel (§5), the events=[[name, data]] form: purchase with the
	// hashed e-mail in the event data.
	b.add("GET", "https://t.co/1/i/adsct?"+encode([]string{
		"bci", "4", "dv", "America/New_York&en-US&Google Inc.&Win32&255&1920&1080&24&24&1920&1040&0&na", "eci", "3",
		"event_id", "8d2f5c1e-2222-4333-8444-555566667777",
		"events", `[["purchase",{"value":"129.99","currency":"USD","num_items":"1","conversion_id":"` + ShopOrder + `","email_address":"` + emailSHA + `"}]]`,
		"integration", "advertiser", "p_id", "Twitter", "p_user_id", "0", "pl_id", "5c4b3a29-1111-4222-8333-444455556666",
		"pt", ShopTitle, "tw_document_href", ShopPageURL, "tw_iframe_status", "0", "txn_id", ShopXTagID,
		"type", "javascript", "version", "2.3.35",
	}), img(), nil, 200, "image/gif", gif)

	// 8. Meta pixel Purchase (§1.2, §1.4): ud[em] the hashed e-mail, ud[ph]
	// the SHA-256 of "" (a blank phone field).
	b.add("GET", "https://www.facebook.com/tr/?"+encode([]string{
		"id", "987650000012345", "ev", "Purchase", "dl", ShopPageURL, "rl", ShopCheckout, "if", "false", "ts", "1773480613540",
		"cd[value]", "129.99", "cd[currency]", "USD", "cd[content_ids]", `["SKU-CUT-45"]`, "cd[content_type]", "product",
		"sw", "1920", "sh", "1080", "v", "2.9.177", "r", "stable", "ec", "1", "o", "4126",
		"fbp", "fb.1.1773480000000.1122334455",
		"ud[em]", emailSHA, "ud[ph]", sha256hex(""),
		"it", "1773480612981", "coo", "false", "rqm", "GET",
	}), img(), nil, 200, "image/gif", gif)

	// 9. Microsoft Clarity upload (§11): the JSON the recorder gzips
	// (Accept: application/x-clarity-gzip; HAR keeps the decoded text).
	// The playback events hold an unmasked input event (27) with the e-mail
	// as typed into the checkout form.
	b.add("POST", "https://e.clarity.ms/collect", fetch("application/json", "Accept", "application/x-clarity-gzip"),
		[]byte(mustJSON(map[string]any{
			"e": []any{"0.8.56", 3, 0, 6120, ShopClarityID, "1x2y3z4", "1shopsess9k", 2, 0, 0, 0, ShopPageURL},
			"a": []any{[]any{4120, 9, 17, 512, 388, "1", 0, "button.book", "Book appointment"}, []any{4300, 10, 0, 0, 640}},
			"p": []any{[]any{0, 6, 1, nil, "*D", "html"}, []any{3000, 27, 42, ShopTypedEmail}, []any{3100, 39, 7}},
		})), 204, "", nil)

	// 10. Segment track (§14): text/plain JSON; the site put the shopper's
	// traits in context.traits.
	b.add("POST", "https://api.segment.io/v1/t", fetch("text/plain"),
		[]byte(mustJSON(map[string]any{
			"type": "track", "event": "Order Completed", "anonymousId": "shop-anon-7c1d", "userId": "cust-40917",
			"properties": map[string]any{"order_id": ShopOrder, "revenue": 129.99, "currency": "USD"},
			"context": map[string]any{
				"page":    map[string]any{"url": ShopPageURL, "title": ShopTitle, "referrer": ShopCheckout},
				"traits":  map[string]any{"email": ShopEmail, "firstName": "Jane"},
				"library": map[string]any{"name": "analytics.js", "version": "next-1.70.0"},
			},
			"writeKey": "WK-example-store", "sentAt": "2026-03-14T09:30:13.652Z",
		})), 200, "application/json", []byte(`{"success":true}`))

	// 11. Mixpanel (§16): a batch of two events, base64 JSON in data= (the
	// format older libraries use on every host); the site registered the
	// e-mail as a super property.
	mp := func(ev string, t float64) map[string]any {
		return map[string]any{"event": ev, "properties": map[string]any{
			"token": "0123456789abcdef0123456789abcdef", "distinct_id": "$device:19c0ffee-shop", "$device_id": "19c0ffee-shop",
			"$current_url": ShopPageURL, "time": t, "mp_lib": "web", "$lib_version": "2.40.1", "email": ShopEmail,
		}}
	}
	b.add("POST", "https://api-js.mixpanel.com/track/?ip=1&_=1773480613760", fetch("application/x-www-form-urlencoded"),
		[]byte("data="+url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(mustJSON([]any{
			mp("$mp_web_page_view", 1773480612.9), mp("Appointment Booked", 1773480613.7)}))))),
		200, "application/json", []byte(`{"status":1,"error":null}`))

	// 12. LiveIntent (an identity resolver): MD5, SHA-1 and SHA-256 of the
	// e-mail it read from the page, comma-separated in e=.
	b.add("GET", "https://rp.liadm.com/j?"+encode([]string{
		"tna", "v2.4.2", "aid", "a-0shp", "wpn", "lc-bundle", "pu", ShopPageURL,
		"e", md5hex(ShopEmail) + "," + sha1hex(ShopEmail) + "," + emailSHA, "dtstmp", "1773480613870",
	}), img(), nil, 200, "image/gif", gif)

	// 13. Affiliate conversion image: the site put the e-mail as typed into
	// p1 and URL-encoded it twice; p2 holds it in base64.
	b.add("GET", "https://www.awin1.com/sread.img?tt=ns&tv=2&merchant=40123&amount=129.99&cr=USD&ref="+ShopOrder+
		"&parts=DEFAULT%3A129.99&vc=&ch=aw&testmode=0&p1="+url.QueryEscape(url.QueryEscape(strings.ToUpper(ShopEmail)))+
		"&p2="+base64.RawURLEncoding.EncodeToString([]byte(ShopEmail)),
		img(), nil, 200, "image/gif", gif)

	// 14. Klaviyo identify (legacy API): base64 JSON in data=, the e-mail
	// as typed in a custom header, and URL-encoded in a cookie.
	b.add("GET", "https://a.klaviyo.com/api/identify?data="+url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(mustJSON(map[string]any{
		"token": "AbC123", "properties": map[string]any{"$email": ShopEmail, "$first_name": "Jane"},
	})))), fetch("", "X-Klaviyo-Email", ShopTypedEmail, "Cookie", "__kla_viewed=1; kl_email="+url.QueryEscape(ShopEmail)),
		nil, 200, "application/json", []byte("1"))

	// 15. Amplitude HTTP API (§15): user_id is the e-mail as typed, and the
	// form state travels as JSON inside a JSON string.
	b.add("POST", "https://api2.amplitude.com/2/httpapi", fetch("application/json"),
		[]byte(mustJSON(map[string]any{
			"api_key": "amp0123456789abcdef0123456789ab",
			"events": []any{map[string]any{
				"event_type": "appointment booked", "user_id": ShopTypedEmail, "device_id": "d-77c1-shop",
				"session_id": 1773480000000, "time": 1773480613980,
				"event_properties": map[string]any{"form_state": mustJSON(map[string]any{"email": ShopEmail, "step": "confirm"})},
			}},
		})), 200, "application/json", []byte(`{"code":200}`))

	// 16. HubSpot form submission: multipart/form-data with the e-mail as
	// a field.
	var mb strings.Builder
	mw := multipart.NewWriter(&mb)
	if err := mw.SetBoundary("----WebKitFormBoundaryShop7Q3c2X9aB1"); err != nil {
		panic(err) // a bug in this program, not input
	}
	for _, kv := range [][2]string{{"email", ShopEmail}, {"firstname", "Jane"}, {"appointment", "Haircut and colour"},
		{"hs_context", mustJSON(map[string]any{"pageUrl": ShopCheckout, "pageName": "Book an appointment"})}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			panic(err) // writing to a strings.Builder does not fail
		}
	}
	if err := mw.Close(); err != nil {
		panic(err)
	}
	b.add("POST", "https://forms.hubspot.com/uploads/form/v2/4123456/7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
		fetch(mw.FormDataContentType()), []byte(mb.String()), 204, "", nil)

	// 17. HubSpot contact lookup: the e-mail in the URL path.
	b.add("GET", "https://api.hubapi.com/contacts/v1/contact/email/"+ShopEmail+"/profile?portalId=4123456",
		fetch(""), nil, 404, "application/json", []byte(`{"status":"error","message":"contact does not exist"}`))
	return b.exs
}

// WriteShop writes the shop example HAR to w, secrets included (they are
// made up).
func WriteShop(w io.Writer) error {
	return capture.WriteHAR(w, slices.Values(ShopExchanges()), capture.HARWriteOptions{
		ShowSecrets: true, Creator: "trackaudit examples/gen", CreatorVersion: "1",
		Pages: []capture.HARPage{{ID: ShopPageRef, Title: ShopTitle, Start: shopVisitStart}},
	})
}
