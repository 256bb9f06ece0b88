package quicread

import "math/bits"

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
	// cidLens has bit n set when a connection ID of length n that this
	// direction's packets may carry was learnt (cids.go): after a
	// migration the peer may send to one of another length (RFC 9000
	// §5.1.1).
	cidLens uint32

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
// §17.3: its DCID has no length field): the known one, then those of
// the other connection IDs learnt for this direction; before one is
// known, the hint, the lengths learnt, and then every other length a
// version 1 connection ID can have, 0 to 20. It runs for every 1-RTT
// packet: the lengths learnt are walked bit by bit.
func (d *direction) cidCandidates(dst *[maxCIDLen + 2]int) []int {
	out := dst[:0]
	first := d.cidHint
	if d.cidKnown {
		first = d.cidLen
	}
	learnt := d.cidLens
	if first >= 0 {
		out = append(out, first)
		learnt &^= 1 << first
	}
	for m := learnt; m != 0; m &= m - 1 {
		out = append(out, bits.TrailingZeros32(m))
	}
	if d.cidKnown {
		return out
	}
	for n := 0; n <= maxCIDLen; n++ {
		if n != first && d.cidLens&(1<<n) == 0 {
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
