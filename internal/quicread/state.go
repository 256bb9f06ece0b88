package quicread

// State says how far decryption of a connection got, for a warning when it
// yields nothing.
type State int

const (
	// Handshake: no 1-RTT packet has been decrypted, and nothing else
	// below applies yet (typically the ClientHello is not complete, or no
	// 1-RTT packet has come).
	Handshake State = iota
	// NoKeys: the ClientHello is complete but the key log has no traffic
	// secrets for its random (or the Conn was made without secrets or
	// handler).
	NoKeys
	// Decrypting: 1-RTT packets authenticate with the key log's secrets.
	Decrypting
	// AuthFailed: secrets were found but no 1-RTT packet authenticates
	// with them under any cipher suite.
	AuthFailed
	// Unsupported: the connection uses a QUIC version other than 1, or
	// the server answered with Version Negotiation.
	Unsupported
)

// String gives a short lowercase reason, usable in a warning.
func (s State) String() string {
	switch s {
	case Handshake:
		return "handshake not seen"
	case NoKeys:
		return "no keys"
	case Decrypting:
		return "decrypting"
	case AuthFailed:
		return "failed authentication"
	case Unsupported:
		return "unsupported quic version"
	}
	return "unknown state"
}

// Stats counts what a Conn saw. Packets are counted one by one, also when
// several share a datagram.
type Stats struct {
	Datagrams int // UDP payloads given to Datagram

	// ClientPackets and ServerPackets count the packets that
	// authenticated, Initial, 0-RTT and 1-RTT, per direction.
	ClientPackets, ServerPackets int
	// EarlyPackets counts the client's 0-RTT packets that authenticated.
	EarlyPackets int
	// Failed counts packets that did not authenticate with any key
	// tried, including 1-RTT packets when the key log has no secrets.
	Failed int
	// Skipped counts packets not meant to be decrypted: Handshake, Retry,
	// Version Negotiation, other versions, and 0-RTT without
	// DecryptEarly.
	Skipped int
	// Malformed counts packets and frames that could not be parsed:
	// truncated headers, lengths beyond the datagram, frames running past
	// their packet, frames on streams their sender may not use.
	Malformed int
	// UnknownFrames counts packets whose parsing stopped at an unknown
	// frame type.
	UnknownFrames int
	// Undecryptable counts 1-RTT packets dropped unread because no key
	// could be had for them: no ClientHello, no secrets, or too many
	// waiting for the ClientHello.
	Undecryptable int

	// Closes counts CONNECTION_CLOSE frames in packets that
	// authenticated: after one the connection is over (RFC 9000 §10.2).
	Closes int

	StreamBytes uint64 // stream data delivered to the Handler
	Resets      int    // RESET_STREAM reported to the Handler
	// Gaps counts stream directions given up because a buffer bound was
	// hit or too many streams were open, and, after Close, those left
	// with missing bytes.
	Gaps int
	// Buffered is the stream data held past holes now, MaxBuffered its
	// peak; each piece also counts a fixed overhead.
	Buffered, MaxBuffered int
}
