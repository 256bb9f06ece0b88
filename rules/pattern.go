package rules

import (
	"fmt"
	"math/bits"
	"strings"
)

// maxPatternTokens bounds a path pattern so its matcher state fits in one
// uint64 bit set (one bit per token plus the final "matched" state).
const maxPatternTokens = 63

// token kinds of a compiled path pattern.
const (
	tokLiteral = iota // one byte, compared exactly
	tokSegStar        // "*": any run of bytes except '/'
	tokAnyStar        // "**": any run of bytes, '/' included
)

type token struct {
	kind uint8
	b    byte
}

// pathPattern is a compiled path glob (see the data file's header):
//
//	/tr          the path /tr exactly
//	/tr/*        /tr/ followed by one segment or nothing (* never crosses '/')
//	/b/ss/**     /b/ss/ followed by anything, slashes included
//	/*/sdk.js    any first segment, then /sdk.js
//
// Everything else is literal and case-sensitive, as URL paths are. The
// pattern matches the whole decoded path, never a substring.
type pathPattern struct {
	src string
	// prefix is the literal text before the first wildcard; a path not
	// starting with it cannot match, which rejects most paths cheaply.
	prefix string
	// kind says which fast path applies.
	kind uint8
	toks []token
	// closure[i] is the set of states reachable from state i through
	// wildcards matching the empty string, i included.
	closure []uint64
}

// pattern kinds, fastest first.
const (
	patExact      = iota // no wildcard: path == src
	patPrefixRest        // literal then a final "**": HasPrefix
	patGlob              // anything else: bit-parallel NFA
)

// compilePath checks and compiles a path pattern.
func compilePath(p string) (*pathPattern, error) {
	if p == "" || p[0] != '/' {
		return nil, fmt.Errorf("path pattern %q must start with /", p)
	}
	if strings.ContainsAny(p, " \t?#") {
		return nil, fmt.Errorf("path pattern %q must not contain spaces, ? or #", p)
	}
	if strings.Contains(p, "***") {
		return nil, fmt.Errorf("path pattern %q has *** (use * within a segment or ** across segments)", p)
	}
	pp := &pathPattern{src: p}
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '*' && i+1 < len(p) && p[i+1] == '*':
			pp.toks = append(pp.toks, token{kind: tokAnyStar})
			i++
		case p[i] == '*':
			pp.toks = append(pp.toks, token{kind: tokSegStar})
		default:
			pp.toks = append(pp.toks, token{kind: tokLiteral, b: p[i]})
		}
	}
	if len(pp.toks) > maxPatternTokens {
		return nil, fmt.Errorf("path pattern %q is too long (at most %d characters)", p, maxPatternTokens)
	}
	star := strings.IndexByte(p, '*')
	switch {
	case star < 0:
		pp.kind, pp.prefix = patExact, p
	case star == len(p)-2 && strings.HasSuffix(p, "**"):
		pp.kind, pp.prefix = patPrefixRest, p[:star]
	default:
		pp.kind, pp.prefix = patGlob, p[:star]
	}
	n := len(pp.toks)
	pp.closure = make([]uint64, n+1)
	for i := n; i >= 0; i-- {
		pp.closure[i] = 1 << uint(i)
		if i < n && pp.toks[i].kind != tokLiteral {
			pp.closure[i] |= pp.closure[i+1]
		}
	}
	return pp, nil
}

// match reports whether the pattern matches the whole of path. It runs in
// time linear in len(path) and never allocates.
func (pp *pathPattern) match(path string) bool {
	switch pp.kind {
	case patExact:
		return path == pp.src
	case patPrefixRest:
		return strings.HasPrefix(path, pp.prefix)
	}
	if !strings.HasPrefix(path, pp.prefix) {
		return false
	}
	n := len(pp.toks)
	final := uint64(1) << uint(n)
	// Simulate the pattern as an NFA: bit i set means the first i tokens
	// have matched the input read so far.
	state := pp.closure[0]
	for i := 0; i < len(path) && state != 0; i++ {
		c := path[i]
		var next uint64
		for s := state &^ final; s != 0; s &= s - 1 {
			j := bits.TrailingZeros64(s)
			t := pp.toks[j]
			switch t.kind {
			case tokLiteral:
				if t.b == c {
					next |= pp.closure[j+1]
				}
			case tokSegStar:
				if c != '/' {
					next |= pp.closure[j]
				}
			case tokAnyStar:
				next |= pp.closure[j]
			}
		}
		state = next
	}
	return state&final != 0
}

// String returns the pattern as written.
func (pp *pathPattern) String() string { return pp.src }
