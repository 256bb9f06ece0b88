package h3parse

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// newMessage makes a message from a decoded field section.
func newMessage(fields []field, start time.Time) Message {
	m := Message{Header: http.Header{}, Start: start}
	for _, f := range fields {
		switch f.name {
		case ":method":
			m.Method = f.value
		case ":scheme":
			m.Scheme = f.value
		case ":authority":
			m.Authority = f.value
		case ":path":
			m.Path = f.value
		case ":status":
			m.Status, _ = strconv.Atoi(f.value)
		default:
			if !isPseudo(f) { // other pseudo-fields (e.g. :protocol) are dropped
				addField(m.Header, f)
			}
		}
	}
	joinCookies(m.Header)
	return m
}

// trailerOf returns the regular fields of a trailing field section
// (RFC 9114 §4.1, §4.3: no pseudo-header fields in trailers).
func trailerOf(fields []field) http.Header {
	h := http.Header{}
	for _, f := range fields {
		if !isPseudo(f) {
			addField(h, f)
		}
	}
	joinCookies(h)
	return h
}

func isPseudo(f field) bool { return strings.HasPrefix(f.name, ":") }

func addField(h http.Header, f field) {
	k := http.CanonicalHeaderKey(f.name)
	h[k] = append(h[k], f.value)
}

// joinCookies joins cookie fields that were split for compression into one
// (RFC 9114 §4.2.1).
func joinCookies(h http.Header) {
	if v := h["Cookie"]; len(v) > 1 {
		h["Cookie"] = []string{strings.Join(v, "; ")}
	}
}

// interim reports an informational (1xx) response, which precedes the
// final one on the same stream (RFC 9114 §4.1).
func interim(m *Message) bool { return m.Status >= 100 && m.Status <= 199 }
