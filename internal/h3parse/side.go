package h3parse

// Settings are the HTTP/3 settings (RFC 9114 §7.2.4) of one endpoint that
// this package reads.
type Settings struct {
	// Seen reports that the endpoint's SETTINGS frame arrived.
	Seen bool
	// MaxTableCapacity is SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204
	// §5): the largest dynamic table the peer's encoder may use for field
	// sections this endpoint decodes. Zero by default.
	MaxTableCapacity uint64
	// BlockedStreams is SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5):
	// how many of the peer's streams may be blocked on its encoder stream
	// at once. A capture can show more blocked than the endpoint saw, so
	// it is only reported.
	BlockedStreams uint64
}

// Settings identifiers (RFC 9204 §5).
const (
	settingQPACKMaxTableCapacity = 0x01
	settingQPACKBlockedStreams   = 0x07
)

// side is the state of one endpoint: its critical unidirectional streams
// (RFC 9114 §6.2), its SETTINGS, and the QPACK decoder for the field
// sections it encodes, whose dynamic table its encoder stream builds.
type side struct {
	client   bool
	control  bool // its control stream was opened
	encoder  bool // its QPACK encoder stream was opened
	decStrm  bool // its QPACK decoder stream was opened
	settings Settings
	goAway   bool
	goAwayID uint64

	dec decoder
	// blocked lists the request streams whose sections from this side
	// wait on dec (RFC 9204 §2.1.2); wake is the smallest insert count
	// that may release one of them.
	blocked []*reqStream
	wake    uint64
}

func newSide(client bool) *side { return &side{client: client, wake: ^uint64(0)} }
