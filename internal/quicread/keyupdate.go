package quicread

// appKeys are one direction's 1-RTT keys for one cipher suite across key
// updates (RFC 9001 §6). The Key Phase bit tells the current generation
// from its neighbours; packets reordered across an update still use the
// previous generation, so it is kept, and the next one is derived when a
// packet with the other phase comes. Which of the two a packet with the
// other phase uses is decided by trying both (§6.5 allows using the
// packet number instead; trying needs no bookkeeping of where a
// generation started).
type appKeys struct {
	cur, prev, next *keys
	phase           bool // Key Phase bit of cur; generation 0 has phase 0
}

// candidates returns the key generations to try for a packet whose
// unprotected Key Phase bit is phase: the current generation when it
// matches, else the next (a key update) and the previous (reordering).
func (a *appKeys) candidates(phase bool) []*keys {
	if phase == a.phase {
		return []*keys{a.cur}
	}
	if a.next == nil {
		a.next = a.cur.next()
	}
	out := make([]*keys, 0, 2)
	if a.next != nil {
		out = append(out, a.next)
	}
	if a.prev != nil {
		out = append(out, a.prev)
	}
	return out
}
