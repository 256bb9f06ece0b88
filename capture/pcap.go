package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/reassembly"

	"github.com/trackaudit/trackaudit/internal/tlskeylog"
	"github.com/trackaudit/trackaudit/traffic"
)

// PCAPStats says what ReadPCAP saw in one capture.
type PCAPStats struct {
	// Packets is the number of packet records read, Bytes the sum of their
	// captured lengths.
	Packets int
	Bytes   int64
	// Exchanges counts the plaintext HTTP exchanges handed to fn, Contacts
	// the host-only records (TLS SNI, DNS).
	Exchanges int
	Contacts  int
	// Decrypted counts the TLS connections, QUIC ones included, whose
	// traffic the key log (PCAPOptions.KeyLog) decrypted.
	Decrypted int
	// Skipped counts packets that could not be decoded: a link, IP, TCP or
	// UDP header cut short or malformed, an unsupported link type, an IPv4
	// fragment. Packets that decode fine but carry nothing of interest
	// (ARP, ICMP, ciphertext after the ClientHello) are not skipped.
	Skipped int
	// Truncated is set when the file ended inside a packet record or block
	// (a capture that was still being written, or a cut download).
	Truncated bool
	// LinkTypes names the link types of the packets read, sorted.
	LinkTypes []string
	// Warnings are one-line, human-readable notes naming the file, sorted.
	Warnings []string
}

// maxSnaplen caps the captured length of one packet. It is tcpdump's
// maximum (256 KiB); a record claiming more is corrupt.
// Source: research/reliability-security.md §4.2.
const maxSnaplen = 262144

// Reassembly bounds (research/reliability-security.md §4.2): pages of out-of-
// order data buffered in total and per connection (a page is ~1.9 KB), and
// how long a connection may idle, by packet time, before it is flushed.
const (
	maxPagesTotal   = 50000
	maxPagesPerConn = 1000
	idleTimeout     = 2 * time.Minute
	flushEvery      = 30 * time.Second
)

// IsPCAP reports whether head, the first bytes of a file, starts like a
// libpcap file (either byte order, micro- or nanosecond timestamps) or a
// pcapng file (section header block 0x0A0D0D0A).
func IsPCAP(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	switch binary.LittleEndian.Uint32(head) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
		return true
	}
	return false
}

// ReadPCAP reads a pcap or pcapng capture (told apart by its magic number,
// not its name) and calls fn, from the calling goroutine, once per record
// found, in capture order:
//
//   - every plaintext HTTP/1.x request, with its response when one was
//     captured (TCP streams are reassembled; pipelined and keep-alive
//     requests are matched to responses in order);
//   - every TLS ClientHello that names a server (SNI) as a HostOnly record
//     with Via "tls-sni", and likewise "quic-sni" for the ClientHello in
//     a QUIC (HTTP/3) client's Initial packets, which anyone can decrypt
//     (RFC 9001 §5.2; version 1);
//   - every DNS name asked or answered (as a CNAME) on UDP port 53 as a
//     HostOnly record with Via "dns", once per client and name per minute.
//
// A record whose host the capture's DNS answers made an alias (CNAME) of
// another name has that name, the chain followed, in Exchange.CNAME.
//
// name labels the capture in records (Exchange.Source) and messages. IDs
// count from 1. Records whose connection was still open when their idle
// timer expired or the file ended are handed over in a deterministic order
// (start time, then connection, then position in it).
//
// A file that ends inside a record gives a partial result with Truncated
// set and a warning. A corrupt record (absurd lengths, garbage) ends the
// read with an error naming the file and the number of packets read
// before it; the stats and the records already handed over stay valid.
// When fn returns an error, reading stops and that error is returned.
// ReadPCAP never panics and its memory is bounded by the reassembly
// limits, not by the capture's length.
func ReadPCAP(r io.Reader, name string, fn func(*traffic.Exchange) error) (PCAPStats, error) {
	return ReadPCAPWith(r, name, PCAPOptions{}, fn)
}

