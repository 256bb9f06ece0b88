package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// packetSource reads packet records from a pcap or pcapng file. The data
// returned by next is valid until the following call.
type packetSource struct {
	pcap  *pcapgo.Reader
	ng    *pcapgo.NgReader
	guard *ngGuard
	lt    linkType // of a classic pcap file
}

// openPacketSource reads the file header and picks the format by magic.
func openPacketSource(br *bufio.Reader) (*packetSource, error) {
	head, err := br.Peek(4)
	if err != nil {
		if len(head) == 0 {
			return nil, errors.New("empty file, not a pcap or pcapng capture")
		}
		return nil, errors.New("truncated file header, not a pcap or pcapng capture")
	}
	if !IsPCAP(head) {
		return nil, fmt.Errorf("not a pcap or pcapng capture (magic %x)", head)
	}
	if binary.LittleEndian.Uint32(head) == 0x0a0d0d0a {
		g := &ngGuard{r: br}
		ng, err := func() (ng *pcapgo.NgReader, err error) {
			defer pcapgoPanic(&err)
			return pcapgo.NewNgReader(g, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		}()
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				return nil, errors.New("truncated pcapng section header")
			}
			return nil, fmt.Errorf("bad pcapng section header: %v", lowerFirst(err))
		}
		return &packetSource{ng: ng, guard: g}, nil
	}
	hdr, _ := br.Peek(24)
	if len(hdr) < 24 {
		return nil, errors.New("truncated pcap file header")
	}
	var order binary.ByteOrder = binary.LittleEndian
	if m := binary.LittleEndian.Uint32(hdr); m == 0xd4c3b2a1 || m == 0x4d3cb2a1 {
		order = binary.BigEndian
	}
	// The upper bits of the field carry FCS information.
	lt := linkType(order.Uint32(hdr[20:]) & 0xffff)
	r, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("bad pcap file header: %v", lowerFirst(err))
	}
	// Some writers record packets longer than the header's snaplen; tools
	// read them anyway. Accept up to maxSnaplen, refuse more.
	r.SetSnaplen(maxSnaplen)
	return &packetSource{pcap: r, lt: lt}, nil
}

// next returns the next packet and its link type; io.EOF at a clean end,
// an error wrapping io.ErrUnexpectedEOF when the file stops inside a
// record.
func (s *packetSource) next() (_ []byte, _ gopacket.CaptureInfo, _ linkType, err error) {
	defer pcapgoPanic(&err)
	if s.pcap != nil {
		data, ci, err := s.pcap.ZeroCopyReadPacketData()
		if err != nil {
			return nil, ci, 0, readErr(err)
		}
		return data, ci, s.lt, nil
	}
	data, ci, err := s.ng.ZeroCopyReadPacketData()
	if err != nil {
		return nil, ci, 0, readErr(err)
	}
	lt := linkTypeEthernet
	if i := ci.InterfaceIndex; i >= 0 && i < len(s.guard.ifaces) {
		lt = s.guard.ifaces[i]
	}
	return data, ci, lt, nil
}

// pcapgoPanic turns a panic in pcapgo into an error in *err. pcapgo
// v1.1.19 divides by an interface's timestamp resolution after computing
// it with overflowing shifts (an if_tsresol of 2^-64 panics with a divide
// by zero; found by FuzzReadPCAP), and the reader cannot go on after such
// a block.
func pcapgoPanic(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("a block pcapgo cannot decode (%v)", v)
	}
}

// readErr maps a reader error: a clean EOF stays io.EOF, a short read
// becomes io.ErrUnexpectedEOF, anything else is corruption.
func readErr(err error) error {
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return io.ErrUnexpectedEOF
	}
	return lowerFirst(err)
}

// lowerFirst rewords gopacket's capitalised messages in house style.
func lowerFirst(err error) error {
	s := err.Error()
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return errors.New(string(s[0]+'a'-'A') + s[1:])
	}
	return err
}

// maxBlock bounds one pcapng block: a packet of maxSnaplen plus generous
// room for options.
const maxBlock = maxSnaplen + 1<<16

// ngGuard sits between the file and pcapgo's NgReader, whose v1.1.19
// trusts block and capture lengths (it allocates whatever a record
// claims). ngGuard reads one whole block at a time, checks its framing
// and lengths, clamps interface snaplens to maxSnaplen, and only then
// passes the bytes on. A bad block becomes an error from Read.
type ngGuard struct {
	r     *bufio.Reader
	order binary.ByteOrder
	block []byte // current block, validated
	off   int    // bytes of block already passed on
	// ifaces are the link types of the current section's interfaces, in
	// order: NgReader reports a packet's interface index but only a
	// uint8 link type. NgReader's bufio refills only when empty and
	// ngGuard never returns bytes across a block boundary, so when a
	// packet is returned its block is the last one ngGuard read.
	ifaces []linkType
	// secrets are the TLS key logs of Decryption Secrets Blocks read
	// since the reader last took them (what `editcap --inject-secrets`
	// writes), for decrypting TLS without a separate key log file.
	secrets [][]byte
}

func (g *ngGuard) Read(p []byte) (int, error) {
	if g.off == len(g.block) {
		if err := g.nextBlock(); err != nil {
			return 0, err
		}
	}
	n := copy(p, g.block[g.off:])
	g.off += n
	return n, nil
}

