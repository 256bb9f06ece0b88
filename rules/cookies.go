package rules

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// What a cookie identifies. Keep the strings stable: they are evidence
// labels in reports.
const (
	IdentifiesPerson  = "person"  // tied to a logged-in account
	IdentifiesBrowser = "browser" // persistent pseudonymous browser id
	IdentifiesSession = "session" // short-lived session id
	IdentifiesClick   = "click"   // ad click id
	IdentifiesConsent = "consent" // consent state or another harmless flag
	IdentifiesUnknown = "unknown" // not in the table
)

// Cookie describes one known cookie name.
type Cookie struct {
	// Name is the exact cookie name, or a prefix ending in "*".
	Name    string
	Company string
	// Identifies is one of the Identifies* constants other than unknown.
	Identifies string
	// Source cites where the fact comes from.
	Source string
	// Line is the data-file line, for messages.
	Line int
}

// CookieTable looks cookie names up. It is read-only and safe for
// concurrent use; a nil table knows no cookies.
type CookieTable struct {
	names names[*Cookie]
}

//go:embed cookies.txt
var cookiesTxt []byte

// CookiesName is the file name the embedded cookie table reports in errors.
const CookiesName = "cookies.txt"

var defaultCookies = sync.OnceValue(func() *CookieTable {
	t, err := ParseCookies(CookiesName, cookiesTxt)
	if err != nil {
		// The embedded file is part of the program and TestDefaultCookies
		// keeps it valid; a failure here is a build defect.
		panic("rules: embedded " + err.Error())
	}
	return t
})

// DefaultCookies returns the embedded cookie table, parsed on first use.
func DefaultCookies() *CookieTable { return defaultCookies() }

// ParseCookies reads a cookie table: one "name | company | identifies |
// source" per line, '#' comments and blank lines ignored. name is
// exact or a prefix ending in '*'. A duplicate name, an unknown
// identifies value or a missing field is a *ParseError naming the file
// and line.
func ParseCookies(name string, data []byte) (*CookieTable, error) {
	t := &CookieTable{}
	seen := map[string]int{}
	err := eachRecord(name, data, 4, func(line int, f []string) error {
		c := &Cookie{Name: f[0], Company: f[1], Identifies: f[2], Source: f[3], Line: line}
		if strings.ContainsAny(c.Name, " \t;=,") || strings.Count(c.Name, "*") > 1 ||
			(strings.Contains(c.Name, "*") && !strings.HasSuffix(c.Name, "*")) || c.Name == "*" {
			return fmt.Errorf("bad cookie name %q: want a cookie name or a prefix ending in *", c.Name)
		}
		switch c.Identifies {
		case IdentifiesPerson, IdentifiesBrowser, IdentifiesSession, IdentifiesClick, IdentifiesConsent:
		default:
			return fmt.Errorf("cookie %s: identifies %q is not one of person, browser, session, click, consent", c.Name, c.Identifies)
		}
		if prev, dup := seen[c.Name]; dup {
			return fmt.Errorf("cookie %s listed twice (first on line %d)", c.Name, prev)
		}
		seen[c.Name] = line
		t.names.add(c.Name, c)
		c.Name = strings.TrimSuffix(c.Name, "*")
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.names.sort()
	return t, nil
}

// Lookup returns what the cookie called name is: an exact entry, else the
// longest matching prefix entry. Names are case-sensitive, as browsers
// treat them.
func (t *CookieTable) Lookup(name string) (*Cookie, bool) {
	if t == nil {
		return nil, false
	}
	return t.names.lookup(name)
}

// Identifies returns what the named cookie identifies, IdentifiesUnknown
// when the table does not know it.
func (t *CookieTable) Identifies(name string) string {
	if c, ok := t.Lookup(name); ok {
		return c.Identifies
	}
	return IdentifiesUnknown
}

// Len returns the number of entries.
func (t *CookieTable) Len() int {
	if t == nil {
		return 0
	}
	return t.names.len()
}

// eachRecord calls fn with the n trimmed "|"-separated fields of every
// non-comment line of a small table file; fn's error is wrapped in a
// *ParseError for that line.
func eachRecord(name string, data []byte, n int, fn func(line int, fields []string) error) error {
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		s := strings.TrimSpace(raw)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fields := strings.Split(s, "|")
		if len(fields) != n {
			return &ParseError{Name: name, Line: line, Msg: fmt.Sprintf("want %d fields separated by |, got %d", n, len(fields))}
		}
		for j := range fields {
			fields[j] = strings.TrimSpace(fields[j])
			if fields[j] == "" {
				return &ParseError{Name: name, Line: line, Msg: fmt.Sprintf("field %d is empty", j+1)}
			}
		}
		if err := fn(line, fields); err != nil {
			return &ParseError{Name: name, Line: line, Msg: err.Error()}
		}
	}
	return nil
}
