package capture

import (
	"net/http"
	"net/url"
	"strings"
)

// httpHead is a request line or status line and the header block after
// it, as read by scanHTTPHead from captured bytes.
//
// Header holds canonical keys (as net/textproto writes them) with values
// trimmed of surrounding blanks; obsolete line folding is joined with one
// space. Like net/http's readers, the Host header of a request is moved to
// Host, and Transfer-Encoding is taken out of Header into chunked/te. Keys
// and values share one copy of the header block.
type httpHead struct {
	// Method and Target are the request line's (requests only); URL is
	// Target parsed (an authority-form CONNECT target is its Host).
	Method, Target string
	URL            *url.URL
	// Host is the URL's host, else the Host header; "" when neither.
	Host string
	// Proto is "HTTP/1.1" or the like.
	Proto string
	// Status is the status code (responses only).
	Status int
	Header http.Header
	// Length is the Content-Length, -1 when absent or overridden by a
	// Transfer-Encoding.
	Length int64
	// TE is set when a Transfer-Encoding applies (HTTP/1.1 and later);
	// Chunked when its last coding is chunked.
	TE, Chunked bool
}

// headError says why a header block was refused.
type headError string

func (e headError) Error() string { return "http head: " + string(e) }

// Reasons a head is refused; the parser then stops following the
// direction, as it cannot know where the next message starts.
var (
	errHeadLine      = headError("malformed request or status line")
	errHeadVersion   = headError("malformed HTTP version")
	errHeadMethod    = headError("invalid method")
	errHeadStatus    = headError("malformed status code")
	errHeadField     = headError("malformed header line")
	errHeadFold      = headError("header block starts with a continuation line")
	errHeadHosts     = headError("more than one Host header")
	errHeadLength    = headError("invalid or conflicting Content-Length")
	errHeadRequestTE = headError("request transfer-encoding does not end in chunked")
	errHeadURL       = headError("malformed request target")
)

// scanHTTPHead parses block, a complete header block (request line or
// status line, header lines, the blank line; CRLF or bare LF line ends),
// into h, reusing nothing of a previous h. resp selects a status line.
//
// It accepts what browsers and servers send and refuses, with a
// headError, what would make the message's framing ambiguous (conflicting
// Content-Length, a request Transfer-Encoding without chunked last) or is
// not HTTP (bad line, control bytes in a value). It never panics; its work
// is linear in len(block) and it allocates one string for the block and
// the header map; with scratch memory from an earlier head (scanHead), a
// common origin-form target and the header values usually cost nothing
// more.
func scanHTTPHead(block []byte, resp bool, h *httpHead) error {
	return scanHead(block, resp, h, new(headScratch))
}

// headScratch is memory scanHead may reuse from one head to the next of
// an httpParser, so that a head costs fewer allocations.
//
// url holds the request target parsed by the fast path; h.URL then points
// to it, so it is overwritten by the next head and must be copied before
// the head is handed over (tcpStream.onRequest copies it into the
// exchange's own allocation).
//
// vals is the unused rest of a slab of header values: each head takes
// the values it needs from the front as one-element slices with capacity
// one, so an append by whoever owns the header afterwards reallocates
// and never writes into another head's values. Elements handed over are
// never written again; a fresh slab is made when the rest is too short.
type headScratch struct {
	url  url.URL
	vals []string
}

// valSlab is the number of header values a fresh slab holds: enough for
// a few heads (browsers send 8-15 headers), small enough that an
// exchange kept long after does not pin much of its neighbours' memory.
const valSlab = 64

