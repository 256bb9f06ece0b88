package reports

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/trackaudit/trackaudit/traffic"
)

// redactor replaces secret values by pseudonyms that are equal for equal
// values within one report, so linkage stays visible (the same _fbp in a
// cookie and in fbp= gets the same pseudonym) while the value does not.
// Pseudonyms are numbered in order of first use; the report is walked in
// its sorted order, so the numbering is deterministic.
type redactor struct {
	show  bool
	names map[string]string
	next  int
}

func newRedactor(show bool) *redactor {
	return &redactor{show: show, names: map[string]string{}}
}

// secret returns v's pseudonym, e.g. "‹secret-1, 20 chars›" or, for a
// hex hash, "‹sha256-2›"; v itself when secrets are shown or v is empty.
func (r *redactor) secret(v string) string {
	if r.show || v == "" {
		return v
	}
	if p, ok := r.names[v]; ok {
		return p
	}
	r.next++
	var p string
	if k := traffic.HashKind(v); k != "" {
		p = fmt.Sprintf("‹%s-%d›", k, r.next)
	} else {
		p = fmt.Sprintf("‹secret-%d, %d chars›", r.next, len([]rune(v)))
	}
	r.names[v] = p
	return p
}

// value redacts an evidence value: secrets become pseudonyms, and URLs
// get their sensitive query values replaced.
func (r *redactor) value(v string, secret bool) string {
	if secret {
		return r.secret(v)
	}
	return r.url(v)
}

// url returns u with the values of sensitive query parameters (token,
// auth, session, password, key, email …), e-mail addresses and JWTs in
// any parameter and a password in the user info replaced by pseudonyms. A
// string that is not an http(s) URL is returned unchanged.
func (r *redactor) url(u string) string {
	if r.show || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
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
				head = scheme + "://" + user + ":" + r.secret(pass) + rest[at:]
			}
		}
	}
	if !hasQuery {
		return head
	}
	frag := ""
	if i := strings.Index(query, "#"); i >= 0 {
		query, frag = query[:i], query[i:]
	}
	pairs := strings.Split(query, "&")
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
		if traffic.SensitiveName(dk) || traffic.LooksLikeEmail(dv) || traffic.LooksLikeJWT(dv) {
			pairs[i] = k + "=" + r.secret(dv)
		}
	}
	return head + "?" + strings.Join(pairs, "&") + frag
}