// PCAPOptions change what ReadPCAPWith makes of a capture.
type PCAPOptions struct {
	// KeyLog, when not nil, holds TLS secrets (a browser's SSLKEYLOGFILE).
	// A TLS connection whose secrets it holds is decrypted, and the
	// HTTP/1.x or HTTP/2 exchanges inside become records like plaintext
	// ones (scheme https), instead of one "tls-sni" contact record. A
	// connection it cannot decrypt stays a contact record, and the stats'
	// warnings count why (no keys, unsupported cipher suite, failed
	// authentication). QUIC versions 1 and 2 connections are decrypted
	// likewise, and their HTTP/3 exchanges become records.
	KeyLog *tlskeylog.KeyLog
}

// ReadPCAPWith is ReadPCAP with options.
func ReadPCAPWith(r io.Reader, name string, opt PCAPOptions, fn func(*traffic.Exchange) error) (PCAPStats, error) {
	pr := newPCAPReader(name, fn)
	pr.keyLog = opt.KeyLog
	err := pr.run(r)
	return pr.finish(), err
}

// pcapReader holds the state of one ReadPCAP call.
type pcapReader struct {
	name string
	fn   func(*traffic.Exchange) error
	st   PCAPStats
	// fnErr is the first error fn returned; once set, no more records are
	// handed over and reading stops.
	fnErr  error
	nextID int64

	asm     *reassembly.Assembler
	ctx     pktContext
	hosts   hostTracker // which IP addresses are one machine
	streams int         // streams created, numbering them in capture order

	// now is the latest packet time seen; lastFlush when idle
	// connections were last flushed.
	now, lastFlush time.Time

	// batching collects records made during a flush, whose connections
	// come from a map in random order, to sort them before handing over.
	batching bool
	batch    []pendingRecord
	order    startOrder // finished records, handed on by start (pcap_order.go)

	dec  packetDecoder
	dns  dnsTracker
	ech  echNames // ECH public names (see pcap_ech.go)
	quic quicTracker
	link map[linkType]int

	keyLog *tlskeylog.KeyLog

	// counters for warnings
	tlsUndecrypted  map[string]int // TLS connections not decrypted, by reason
	tlsStopped      map[string]int // decrypted ones that stopped early, by reason
	h2Errors        int            // HTTP/2 connections not parsed to the end
	tlsMidstream    int            // TLS connections that began before the capture
	quicUndecrypted map[string]int // QUIC connections not decrypted with a key log, by reason
	quicGaps        int            // decrypted QUIC connections with stream bytes missing
	h3Errors        int            // HTTP/3 connections not parsed to the end
	unsupportedLink map[linkType]int
	lostDatagrams   int // IP datagrams whose fragments never all came
	orphanResponses int
	panics          int
}

// pendingRecord is a record made during a flush with its sort key.
type pendingRecord struct {
	ex     *traffic.Exchange
	stream int
	seq    int
}

// pktContext gives the assembler the capture info of the current packet.
type pktContext struct{ ci gopacket.CaptureInfo }

func (c *pktContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// packetTime is the time of the packet being assembled, or the latest
// packet time when there is none. It is what ScatterGather.CaptureInfo
// would say for any reassembled byte: every packet is passed with the
// same context, pr.ctx, and gopacket asks a buffered page's context only
// when it is handed over, so buffered bytes get the time of the packet
// that released them. It is read directly: cheaper, and gopacket
// v1.1.19 leaves the context nil on all but the first page of a buffered
// packet, a panic for a message starting there
// (TestReadPCAPLargeSegmentOutOfOrder).
func (pr *pcapReader) packetTime() time.Time {
	if t := pr.ctx.ci.Timestamp; !t.IsZero() {
		return t
	}
	return pr.now
}

func newPCAPReader(name string, fn func(*traffic.Exchange) error) *pcapReader {
	pr := &pcapReader{
		name:            name,
		fn:              fn,
		link:            map[linkType]int{},
		unsupportedLink: map[linkType]int{},
		tlsUndecrypted:  map[string]int{},
		tlsStopped:      map[string]int{},
	}
	pr.dns.init()
	pool := reassembly.NewStreamPool(&streamFactory{pr: pr})
	pr.asm = reassembly.NewAssembler(pool)
	pr.asm.MaxBufferedPagesTotal = maxPagesTotal
	pr.asm.MaxBufferedPagesPerConnection = maxPagesPerConn
	return pr
}

// run reads every packet of r and feeds it through the decoders.
func (pr *pcapReader) run(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<16)
	}
	src, err := openPacketSource(br)
	if err != nil {
		return fmt.Errorf("%s: %w", pr.name, err)
	}
	for pr.fnErr == nil {
		data, ci, lt, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				pr.st.Truncated = true
				pr.warnf("truncated packet record after %d packets", pr.st.Packets)
				break
			}
			pr.flushAll()
			return fmt.Errorf("%s: corrupt packet record after %d packets: %v", pr.name, pr.st.Packets, err)
		}
		for _, kl := range src.takeSecrets() {
			pr.addSecrets(kl)
		}
		pr.st.Packets++
		pr.st.Bytes += int64(len(data))
		pr.link[lt]++
		pr.packet(data, ci, lt)
	}
	if pr.fnErr != nil {
		return pr.fnErr
	}
	pr.flushAll()
	return pr.fnErr
}

