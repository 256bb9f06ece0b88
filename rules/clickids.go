package rules

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// Where a click id is carried.
const (
	ClickIDParam  = "param"  // URL query or tracker payload parameter
	ClickIDCookie = "cookie" // cookie name
)

// Kinds of click ids.
const (
	ClickIDClick = "click" // an ad click id
	ClickIDMatch = "match" // a persistent browser id used as a match key
)

// ClickID describes one ad click id or match key.
type ClickID struct {
	// Name is the parameter or cookie name; a cookie name may be a prefix
	// ending in "*".
	Name string
	// Where is ClickIDParam or ClickIDCookie.
	Where   string
	Company string
	// Kind is ClickIDClick or ClickIDMatch.
	Kind   string
	Source string
	Line   int
}

// ClickIDTable looks click ids and match keys up by parameter or cookie
// name. It is read-only and safe for concurrent use; a nil table knows
// none.
type ClickIDTable struct {
	params  map[string]*ClickID
	cookies names[*ClickID]
}

//go:embed clickids.txt
var clickIDsTxt []byte

// ClickIDsName is the file name the embedded click-id table reports in
// errors.
const ClickIDsName = "clickids.txt"

var defaultClickIDs = sync.OnceValue(func() *ClickIDTable {
	t, err := ParseClickIDs(ClickIDsName, clickIDsTxt)
	if err != nil {
		// Embedded and kept valid by TestDefaultClickIDs: a build defect.
		panic("rules: embedded " + err.Error())
	}
	return t
})

// DefaultClickIDs returns the embedded click-id table, parsed on first use.
func DefaultClickIDs() *ClickIDTable { return defaultClickIDs() }

// ParseClickIDs reads a click-id table: one "name | where | company |
// kind | source" per line, '#' comments and blank lines ignored. Problems
// are *ParseError values naming the file and line.
func ParseClickIDs(name string, data []byte) (*ClickIDTable, error) {
	t := &ClickIDTable{params: map[string]*ClickID{}}
	seen := map[string]int{}
	err := eachRecord(name, data, 5, func(line int, f []string) error {
		c := &ClickID{Name: f[0], Where: f[1], Company: f[2], Kind: f[3], Source: f[4], Line: line}
		if strings.ContainsAny(c.Name, " \t;=,&") {
			return fmt.Errorf("bad name %q", c.Name)
		}
		if c.Where != ClickIDParam && c.Where != ClickIDCookie {
			return fmt.Errorf("%s: where %q is not param or cookie", c.Name, c.Where)
		}
		if c.Kind != ClickIDClick && c.Kind != ClickIDMatch {
			return fmt.Errorf("%s: kind %q is not click or match", c.Name, c.Kind)
		}
		if strings.Contains(c.Name, "*") && (c.Where != ClickIDCookie || !strings.HasSuffix(c.Name, "*") || strings.Count(c.Name, "*") > 1 || c.Name == "*") {
			return fmt.Errorf("%s: only cookie names may end in a single *", c.Name)
		}
		key := c.Where + " " + c.Name
		if prev, dup := seen[key]; dup {
			return fmt.Errorf("%s %s listed twice (first on line %d)", c.Where, c.Name, prev)
		}
		seen[key] = line
		if c.Where == ClickIDParam {
			t.params[c.Name] = c
		} else {
			t.cookies.add(c.Name, c)
			c.Name = strings.TrimSuffix(c.Name, "*")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.cookies.sort()
	return t, nil
}

// Param returns the click id carried in a parameter called name.
func (t *ClickIDTable) Param(name string) (*ClickID, bool) {
	if t == nil {
		return nil, false
	}
	c, ok := t.params[name]
	return c, ok
}

// Cookie returns the click id or match key stored in a cookie called
// name: an exact entry, else the longest matching prefix.
func (t *ClickIDTable) Cookie(name string) (*ClickID, bool) {
	if t == nil {
		return nil, false
	}
	return t.cookies.lookup(name)
}

// Len returns the number of entries.
func (t *ClickIDTable) Len() int {
	if t == nil {
		return 0
	}
	return len(t.params) + t.cookies.len()
}
