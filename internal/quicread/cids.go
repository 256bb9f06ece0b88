package quicread

import "bytes"

// maxCIDs bounds the connection IDs a Conn remembers, both directions
// together, so that a hostile capture cannot grow its memory. Endpoints
// keep only a few IDs of their peer's at once (RFC 9000 §5.1.1:
// active_connection_id_limit, 2 by default, §18.2); the oldest goes
// first beyond the bound.
const maxCIDs = 64

// CIDHandler may be implemented by a Handler to follow the connection IDs
// the Conn learns (see Owns): to find the connection's packets on a new
// path after a migration or a NAT rebinding (RFC 9000 §9), whose short
// headers carry one of them. ConnectionID is called once when a
// connection ID is learnt (learnt true) and once when it is forgotten,
// because the bound was hit or the Conn closed. cid is only valid
// during the call.
type CIDHandler interface {
	ConnectionID(cid []byte, learnt bool)
}

// cidEntry is a connection ID packets may carry as Destination
// Connection ID, and which peer sends those packets. The ID is kept in
// place, not allocated apart.
type cidEntry struct {
	buf        [maxCIDLen]byte
	n          uint8
	fromClient bool
}

func (e *cidEntry) id() []byte { return e.buf[:e.n] }

// initialCIDs is the room made for connection IDs at the first: those of
// the handshake and a few issued each way.
const initialCIDs = 8

// learnCID records cid as a Destination Connection ID that packets from
// the client (fromClient) or from the server carry. Zero-length IDs are
// not recorded: they name no connection (RFC 9000 §5.1). An ID already
// known keeps the direction it was first learnt with.
func (c *Conn) learnCID(cid []byte, fromClient bool) {
	if len(cid) == 0 || len(cid) > maxCIDLen {
		return
	}
	for i := range c.cids {
		if bytes.Equal(c.cids[i].id(), cid) {
			return
		}
	}
	if len(c.cids) == maxCIDs {
		old := c.cids[0]
		copy(c.cids, c.cids[1:])
		c.cids = c.cids[:len(c.cids)-1]
		c.cidsChanged(old.id(), false)
	}
	if c.cids == nil {
		c.cids = make([]cidEntry, 0, initialCIDs)
	}
	e := cidEntry{n: uint8(len(cid)), fromClient: fromClient}
	copy(e.buf[:], cid)
	c.cids = append(c.cids, e)
	c.dir(fromClient).cidLens |= 1 << len(cid)
	c.cidsChanged(c.cids[len(c.cids)-1].id(), true)
}

// cidsChanged tells a CIDHandler.
func (c *Conn) cidsChanged(cid []byte, learnt bool) {
	if h, ok := c.h.(CIDHandler); ok {
		h.ConnectionID(cid, learnt)
	}
}

// Owns reports whether dcid is a connection ID that packets of the
// connection may carry as Destination Connection ID, and fromClient
// whether those packets come from the client. Known are the IDs of the
// long headers (the client's first DCID, each side's Source Connection
// ID, RFC 9000 §7.2) and those each side issued in a NEW_CONNECTION_ID
// frame (§19.15), which its peer sends to; at most the newest maxCIDs.
// A short header does not say how long its DCID is (§17.3): try each
// length of the connection IDs a CIDHandler learnt.
func (c *Conn) Owns(dcid []byte) (fromClient, ok bool) {
	for i := range c.cids {
		if bytes.Equal(c.cids[i].id(), dcid) {
			return c.cids[i].fromClient, true
		}
	}
	return false, false
}

// forgetCIDs forgets every connection ID, telling a CIDHandler.
func (c *Conn) forgetCIDs() {
	cids := c.cids
	c.cids = nil
	for i := range cids {
		c.cidsChanged(cids[i].id(), false)
	}
}