// addSecrets adds a key log embedded in the capture to the one the
// caller gave, so later TLS connections are decrypted with both. A bad
// key log is a warning: the capture is still read.
func (pr *pcapReader) addSecrets(text []byte) {
	kl, err := tlskeylog.Parse(bytes.NewReader(text))
	if err != nil {
		pr.warnf("embedded TLS key log ignored: %v", err)
		return
	}
	pr.keyLog = tlskeylog.Merge(pr.keyLog, kl)
}

// packet decodes one packet, recovering from any panic in a decoder so
// that one hostile packet costs one skipped packet, not the run.
func (pr *pcapReader) packet(data []byte, ci gopacket.CaptureInfo, lt linkType) {
	defer func() {
		if v := recover(); v != nil {
			pr.panics++
			pr.st.Skipped++
		}
	}()
	if ci.Timestamp.After(pr.now) {
		pr.now = ci.Timestamp
	}
	if pr.lastFlush.IsZero() {
		pr.lastFlush = pr.now
	}
	if pr.now.Sub(pr.lastFlush) >= flushEvery {
		pr.lastFlush = pr.now
		pr.flushOlder(pr.now.Add(-idleTimeout))
	}
	p, res := pr.dec.decode(data, lt, ci.Timestamp)
	switch res {
	case decodeSkip:
		pr.st.Skipped++
		return
	case decodeUnsupportedLink:
		pr.st.Skipped++
		pr.unsupportedLink[lt]++
		return
	case decodeOther, decodeHeld:
		return
	}
	ci.AncillaryData = nil
	if p.tcp != nil && p.tcp.SYN && !p.tcp.ACK || p.udp != nil && (p.udp.DstPort == 53 || p.udp.DstPort == 443) {
		// A client's opening packets are enough to know its machine
		// (hostTracker), and far fewer than all.
		pr.hosts.saw(p.netFlow.Src(), linkSource(data, lt))
	}
	if p.tcp != nil {
		if t := p.tcp; len(t.Payload) == 0 && !t.SYN && !t.FIN && !t.RST {
			// A pure ACK carries nothing to reassemble. Passing it on
			// would also re-create every closed connection in the
			// stream pool (the last ACK after both FINs) and keep it
			// there until the idle flush.
			return
		}
		pr.ctx.ci = ci
		pr.asm.AssembleWithContext(p.netFlow, p.tcp, &pr.ctx)
		return
	}
	if p.udp != nil && !pr.dnsPacket(p, ci.Timestamp) {
		pr.quicPacket(p, ci.Timestamp)
	}
}

// flushOlder flushes and closes connections idle since before t.
func (pr *pcapReader) flushOlder(t time.Time) {
	pr.batching = true
	pr.asm.FlushCloseOlderThan(t)
	pr.quic.endOlder(t, false)
	pr.endBatch()
	pr.lostDatagrams += pr.dec.discardFragments(t)
}

// flushAll closes every connection at the end of the capture.
func (pr *pcapReader) flushAll() {
	pr.batching = true
	func() {
		defer func() {
			if v := recover(); v != nil {
				pr.panics++
			}
		}()
		pr.asm.FlushAll()
		pr.quic.endOlder(time.Time{}, true)
	}()
	pr.endBatch()
	pr.release(true)
}

