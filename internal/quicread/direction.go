package quicread

// direction is what a Conn knows about the packets one peer sends.
type direction struct {
	initialLargest int64 // largest Initial packet number, -1 for none
	appLargest     int64 // largest 1-RTT packet number, -1 for none

	// The DCID length of this direction's short headers: known once a
	// packet authenticated with it, else hinted by the peer's long
	// header SCID (-1 for no hint).
	cidLen   int
	cidKnown bool
	cidHint  int

	app       []*appKeys // 1-RTT keys, one per candidate suite
	succeeded bool       // a 1-RTT packet authenticated
	failures  int        // 1-RTT packets that failed before any success
	gaveUp    bool       // failures reached maxTrialFailures
}

func newDirection() direction {
	return direction{initialLargest: -1, appLargest: -1, cidHint: -1}
}

// hintCID notes the length of a connection ID the peer chose for this
// direction's packets, unless authentication already settled it.
func (d *direction) hintCID(n int) {
	if !d.cidKnown {
		d.cidHint = n
	}
}

// cidCandidates lists the DCID lengths to try on a short header (RFC 9000
// §17.3: its DCID has no length field): the known one, or the hint and
// then every other length a version 1 connection ID can have, 0 to 20.
func (d *direction) cidCandidates(dst *[maxCIDLen + 2]int) []int {
	if d.cidKnown {
		return append(dst[:0], d.cidLen)
	}
	out := dst[:0]
	if d.cidHint >= 0 {
		out = append(out, d.cidHint)
	}
	for n := 0; n <= maxCIDLen; n++ {
		if n != d.cidHint {
			out = append(out, n)
		}
	}
	return out
}

// keepSuite drops the keys of every suite but s, once a packet of either
// direction authenticated under s.
func (d *direction) keepSuite(s suite) {
	kept := d.app[:0]
	for _, ak := range d.app {
		if ak.cur.suite == s {
			kept = append(kept, ak)
		}
	}
	clear(d.app[len(kept):])
	d.app = kept
}
