package rules

import (
	"sort"
	"strings"
)

// names looks entries up by a name that is exact or, for entries added as
// prefixes, starts with the prefix and is longer. The longest prefix wins.
type names[T any] struct {
	exact    map[string]T
	prefixes []prefixEntry[T] // longest first, once sorted
}

type prefixEntry[T any] struct {
	prefix string
	v      T
}

// add files v under name; a name ending in "*" is a prefix (the "*" is
// dropped). Call sort after the last add.
func (n *names[T]) add(name string, v T) {
	if p, ok := strings.CutSuffix(name, "*"); ok {
		n.prefixes = append(n.prefixes, prefixEntry[T]{p, v})
		return
	}
	if n.exact == nil {
		n.exact = map[string]T{}
	}
	n.exact[name] = v
}

func (n *names[T]) sort() {
	sort.SliceStable(n.prefixes, func(i, j int) bool { return len(n.prefixes[i].prefix) > len(n.prefixes[j].prefix) })
}

func (n *names[T]) lookup(name string) (T, bool) {
	if v, ok := n.exact[name]; ok {
		return v, true
	}
	for _, e := range n.prefixes {
		if len(name) > len(e.prefix) && strings.HasPrefix(name, e.prefix) {
			return e.v, true
		}
	}
	var zero T
	return zero, false
}

func (n *names[T]) len() int { return len(n.exact) + len(n.prefixes) }