func (g *ngGuard) nextBlock() error {
	hdr, err := g.r.Peek(12)
	if len(hdr) == 0 && err != nil {
		return io.EOF
	}
	if len(hdr) < 12 {
		return io.ErrUnexpectedEOF
	}
	typ := binary.LittleEndian.Uint32(hdr)
	if typ == 0x0a0d0d0a {
		switch binary.LittleEndian.Uint32(hdr[8:]) {
		case 0x1a2b3c4d:
			g.order = binary.LittleEndian
		case 0x4d3c2b1a:
			g.order = binary.BigEndian
		default:
			return fmt.Errorf("pcapng section header with bad byte-order magic %x", hdr[8:12])
		}
	} else if g.order == nil {
		return errors.New("pcapng data before the first section header")
	} else {
		typ = g.order.Uint32(hdr)
	}
	length := g.order.Uint32(hdr[4:])
	if length < 12 || length%4 != 0 || length > maxBlock {
		return fmt.Errorf("pcapng block of type %#x has bad length %d", typ, length)
	}
	if cap(g.block) < int(length) {
		g.block = make([]byte, length)
	}
	g.block = g.block[:length]
	g.off = 0
	if _, err := io.ReadFull(g.r, g.block); err != nil {
		g.block = g.block[:0]
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	b := g.block
	if g.order.Uint32(b[length-4:]) != length {
		return fmt.Errorf("pcapng block of type %#x: trailing length does not match %d", typ, length)
	}
	switch typ {
	case 0x0a0d0d0a: // section header: magic, version, section length
		if length < 28 {
			return errors.New("pcapng section header too short")
		}
		g.ifaces = g.ifaces[:0]
		return g.checkOptions(typ, b, 24)
	case 5: // interface statistics: iface, ts high, ts low
		if length < 24 {
			return errors.New("pcapng statistics block too short")
		}
		return g.checkOptions(typ, b, 20)
	case 1: // interface description: link type, reserved, snaplen
		if length < 20 {
			return errors.New("pcapng interface block too short")
		}
		if err := g.checkOptions(typ, b, 16); err != nil {
			return err
		}
		g.ifaces = append(g.ifaces, linkType(g.order.Uint16(b[8:])))
		if g.order.Uint32(b[12:]) > maxSnaplen {
			g.order.PutUint32(b[12:], maxSnaplen)
		}
	case 6: // enhanced packet: iface, ts high, ts low, caplen, len
		if length < 32 {
			return errors.New("pcapng packet block too short")
		}
		if caplen := g.order.Uint32(b[20:]); caplen > length-32 || caplen > maxSnaplen {
			return fmt.Errorf("pcapng packet block claims %d captured bytes in a %d-byte block", caplen, length)
		}
	case 2: // obsolete packet block: iface, drops, ts high, ts low, caplen, len
		if length < 32 {
			return errors.New("pcapng packet block too short")
		}
		if caplen := g.order.Uint32(b[20:]); caplen > length-32 || caplen > maxSnaplen {
			return fmt.Errorf("pcapng packet block claims %d captured bytes in a %d-byte block", caplen, length)
		}
	case 10: // decryption secrets: type, length, data (pcapng spec §4.7)
		if length < 20 {
			return errors.New("pcapng decryption secrets block too short")
		}
		n := g.order.Uint32(b[12:])
		if n > length-20 {
			return fmt.Errorf("pcapng decryption secrets block claims %d bytes in a %d-byte block", n, length)
		}
		if g.order.Uint32(b[8:]) == secretsTLSKeyLog {
			g.secrets = append(g.secrets, append([]byte(nil), b[16:16+n]...))
		}
	case 3: // simple packet: original length; data fills the block
		if length < 16 {
			return errors.New("pcapng simple packet block too short")
		}
		if olen := g.order.Uint32(b[8:]); olen > length-16 {
			// NgReader would read past the block; clamp to what is there.
			g.order.PutUint32(b[8:], length-16)
		}
	}
	return nil
}

// secretsTLSKeyLog is the Decryption Secrets Block type of an NSS key
// log ("TLSK").
const secretsTLSKeyLog = 0x544c534b

// takeSecrets returns the key logs embedded in the blocks read so far and
// forgets them.
func (s *packetSource) takeSecrets() [][]byte {
	if s.guard == nil || s.guard.secrets == nil {
		return nil
	}
	k := s.guard.secrets
	s.guard.secrets = nil
	return k
}

// checkOptions walks the option list of a block that NgReader parses
// option by option, so that no option claims bytes beyond its block
// (NgReader would read into the next block and lose its framing).
func (g *ngGuard) checkOptions(typ uint32, b []byte, off int) error {
	end := len(b) - 4
	for off+4 <= end {
		code := g.order.Uint16(b[off:])
		n := int(g.order.Uint16(b[off+2:]))
		if code == 0 {
			return nil
		}
		off += 4 + (n+3)&^3
		if off > end {
			return fmt.Errorf("pcapng block of type %#x has an option running past its end", typ)
		}
	}
	if off != end {
		return fmt.Errorf("pcapng block of type %#x has a cut option header", typ)
	}
	return nil
}
