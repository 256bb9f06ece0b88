package traffic

import (
	"net/url"
	"strings"
)

// sensitiveWords are parts of parameter, header and JSON key names whose
// values are credentials or personal data.
var sensitiveWords = map[string]bool{
	"token": true, "auth": true, "authorization": true, "session": true, "sessionid": true, "sid": true,
	"password": true, "passwd": true, "pwd": true, "pass": true, "key": true, "apikey": true,
	"secret": true, "email": true, "mail": true, "signature": true, "sig": true, "code": true,
	"otp": true, "jwt": true, "csrf": true, "xsrf": true,
}

// SensitiveName reports whether a parameter, header or JSON key name,
// lower-cased and split at non-letters ("access_token", "X-Api-Key",
// "userEmail"), has a part whose value is a credential or personal data.
func SensitiveName(name string) bool {
	name = strings.ToLower(name)
	if sensitiveWords[name] {
		return true
	}
	for _, part := range strings.FieldsFunc(name, func(c rune) bool { return !('a' <= c && c <= 'z') }) {
		if sensitiveWords[part] {
			return true
		}
	}
	return strings.HasSuffix(name, "token") || strings.HasSuffix(name, "email") || strings.HasSuffix(name, "password")
}

// LooksLikeEmail reports whether s is a bare e-mail address.
func LooksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || strings.ContainsAny(s, " \t\n<>\"(),;:/?&") {
		return false
	}
	dot := strings.LastIndexByte(s, '.')
	return dot > at+1 && dot < len(s)-1
}

// LooksLikeJWT reports whether s is shaped like a JSON Web Token: three
// base64url parts joined by dots, the first an encoded JSON object
// ("eyJ" is how `{"` starts in base64).
func LooksLikeJWT(s string) bool {
	if !strings.HasPrefix(s, "eyJ") || strings.Count(s, ".") != 2 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '=') {
				return false
			}
		}
	}
	return true
}

// SecretParam reports whether a query, form or JSON value must be hidden
// in shared output: its name is sensitive, or the value looks like an
// e-mail address, a JWT or a hex hash (hashed e-mail addresses are how ad
// platforms match people).
func SecretParam(name, value string) bool {
	return SensitiveName(name) || LooksLikeEmail(value) || LooksLikeJWT(value) || HashKind(value) != ""
}

// SecretValue is SecretParam, and also true for a URL value that holds a
// secret itself (a page URL with a session id carried in a pixel's dl=):
// such a value is hidden whole.
func SecretValue(name, value string) bool {
	if SecretParam(name, value) {
		return true
	}
	if strings.HasPrefix(value, "http://") || strings.HasPrefix(value, "https://") {
		hidden := false
		RedactURL(value, func(string) string { hidden = true; return "" })
		return hidden
	}
	return false
}

// RedactPairs returns an "a=1&b=2" string with each secret value
// (SecretValue, on the unescaped name and value) replaced by
// hide(value); its other bytes stay as they were.
func RedactPairs(s string, hide func(string) string) string {
	pairs := strings.Split(s, "&")
	for i, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || v == "" {
			continue
		}
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		if SecretValue(dk, dv) {
			pairs[i] = k + "=" + hide(dv)
		}
	}
	return strings.Join(pairs, "&")
}

// RedactText returns free text (a page title) with the words shaped like
// an e-mail address or a JWT replaced by what hide returns for them: a
// webmail's title names the account. Text without such words is returned
// unchanged; otherwise white space is collapsed.
func RedactText(s string, hide func(string) string) string {
	words := strings.Fields(s)
	changed := false
	for i, w := range words {
		core := strings.Trim(w, "()[]<>\"'.,;:!?")
		if LooksLikeEmail(core) || LooksLikeJWT(core) {
			words[i] = strings.Replace(w, core, hide(core), 1)
			changed = true
		}
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// RedactURL returns u with the secret values of its query (RedactPairs)
// and the password of its user info replaced by what hide returns for
// them. A string that is not an http(s) URL is returned unchanged.
func RedactURL(u string, hide func(string) string) string {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return u
	}
	head, query, hasQuery := strings.Cut(u, "?")
	if scheme, rest, ok := strings.Cut(head, "://"); ok {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			if user, pass, ok := strings.Cut(rest[:at], ":"); ok && pass != "" {
				head = scheme + "://" + user + ":" + hide(pass) + rest[at:]
			}
		}
	}
	if !hasQuery {
		return head
	}
	query, frag, hasFrag := strings.Cut(query, "#")
	if hasFrag {
		frag = "#" + frag
	}
	return head + "?" + RedactPairs(query, hide) + frag
}
