package quicread

import (
	"bytes"
	"testing"
)

// TestOpenClientInitialRFC9001 removes the protection of the RFC 9001
// Appendix A.2 client Initial: the mask, the unprotected header and the
// payload, whose start is the given CRYPTO frame and the rest PADDING.
func TestOpenClientInitialRFC9001(t *testing.T) {
	pkt := hexFile(t, "rfc9001-a2-client-initial.hex")
	if len(pkt) != 1200 {
		t.Fatalf("packet is %d bytes", len(pkt))
	}
	h, ok := parseLong(pkt)
	if !ok || h.typ != typeInitial || h.pnOffset != 18 || h.size != 1200 ||
		!bytes.Equal(h.dcid, unhex(t, "8394c8f03e515708")) || len(h.scid) != 0 {
		t.Fatalf("header %+v ok=%v", h, ok)
	}
	cs, _ := initialSecrets(h.dcid)
	k, err := newKeys(aes128GCM, cs)
	if err != nil {
		t.Fatal(err)
	}
	m := k.hp.mask(unhex(t, "d1b1c98dd7689fb8ec11d242b123dc9b"))
	if !bytes.Equal(m[:], unhex(t, "437b9aec36")) {
		t.Errorf("mask %x", m)
	}
	u, ok := unmask(k.hp, pkt, h.pnOffset, true, nil)
	if !ok || !bytes.Equal(u.header, unhex(t, "c300000001088394c8f03e5157080000449e00000002")) || u.pnLen != 4 || u.truncated != 2 {
		t.Fatalf("unprotected %+v ok=%v", u, ok)
	}
	plain, ok := openPayload(k, pkt, u, 2, nil)
	if !ok {
		t.Fatal("does not authenticate")
	}
	crypto := hexFile(t, "rfc9001-a2-crypto-frame.hex")
	if len(plain) != 1162 || !bytes.Equal(plain[:len(crypto)], crypto) || bytes.ContainsFunc(plain[len(crypto):], func(r rune) bool { return r != 0 }) {
		t.Fatalf("payload %x", plain)
	}
	if _, ok := openPayload(k, pkt, u, 3, nil); ok {
		t.Error("authenticates with the wrong packet number")
	}
}

// TestOpenServerInitialRFC9001 opens the RFC 9001 Appendix A.3 server
// Initial with the server keys of the client's DCID.
func TestOpenServerInitialRFC9001(t *testing.T) {
	pkt := hexFile(t, "rfc9001-a3-server-initial.hex")
	h, ok := parseLong(pkt)
	if !ok || h.typ != typeInitial || !bytes.Equal(h.scid, unhex(t, "f067a5502a4262b5")) || h.size != len(pkt) {
		t.Fatalf("header %+v ok=%v", h, ok)
	}
	_, ss := initialSecrets(unhex(t, "8394c8f03e515708"))
	k, err := newKeys(aes128GCM, ss)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := unmask(k.hp, pkt, h.pnOffset, true, nil)
	if !ok || !bytes.Equal(u.header, unhex(t, "c1000000010008f067a5502a4262b50040750001")) {
		t.Fatalf("unprotected %+v ok=%v", u, ok)
	}
	if pn := decodePacketNumber(-1, u.truncated, uint(8*u.pnLen)); pn != 1 {
		t.Fatalf("packet number %d", pn)
	}
	plain, ok := openPayload(k, pkt, u, 1, nil)
	if !ok || !bytes.Equal(plain, hexFile(t, "rfc9001-a3-payload.hex")) {
		t.Fatalf("payload %x ok=%v", plain, ok)
	}
}

// TestOpenChaChaShortRFC9001 opens the RFC 9001 Appendix A.5 packet: an
// empty DCID, a 3-byte packet number, a PING.
func TestOpenChaChaShortRFC9001(t *testing.T) {
	pkt := hexFile(t, "rfc9001-a5-short-header.hex")
	k, err := newKeys(chacha20Poly1305, unhex(t, a5Secret))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := unmask(k.hp, pkt, 1, false, nil)
	if !ok || !bytes.Equal(u.header, unhex(t, "4200bff4")) || u.keyPhase() {
		t.Fatalf("unprotected %+v ok=%v", u, ok)
	}
	// The largest packet number seen just below makes 0x00bff4 decode to
	// 654360564 (RFC 9000 Appendix A.3).
	pn := decodePacketNumber(654360563, u.truncated, 24)
	if pn != 654360564 {
		t.Fatalf("packet number %d", pn)
	}
	plain, ok := openPayload(k, pkt, u, pn, nil)
	if !ok || !bytes.Equal(plain, []byte{0x01}) {
		t.Fatalf("payload %x ok=%v", plain, ok)
	}
	// Under AES-128 (same secret length) it must not authenticate.
	other, err := newKeys(aes128GCM, unhex(t, a5Secret))
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := unmask(other.hp, pkt, 1, false, nil); ok {
		if _, ok := openPayload(other, pkt, u, decodePacketNumber(654360563, u.truncated, uint(8*u.pnLen)), nil); ok {
			t.Error("authenticates under aes-128-gcm")
		}
	}
}

// TestUnmaskShort checks that packets too short for the sample fail
// instead of reading out of bounds.
func TestUnmaskShort(t *testing.T) {
	k, err := newKeys(aes128GCM, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	pkt := hexFile(t, "rfc9001-a5-short-header.hex")
	for n := 0; n < len(pkt); n++ {
		if _, ok := unmask(k.hp, pkt[:n], 1, false, nil); ok {
			t.Errorf("%d bytes unmasked", n)
		}
	}
	if _, ok := unmask(k.hp, pkt, 0, false, nil); ok {
		t.Error("packet number offset 0 unmasked")
	}
}

// TestPNCandidates checks the reordering fallbacks around a decoding.
func TestPNCandidates(t *testing.T) {
	var dst [3]uint64
	u := unprotected{pnLen: 1, truncated: 5}
	if got := pnCandidates(&dst, 300, u, false); len(got) != 1 || got[0] != 261 {
		t.Errorf("in order: %v", got)
	}
	if got := pnCandidates(&dst, 300, u, true); len(got) != 3 || got[0] != 261 || got[1] != 5 || got[2] != 517 {
		t.Errorf("reordered: %v", got)
	}
	if got := pnCandidates(&dst, -1, u, true); len(got) != 2 || got[0] != 5 || got[1] != 261 {
		t.Errorf("first: %v", got)
	}
}