// scanHead is scanHTTPHead with scratch memory sc.
func scanHead(block []byte, resp bool, h *httpHead, sc *headScratch) error {
	*h = httpHead{Length: -1}
	s := string(block)
	line, rest := nextLine(s)
	if resp {
		if err := h.statusLine(line); err != nil {
			return err
		}
	} else if err := h.requestLine(line, &sc.url); err != nil {
		return err
	}
	lines := strings.Count(rest, "\n") + 1 // a last line may lack its newline
	h.Header = make(http.Header, lines)
	if len(sc.vals) < lines {
		sc.vals = make([]string, max(lines, valSlab))
	}
	vals := sc.vals
	defer func() { sc.vals = vals }()
	// Host (requests) and Transfer-Encoding are taken out of the header,
	// so they are kept aside rather than put in the map; seen is a
	// one-word Bloom filter of the keys in the map, sparing a lookup for
	// keys certainly not there yet.
	var (
		fr   framing
		seen uint64
		last *string // the value a continuation line extends; nil before the first field
	)
	for rest != "" {
		line, rest = nextLine(rest)
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == nil {
				return errHeadFold
			}
			v := trimBlanks(line)
			if !validValue(v) {
				return errHeadField
			}
			if v != "" {
				*last = strings.TrimRight(*last+" "+v, " \t")
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return errHeadField
		}
		key, ok := canonicalKey(line[:colon])
		if !ok {
			return errHeadField
		}
		v := trimBlanks(line[colon+1:])
		if !validValue(v) {
			return errHeadField
		}
		switch {
		case key == "Host" && !resp:
			fr.hosts++
			if fr.hosts == 1 {
				fr.host = v
				last = &fr.host
			} else {
				last = new(string) // refused in finish anyway
			}
			continue
		case key == "Transfer-Encoding":
			fr.te, fr.haveTE = v, true
			last = &fr.te
			continue
		case key == "Content-Length":
			fr.haveCL = true
		}
		bit := uint64(1) << ((uint(len(key))*7 + uint(key[0]) + uint(key[len(key)-1])) & 63)
		if seen&bit != 0 {
			if vs, dup := h.Header[key]; dup {
				vs = append(vs, v)
				h.Header[key] = vs
				last = &vs[len(vs)-1]
				continue
			}
		}
		seen |= bit
		vals[0] = v
		h.Header[key] = vals[:1:1]
		last = &vals[0]
		vals = vals[1:]
	}
	return h.finish(resp, &fr)
}

// framing is what scanHead gathers for finish: the Host header of a
// request (its count and first value), the last Transfer-Encoding
// value, and whether Content-Length is in the map.
type framing struct {
	hosts          int
	host, te       string
	haveTE, haveCL bool
}

// requestLine parses "METHOD target HTTP/x.y"; u is where a target the
// fast path can parse is stored.
func (h *httpHead) requestLine(line string, u *url.URL) error {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || target == "" {
		return errHeadLine
	}
	if method == "" || !isToken(method) {
		return errHeadMethod
	}
	if !validVersion(proto) {
		return errHeadVersion
	}
	h.Method, h.Target, h.Proto = method, target, proto
	if method == http.MethodConnect && target[0] != '/' {
		u, err := url.ParseRequestURI("http://" + target)
		if err != nil || u.Host == "" {
			return errHeadURL
		}
		u.Scheme = ""
		h.URL = u
		return nil
	}
	if parseOriginForm(target, u) {
		h.URL = u
		return nil
	}
	pu, err := url.ParseRequestURI(target)
	if err != nil {
		return errHeadURL
	}
	h.URL = pu
	return nil
}

// pathChars marks the bytes an origin-form path may hold for
// parseOriginForm: those url.URL.setPath keeps as they are (neither
// unescaped nor a reason to set RawPath).
var pathChars = alnumAnd("-._~/$&+,:;=@")

// parseOriginForm parses the common request target "/path?query" into u
// without allocating, exactly as url.ParseRequestURI would, and reports
// whether it could: a target not starting with "/", with a
// percent-escape or another byte outside pathChars in its path, or with a
// control byte anywhere is left to url.ParseRequestURI (FuzzRequestTarget
// compares the two).
func parseOriginForm(target string, u *url.URL) bool {
	if target == "" || target[0] != '/' {
		return false
	}
	q := -1
	for i := 0; i < len(target); i++ {
		if c := target[i]; c == '?' {
			q = i
			break
		} else if !pathChars[c] { // control bytes included
			return false
		}
	}
	if q >= 0 && !noCTL(target[q+1:]) {
		return false
	}
	*u = url.URL{Path: target}
	if q >= 0 {
		u.Path, u.RawQuery = target[:q], target[q+1:]
		u.ForceQuery = u.RawQuery == "" // "/p?" (the '?' is the last byte)
	}
	return true
}

// statusLine parses "HTTP/x.y NNN reason"; the reason may be absent.
func (h *httpHead) statusLine(line string) error {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok {
		return errHeadLine
	}
	if !validVersion(proto) {
		return errHeadVersion
	}
	rest = strings.TrimLeft(rest, " ")
	code, _, _ := strings.Cut(rest, " ")
	if len(code) != 3 || !isDigits(code) {
		return errHeadStatus
	}
	h.Proto = proto
	h.Status = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	return nil
}