func (pr *pcapReader) endBatch() {
	pr.batching = false
	b := pr.batch
	pr.batch = nil
	sort.SliceStable(b, func(i, j int) bool {
		if !b[i].ex.Start.Equal(b[j].ex.Start) {
			return b[i].ex.Start.Before(b[j].ex.Start)
		}
		if b[i].stream != b[j].stream {
			return b[i].stream < b[j].stream
		}
		return b[i].seq < b[j].seq
	})
	for _, rec := range b {
		pr.hold(rec.ex)
	}
}

// emit hands a finished record to fn, or queues it while a flush runs.
// stream and seq order records made during one flush.
func (pr *pcapReader) emit(ex *traffic.Exchange, stream, seq int) {
	if pr.batching {
		pr.batch = append(pr.batch, pendingRecord{ex: ex, stream: stream, seq: seq})
		return
	}
	pr.hold(ex)
}

func (pr *pcapReader) deliver(ex *traffic.Exchange) {
	if pr.fnErr != nil {
		return
	}
	pr.nextID++
	ex.ID = pr.nextID
	ex.Source = pr.name
	if len(pr.dns.aliases) > 0 && ex.Request.URL != nil {
		if c := pr.dns.canonical(ex.Host()); c != "" && c != ex.Host() {
			ex.CNAME = c
		}
	}
	if ex.HostOnly {
		pr.st.Contacts++
	} else {
		pr.st.Exchanges++
	}
	if err := pr.fn(ex); err != nil {
		pr.fnErr = err
	}
}

func (pr *pcapReader) warnf(format string, args ...any) {
	pr.st.Warnings = append(pr.st.Warnings, pr.name+": "+fmt.Sprintf(format, args...))
}

// connections says "1 <kind> connection" or "n <kind> connections".
func connections(n int, kind string) string {
	if n == 1 {
		return "1 " + kind + " connection"
	}
	return fmt.Sprintf("%d %s connections", n, kind)
}

// finish turns the counters into stats.
func (pr *pcapReader) finish() PCAPStats {
	for lt := range pr.link {
		pr.st.LinkTypes = append(pr.st.LinkTypes, lt.String())
	}
	sort.Strings(pr.st.LinkTypes)
	for lt, n := range pr.unsupportedLink {
		pr.warnf("%d packets of unsupported link type %s skipped", n, lt.String())
	}
	pr.lostDatagrams += pr.dec.discardFragments(pr.now.Add(time.Nanosecond))
	if pr.lostDatagrams > 0 {
		pr.warnf("%d IP datagrams skipped: not all of their fragments were captured", pr.lostDatagrams)
	}
	if pr.orphanResponses > 0 {
		pr.warnf("%d HTTP responses without a captured request ignored", pr.orphanResponses)
	}
	for why, n := range pr.tlsUndecrypted {
		pr.warnf("%s not decrypted (shown as contacts): %s", connections(n, "TLS"), why)
	}
	for why, n := range pr.tlsStopped {
		pr.warnf("decryption stopped early in %s: %s", connections(n, "TLS"), why)
	}
	if n := pr.tlsMidstream; n > 0 {
		pr.warnf("%s began before the capture (its handshake is not in it): neither its server nor its contents can be read; start capturing before the browser", connections(n, "TLS"))
	}
	if n := len(pr.quic.midstream); n > 0 {
		// A QUIC connection that moved to a new address without the key
		// log (which names its new connection IDs) looks the same.
		pr.warnf("%s began before the capture, or moved to an address the key log could have tied to it (its handshake is not in it): neither its server nor its contents can be read; start capturing before the browser", connections(n, "QUIC"))
	}
	for why, n := range pr.quicUndecrypted {
		pr.warnf("%s not decrypted (shown as contacts): %s", connections(n, "QUIC (HTTP/3)"), why)
	}
	if pr.quicGaps > 0 {
		pr.warnf("%s missed stream bytes: their requests may be incomplete", connections(pr.quicGaps, "decrypted QUIC"))
	}
	if pr.h2Errors > 0 {
		pr.warnf("HTTP/2 parsing stopped early in %s", connections(pr.h2Errors, "decrypted"))
	}
	if pr.h3Errors > 0 {
		pr.warnf("HTTP/3 parsing stopped early in %s", connections(pr.h3Errors, "decrypted QUIC"))
	}
	if pr.panics > 0 {
		pr.warnf("%d packets made a decoder fail and were skipped", pr.panics)
	}
	sort.Strings(pr.st.Warnings)
	return pr.st
}
