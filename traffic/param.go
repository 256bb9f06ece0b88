package traffic

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Param is one name/value pair found in a request, flattened from its
// query string, form body or JSON body.
type Param struct {
	// Where is "query:NAME", "form:NAME" or "body:$.json.path"; for a body
	// holding several URL-encoded lines (GA4 batches) it is "form[N]:NAME".
	Where string
	// Name is the bare parameter name ("dl", "ud[em]") or, for JSON, the
	// last path element.
	Name  string
	Value string
}

// maxParams bounds how many parameters one request may yield, so a hostile
// body cannot make detectors quadratic.
const maxParams = 4096

// Params flattens a request's query string and body into parameters, in
// the order they appear. Bodies are read as URL-encoded forms, JSON, or
// newline-separated URL-encoded lines, by Content-Type and then by sniffing.
// Anything else yields no body parameters. It never fails.
func Params(r *Request) []Param {
	var out []Param
	if r.URL != nil {
		out = appendQuery(out, "query", r.URL.RawQuery)
	}
	if len(r.Body) == 0 {
		return out
	}
	return appendBody(out, bodyType(r), r.Body)
}

// Params returns Params(&ex.Request), flattened once per exchange. The
// result is shared by every caller: it must not be modified (appending to
// it copies, its capacity is clipped).
func (ex *Exchange) Params() []Param {
	ex.flatten()
	return ex.memo.params
}

// QueryParams returns the request's query parameters, as
// ParseQuery("query", ex.Request.URL.RawQuery) would: the first ones of
// ex.Params(), shared the same way.
func (ex *Exchange) QueryParams() []Param {
	ex.flatten()
	return ex.memo.params[:ex.memo.nquery:ex.memo.nquery]
}

func (ex *Exchange) flatten() {
	if ex.memo.haveParams {
		return
	}
	r := &ex.Request
	var ps []Param
	if r.URL != nil {
		ps = appendQuery(ps, "query", r.URL.RawQuery)
	}
	nquery := len(ps)
	if len(r.Body) > 0 {
		ps = appendBody(ps, bodyType(r), r.Body)
	}
	ex.memo.params, ex.memo.nquery, ex.memo.haveParams = ps[:len(ps):len(ps)], nquery, true
}

func bodyType(r *Request) string {
	ct := ""
	if r.Header != nil {
		ct, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	}
	return ct
}

func appendBody(out []Param, ct string, body []byte) []Param {
	trimmed := bytes.TrimSpace(body)
	switch {
	case ct == "application/json" || strings.HasSuffix(ct, "+json") ||
		(len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')):
		var v any
		d := json.NewDecoder(bytes.NewReader(trimmed))
		d.UseNumber()
		if d.Decode(&v) == nil {
			return appendJSON(out, "$", "", v)
		}
		return out
	case ct == "application/x-www-form-urlencoded" || ct == "text/plain" || ct == "":
		lines := bytes.Split(trimmed, []byte("\n"))
		if len(lines) == 1 {
			return appendQuery(out, "form", string(trimmed))
		}
		for i, l := range lines {
			out = appendQuery(out, "form["+strconv.Itoa(i)+"]", string(bytes.TrimSpace(l)))
		}
	}
	return out
}

// ParseQuery parses a query string leniently into ordered parameters whose
// Where is prefix:NAME ("query", "form", "form[2]"). Unlike
// url.ParseQuery it keeps the good pairs when one has a bad escape.
func ParseQuery(prefix, q string) []Param { return appendQuery(nil, prefix, q) }

// appendQuery parses a query string leniently (url.ParseQuery drops the
// whole string on one bad escape; this keeps the good pairs) in order.
func appendQuery(out []Param, prefix, q string) []Param {
	for q != "" && len(out) < maxParams {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, Param{Where: prefix + ":" + k, Name: k, Value: v})
	}
	return out
}

func appendJSON(out []Param, path, name string, v any) []Param {
	if len(out) >= maxParams {
		return out
	}
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = appendJSON(out, path+"."+k, k, t[k])
		}
	case []any:
		for i, e := range t {
			out = appendJSON(out, path+"["+strconv.Itoa(i)+"]", name, e)
		}
	case nil:
	default:
		var s string
		switch x := t.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		}
		out = append(out, Param{Where: "body:" + path, Name: name, Value: s})
	}
	return out
}

// Get returns the value of the first parameter named name, and whether
// there was one.
func Get(ps []Param, name string) (string, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}
