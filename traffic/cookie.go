package traffic

import "strings"

// Cookie is one name=value pair from a Cookie header.
type Cookie struct {
	Name  string
	Value string
}

// ParseCookieHeader splits a Cookie header value into pairs, keeping order
// and duplicates. It is lenient: pairs without '=' get an empty value,
// surrounding quotes are kept, empty names are dropped. It never fails.
func ParseCookieHeader(h string) []Cookie {
	var out []Cookie
	for _, part := range strings.Split(h, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		out = append(out, Cookie{Name: name, Value: strings.TrimSpace(value)})
	}
	return out
}
