package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseError is a problem in a rules data file, at a line.
type ParseError struct {
	// Name is the file name given to Parse.
	Name string
	// Line is 1-based; for a problem with a whole rule (a missing field)
	// it is the line of the rule's [id] header.
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg) }

// maxLineLen bounds one line of a data file.
const maxLineLen = 64 << 10

// Parse reads a rules data file (the syntax is described at the top of
// trackers.txt) and compiles it. name is used in error messages only. The
// first problem found is returned as a *ParseError naming the line.
func Parse(name string, data []byte) (*Set, error) {
	p := &parser{name: name, ids: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{Name: name, Line: p.line + 1, Msg: "line too long or unreadable: " + err.Error()}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	if len(p.rules) == 0 {
		return nil, &ParseError{Name: name, Line: p.line, Msg: "no rules: a rule starts with a [rule-id] line"}
	}
	return newSet(p.rules)
}

type parser struct {
	name  string
	line  int
	cur   *Rule
	seen  map[string]bool // single-valued keys set in cur
	ids   map[string]int  // rule id → header line
	rules []*Rule
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &ParseError{Name: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseLine(raw string) error {
	s := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
	if s == "" || s[0] == '#' {
		return nil
	}
	if s[0] == '[' {
		if err := p.finish(); err != nil {
			return err
		}
		if !strings.HasSuffix(s, "]") {
			return p.errf(p.line, "rule header %q must end with ]", s)
		}
		id := strings.TrimSpace(s[1 : len(s)-1])
		if !validID(id) {
			return p.errf(p.line, "rule id %q must be lower-case letters, digits and dashes", id)
		}
		if first, dup := p.ids[id]; dup {
			return p.errf(p.line, "duplicate rule id %q (first on line %d)", id, first)
		}
		p.ids[id] = p.line
		p.cur = &Rule{ID: id, Line: p.line}
		p.seen = map[string]bool{}
		return nil
	}
	key, val, ok := strings.Cut(s, "=")
	if !ok {
		return p.errf(p.line, "expected key = value, [rule-id] or # comment, got %q", s)
	}
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if p.cur == nil {
		return p.errf(p.line, "%s comes before the first [rule-id] line", key)
	}
	if val == "" {
		return p.errf(p.line, "%s has no value", key)
	}
	r := p.cur
	switch key {
	case "company", "product", "category", "source":
		if p.seen[key] {
			return p.errf(p.line, "%s given twice in rule %s", key, r.ID)
		}
		p.seen[key] = true
		switch key {
		case "company":
			r.Company = val
		case "product":
			r.Product = val
		case "category":
			if !ValidCategory(val) {
				return p.errf(p.line, "unknown category %q (want one of %s)", val, strings.Join(Categories, ", "))
			}
			r.Category = val
		case "source":
			r.Source = val
		}
	case "hosts":
		for _, h := range strings.Fields(val) {
			if err := checkHost(h); err != nil {
				return p.errf(p.line, "%v", err)
			}
			for _, old := range r.Hosts {
				if old == h {
					return p.errf(p.line, "host %q listed twice in rule %s", h, r.ID)
				}
			}
			r.Hosts = append(r.Hosts, h)
		}
	case "paths":
		for _, pat := range strings.Fields(val) {
			if _, err := compilePath(pat); err != nil {
				return p.errf(p.line, "%v", err)
			}
			r.Paths = append(r.Paths, pat)
		}
	case "query":
		for _, q := range strings.Fields(val) {
			if strings.ContainsAny(q, "&=#") {
				return p.errf(p.line, "query parameter name %q must not contain &, = or #", q)
			}
			r.Query = append(r.Query, q)
		}
	default:
		return p.errf(p.line, "unknown key %q (want company, product, category, hosts, paths, query or source)", key)
	}
	return nil
}

// finish validates the rule being read, if any, and adds it.
func (p *parser) finish() error {
	r := p.cur
	if r == nil {
		return nil
	}
	p.cur = nil
	for _, f := range []struct{ key, val string }{
		{"company", r.Company}, {"product", r.Product}, {"category", r.Category},
	} {
		if f.val == "" {
			return p.errf(r.Line, "rule %s has no %s", r.ID, f.key)
		}
	}
	if len(r.Hosts) == 0 {
		return p.errf(r.Line, "rule %s has no hosts", r.ID)
	}
	for _, h := range r.Hosts {
		if h == "*" && len(r.Paths) == 0 {
			return p.errf(r.Line, "rule %s: host * needs at least one path pattern", r.ID)
		}
	}
	p.rules = append(p.rules, r)
	return nil
}

func validID(id string) bool {
	if id == "" || id[0] == '-' || id[len(id)-1] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkHost validates a host pattern: "*" or a lower-case DNS name
// without scheme, port or path.
func checkHost(h string) error {
	if h == "*" {
		return nil
	}
	if strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return fmt.Errorf("host pattern %q has an empty label", h)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("host pattern %q must be a lower-case host name (no scheme, port, path or wildcard) or *", h)
		}
	}
	return nil
}
