package reports

import (
	"strconv"
	"unicode/utf8"

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
	// Built by appending: a report of a large capture names hundreds of
	// thousands of secrets, and fmt boxed each argument.
	b := make([]byte, 0, 40)
	if k := traffic.HashKind(v); k != "" {
		b = strconv.AppendInt(append(append(append(b, "‹"...), k...), '-'), int64(r.next), 10)
	} else {
		b = strconv.AppendInt(append(b, "‹secret-"...), int64(r.next), 10)
		b = strconv.AppendInt(append(b, ", "...), int64(utf8.RuneCountInString(v)), 10)
		b = append(b, " chars"...)
	}
	p := string(append(b, "›"...))
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

// text returns free text (a page title) with e-mail addresses and JWTs
// replaced by pseudonyms (traffic.RedactText).
func (r *redactor) text(s string) string {
	if r.show {
		return s
	}
	return traffic.RedactText(s, r.secret)
}

// url returns u with its secret query values (traffic.SecretParam:
// sensitive names such as token, session or email, and e-mail addresses,
// JWTs and hashes anywhere) and a password in its user info replaced by
// pseudonyms.
func (r *redactor) url(u string) string {
	if r.show {
		return u
	}
	return traffic.RedactURL(u, r.secret)
}
