package quicread

// UDP segmentation offload lets a sender hand the kernel many datagrams
// of one size in one call, and a receiver's GRO merges arriving ones the
// same way: a capture taken on either machine can then hold them as one
// UDP datagram (Linux; quic-go's server sends so). Each segment is a QUIC
// datagram of its own, all of one size but the last; read whole, the
// first short header packet would run to the end of the merged datagram
// and never authenticate. So a short header packet that does not
// authenticate is cut into segments, if it can be: of the size whose
// segments all start like a short header packet (fixed bit set, long
// header bit clear: header protection leaves both, RFC 9001 §5.4.1) and
// whose first segment authenticates.
const (
	// minSegment and maxSegment bound the segment sizes tried: a QUIC
	// sender's full-size datagrams, at least the 1200 bytes every path
	// must carry (RFC 9000 §14) and at most an Ethernet MTU's worth. The
	// last segment may be of any size.
	minSegment = 1200
	maxSegment = 1500
)

// gsoSegments returns the segments of pkt, a short header packet that did
// not authenticate whole, when it is longer than the smallest segment and
// a segment size is found; nil otherwise. It changes nothing in c.
func (c *Conn) gsoSegments(fromClient bool, pkt []byte) [][]byte {
	// Only once the direction's packets authenticate: then the keys and
	// the connection ID length are known, and a packet that fails is
	// worth the trials.
	if d := c.dir(fromClient); len(pkt) <= minSegment || !d.succeeded {
		return nil
	}
	for size := minSegment; size <= maxSegment && size < len(pkt); size++ {
		if !segmentsLookShort(pkt, size) || !c.authenticates(fromClient, pkt[:size]) {
			continue
		}
		segs := make([][]byte, 0, (len(pkt)+size-1)/size)
		for len(pkt) > 0 {
			n := min(size, len(pkt))
			segs = append(segs, pkt[:n])
			pkt = pkt[n:]
		}
		return segs
	}
	return nil
}

// segmentsLookShort reports whether every segment of d after the first,
// cut at size, starts like a short header packet.
func segmentsLookShort(d []byte, size int) bool {
	for off := size; off < len(d); off += size {
		if d[off]&0xc0 != 0x40 {
			return false
		}
	}
	return true
}

// authenticates reports whether pkt, a short header packet, opens with
// the 1-RTT keys known for its direction; it records nothing.
func (c *Conn) authenticates(fromClient bool, pkt []byte) bool {
	_, ok := c.try1RTT(c.dir(fromClient), pkt)
	return ok
}