// finish applies the rules that tie headers to framing: Host, duplicate
// Content-Length, Transfer-Encoding (RFC 9112 §6).
func (h *httpHead) finish(resp bool, fr *framing) error {
	hdr := h.Header
	if !resp {
		if fr.hosts > 1 {
			return errHeadHosts
		}
		h.Host = h.URL.Host
		if h.Host == "" && fr.hosts == 1 {
			h.Host = fr.host
		}
	}
	if fr.haveCL {
		cl := hdr["Content-Length"]
		for _, v := range cl[1:] {
			if v != cl[0] {
				return errHeadLength
			}
		}
		n, ok := parseLength(cl[0])
		if !ok {
			return errHeadLength
		}
		if len(cl) > 1 {
			hdr["Content-Length"] = cl[:1:1]
		}
		h.Length = n
	}
	if !fr.haveTE {
		return nil
	}
	if h.Proto == "HTTP/1.0" || h.Proto == "HTTP/0.9" {
		return nil // ignored before HTTP/1.1, as net/http does
	}
	h.TE = true
	last := fr.te
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	h.Chunked = strings.EqualFold(trimBlanks(last), "chunked")
	if !h.Chunked && !resp {
		return errHeadRequestTE
	}
	if h.Chunked {
		delete(hdr, "Content-Length")
	}
	h.Length = -1
	return nil
}

// nextLine splits s after its first line, returning the line without its
// CRLF or LF; a last line without a newline is returned whole.
func nextLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		line, rest = s, ""
	} else {
		line, rest = s[:i], s[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

func trimBlanks(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// validVersion accepts "HTTP/d.d".
func validVersion(p string) bool {
	return len(p) == 8 && p[:5] == "HTTP/" && isDigit(p[5]) && p[6] == '.' && isDigit(p[7])
}

// validValue refuses control bytes other than HTAB (RFC 9110 §5.5;
// obs-text, bytes ≥ 0x80, is allowed).
func validValue(v string) bool {
	if noCTL(v) {
		return true
	}
	for i := 0; i < len(v); i++ { // HTAB is allowed
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// noCTL reports whether s holds no control byte (below 0x20, or 0x7f),
// eight bytes at a time: a word has a byte below 0x20 exactly when
// (w - 0x20…) &^ w has a high bit set, and a 0x7f byte when w ^ 0x7f…
// has a zero byte.
func noCTL(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		del := w ^ 0x7f*lo
		if ((w-0x20*lo)&^w|(del-lo)&^del)&hi != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// parseLength parses a Content-Length: decimal digits only, below 2^60.
func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 || !isDigits(v) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		n = n*10 + int64(v[i]-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// tokenChars marks the bytes allowed in a header name or method (RFC
// 9110 §5.6.2 tchar).
var tokenChars = alnumAnd("!#$%&'*+-.^_`|~")

// alnumAnd returns the byte set of ASCII letters, digits and extra.
func alnumAnd(extra string) (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for i := 0; i < len(extra); i++ {
		t[extra[i]] = true
	}
	return t
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// canonicalKey returns k in canonical form (first letter and each letter
// after a hyphen upper case, the rest lower case) and whether k is a
// valid header name. k itself is returned when already canonical, a
// shared constant for common names; only other names allocate.
func canonicalKey(k string) (string, bool) {
	upper := true
	canonical := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !tokenChars[c] {
			return "", false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return k, true
	}
	if len(k) <= maxCommonKey {
		var buf [maxCommonKey]byte
		for i := 0; i < len(k); i++ {
			c := k[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if v, ok := commonKeys[string(buf[:len(k)])]; ok {
			return v, true
		}
	}
	b := []byte(k)
	upper = true
	for i, c := range b {
		switch {
		case upper && 'a' <= c && c <= 'z':
			b[i] = c - ('a' - 'A')
		case !upper && 'A' <= c && c <= 'Z':
			b[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
	return string(b), true
}

// maxCommonKey is the longest name in commonKeys.
const maxCommonKey = 32

// commonKeys maps the lower-case form of header names browsers and
// servers send (HTTP/1.1 clients often send lower-case names, Chrome its
// sec-ch-ua family) to their canonical form.
var commonKeys = func() map[string]string {
	names := []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Access-Control-Allow-Origin",
		"Access-Control-Allow-Credentials", "Age", "Authorization", "Cache-Control", "Connection",
		"Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Cookie", "Date",
		"Dnt", "Etag", "Expires", "Host", "If-Modified-Since", "If-None-Match", "Last-Modified",
		"Location", "Origin", "Pragma", "Priority", "Referer", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile",
		"Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User",
		"Server", "Set-Cookie", "Strict-Transport-Security", "Te", "Transfer-Encoding",
		"Upgrade-Insecure-Requests", "User-Agent", "Vary", "Via", "X-Content-Type-Options",
		"X-Forwarded-For", "X-Frame-Options", "X-Requested-With",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		if len(n) > maxCommonKey {
			panic("capture: commonKeys: " + n + " is longer than maxCommonKey")
		}
		m[strings.ToLower(n)] = n
	}
	return m
}()
