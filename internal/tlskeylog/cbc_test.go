package tlskeylog

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/tls"
	"encoding/binary"
	"hash"
	"testing"
)

// cbcSealer is the sending side of cbcCipher, for the tests: it protects
// records as RFC 5246 §6.2.3.2 (MAC-then-encrypt) or RFC 7366 §3
// (encrypt-then-MAC) say, and lets a test break them.
type cbcSealer struct {
	block   cipher.Block
	mac     hash.Hash
	etm     bool
	iv      []byte // TLS 1.0: the chained IV; nil: a fresh explicit IV per record
	seq     uint64
	version uint16
}

// newSealerPair returns a sealer and a cipher that opens its records,
// with keys of their own for each mode: a record of one mode must not
// pass the MAC check of another (FuzzCBCOpen).
func newSealerPair(t *testing.T, etm, tls10 bool) (*cbcSealer, *cbcCipher) {
	t.Helper()
	mode := uint64(btoi(etm) + 2*btoi(tls10))
	key, macKey := testData(10+mode, 16), testData(20+mode, 20)
	var iv []byte
	version := uint16(versionTLS12)
	if tls10 {
		iv, version = testData(9, aes.BlockSize), versionTLS10
	}
	su := suitesCBC[0xC013] // AES-128, HMAC-SHA1
	c, err := su.newCipher(etm, key, macKey, iv)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := aes.NewCipher(key)
	w := &cbcSealer{block: b, mac: hmac.New(sha1.New, macKey), etm: etm, iv: bytes.Clone(iv), version: version}
	return w, c
}

// macOf is HMAC(seq_num + type + version + length + data) (RFC 5246 §6.2.3.1).
func (w *cbcSealer) macOf(typ byte, data []byte) []byte {
	w.mac.Reset()
	var pseudo [13]byte
	binary.BigEndian.PutUint64(pseudo[:], w.seq)
	pseudo[8] = typ
	binary.BigEndian.PutUint16(pseudo[9:], w.version)
	binary.BigEndian.PutUint16(pseudo[11:], uint16(len(data)))
	w.mac.Write(pseudo[:])
	w.mac.Write(data)
	return w.mac.Sum(nil)
}

// seal protects content as one record of type typ, padded with the fewest
// bytes plus extraBlocks blocks; tamper, when not nil, changes the
// plaintext (content, MAC if inside, padding) just before encryption.
func (w *cbcSealer) seal(typ byte, content []byte, extraBlocks int, tamper func(plain []byte)) []byte {
	plain := bytes.Clone(content)
	if !w.etm {
		plain = append(plain, w.macOf(typ, content)...)
	}
	padLen := aes.BlockSize - 1 - len(plain)%aes.BlockSize + extraBlocks*aes.BlockSize
	for range padLen + 1 {
		plain = append(plain, byte(padLen))
	}
	if tamper != nil {
		tamper(plain)
	}
	iv := w.iv
	var body []byte
	if iv == nil {
		iv = testData(w.seq+100, aes.BlockSize)
		body = bytes.Clone(iv)
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(w.block, iv).CryptBlocks(ct, plain)
	body = append(body, ct...)
	if w.iv != nil {
		w.iv = bytes.Clone(ct[len(ct)-aes.BlockSize:])
	}
	if w.etm {
		body = append(body, w.macOf(typ, body)...)
	}
	w.seq++
	hdr := []byte{typ, byte(w.version >> 8), byte(w.version), byte(len(body) >> 8), byte(len(body))}
	return append(hdr, body...)
}

// TestCBCOpen opens records sealed by cbcSealer, whole and broken, in
// TLS 1.2 (explicit IVs) and TLS 1.0 (chained IVs), with and without
// encrypt-then-MAC: every break must fail authentication, with dst left
// as it was, and never panic.
func TestCBCOpen(t *testing.T) {
	content := []byte("GET /pixel.gif HTTP/1.1\r\nCookie: id=42\r\n\r\n")
	tests := []struct {
		name        string
		extraBlocks int                     // more padding than needed
		tamper      func(plain []byte)      // before encryption
		mutate      func(rec []byte) []byte // after sealing
		flipMAC     bool                    // flip a MAC byte, enciphered or (encrypt-then-MAC) in the clear
		wantErr     bool
	}{
		{name: "whole"},
		{name: "longest padding", extraBlocks: 15},
		{name: "padding byte not the padding length", extraBlocks: 1, tamper: func(p []byte) { p[len(p)-5] ^= 0x80 }, wantErr: true},
		{name: "padding length longer than the record", tamper: func(p []byte) { p[len(p)-1] = 255 }, wantErr: true},
		{name: "flipped mac byte", flipMAC: true, wantErr: true},
		{name: "flipped first ciphertext byte", mutate: func(rec []byte) []byte { rec[recordHeaderLen] ^= 1; return rec }, wantErr: true},
		{name: "other content type in the header", mutate: func(rec []byte) []byte { rec[0] = recordHandshake; return rec }, wantErr: true},
		{name: "other version in the header", mutate: func(rec []byte) []byte { rec[2]--; return rec }, wantErr: true},
		{name: "body not whole blocks", mutate: func(rec []byte) []byte { return rec[:len(rec)-1] }, wantErr: true},
		{name: "body shorter than a block", mutate: func(rec []byte) []byte { return rec[:recordHeaderLen+aes.BlockSize-1] }, wantErr: true},
		{name: "empty body", mutate: func(rec []byte) []byte { return rec[:recordHeaderLen] }, wantErr: true},
	}
	for _, etm := range []bool{false, true} {
		for _, tls10 := range []bool{false, true} {
			for _, tt := range tests {
				name := tt.name
				if etm {
					name += ", encrypt-then-mac"
				}
				if tls10 {
					name += ", tls10"
				}
				t.Run(name, func(t *testing.T) {
					w, c := newSealerPair(t, etm, tls10)
					dst := []byte("before")
					// A good record first, so that the broken one is
					// the second: the sequence number and the TLS 1.0
					// IV chain must have moved on.
					out, err := c.open(dst, w.seal(recordApplicationData, []byte("first"), 0, nil))
					if err != nil || string(out) != "beforefirst" {
						t.Fatalf("first record: %q, %v", out, err)
					}
					tamper := tt.tamper
					if tt.flipMAC && !etm {
						tamper = func(p []byte) { p[len(content)] ^= 1 } // the MAC follows the content
					}
					rec := w.seal(recordApplicationData, content, tt.extraBlocks, tamper)
					if tt.mutate != nil {
						rec = tt.mutate(rec)
					}
					if tt.flipMAC && etm {
						rec[len(rec)-1] ^= 1 // the MAC ends the record
					}
					out, err = c.open(out, rec)
					if tt.wantErr {
						if err != errAuth || string(out) != "beforefirst" {
							t.Errorf("open = %q, %v; want %q, %v", out, err, "beforefirst", errAuth)
						}
						return
					}
					if err != nil || string(out) != "beforefirst"+string(content) {
						t.Fatalf("open = %q, %v", out, err)
					}
					// An empty record (OpenSSL sends one before each TLS
					// 1.0 record of data) and a replayed record.
					if out, err = c.open(nil, w.seal(recordApplicationData, nil, 0, nil)); err != nil || len(out) != 0 {
						t.Errorf("empty record: %q, %v", out, err)
					}
					if _, err = c.open(nil, rec); err != errAuth {
						t.Errorf("replayed record: %v, want %v", err, errAuth)
					}
				})
			}
		}
	}
}

// TestUnpad checks the padding rule of RFC 5246 §6.2.3.2 on its own.
func TestUnpad(t *testing.T) {
	tests := []struct {
		in   []byte
		want []byte
		ok   bool
	}{
		{[]byte{}, nil, false},
		{[]byte{0}, []byte{}, true},
		{[]byte{'a', 'b', 0}, []byte("ab"), true},
		{[]byte{'a', 2, 2, 2}, []byte("a"), true},
		{[]byte{2, 2, 2}, []byte{}, true},
		{[]byte{'a', 1, 2, 2}, nil, false},
		{[]byte{2, 2}, nil, false},
		{[]byte{'a', 255}, nil, false},
	}
	for _, tt := range tests {
		got, ok := unpad(tt.in)
		if ok != tt.ok || ok && !bytes.Equal(got, tt.want) {
			t.Errorf("unpad(%v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestSessionCBCCorrupt breaks one record of real CBC connections, which
// crypto/tls sends MAC-then-encrypt: the session stops as Failed at that
// record, after returning the data of the records before it.
func TestSessionCBCCorrupt(t *testing.T) {
	cases := []struct {
		goCase
		// broken is the server's application data record to break, the
		// one after its first message, which must come out whole. In
		// TLS 1.0 crypto/tls sends each message's first byte in a
		// record of its own (1/n-1 splitting, against attacks on the
		// chained IV).
		broken int
	}{
		{goCase{name: "tls12", version: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}, 1},
		{goCase{name: "tls10", version: tls.VersionTLS10, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}, 2},
	}
	wantServer := bytes.Join(serverMsgs, nil)
	for _, gc := range cases {
		conns, log := gc.record(t, clientMsgs, serverMsgs)
		k := mustParse(t, log)
		server := directionBytes(conns[0].chunks, false)
		at := nthRecord(server, recordApplicationData, gc.broken)
		if at < 0 {
			t.Fatalf("%s: too few application data records", gc.name)
		}
		for _, flip := range []struct {
			name string
			at   int // offset of the flipped byte in the server's stream
		}{
			// The last byte of the record is the padding_length,
			// deciphered: the padding check or the MAC fails.
			{"padding", at + recordHeaderLen + int(binary.BigEndian.Uint16(server[at+3:])) - 1},
			// A byte of the first ciphertext block (in TLS 1.2 the
			// explicit IV) garbles the content, and the MAC fails.
			{"content", at + recordHeaderLen + 3},
		} {
			t.Run(gc.name+" "+flip.name, func(t *testing.T) {
				broken := flipByte(conns[0].chunks, false, flip.at)
				for _, sp := range splittings {
					f := feed(k, sp.split(broken))
					if f.state != Failed {
						t.Errorf("%s: State() = %v, want %v", sp.name, f.state, Failed)
					}
					if !bytes.HasPrefix(wantServer, f.server) || len(f.server) < len(serverMsgs[0]) {
						t.Errorf("%s: server data: %d bytes, want a prefix of at least %d", sp.name, len(f.server), len(serverMsgs[0]))
					}
				}
			})
		}
	}
}

// nthRecord returns the offset in stream of its n-th record (from 0) of
// type typ, or -1.
func nthRecord(stream []byte, typ byte, n int) int {
	for off := 0; off+recordHeaderLen <= len(stream); off += recordHeaderLen + int(binary.BigEndian.Uint16(stream[off+3:])) {
		if stream[off] == typ {
			if n == 0 {
				return off
			}
			n--
		}
	}
	return -1
}

// flipByte returns a copy of a recording with one bit flipped at offset
// at of one direction's bytes.
func flipByte(cs []chunk, fromClient bool, at int) []chunk {
	out := make([]chunk, len(cs))
	for i, c := range cs {
		out[i] = chunk{c.fromClient, bytes.Clone(c.data)}
		if c.fromClient == fromClient {
			if at >= 0 && at < len(c.data) {
				out[i].data[at] ^= 1
			}
			at -= len(c.data)
		}
	}
	return out
}

// FuzzCBCOpen opens arbitrary records with cbcCipher in each mode (mode's
// low bit: encrypt-then-MAC; next bit: TLS 1.0 chained IVs), seeded with
// good records. It must not panic; on error dst must keep its length; a
// record that opens yields less content than the record's body, and only
// the content sealed (the keys are the test's, so a forgery is a bug).
func FuzzCBCOpen(f *testing.F) {
	content := []byte("Cookie: id=42")
	for mode := range 4 {
		w, _ := newSealerPair(&testing.T{}, mode&1 != 0, mode&2 != 0)
		f.Add(byte(mode), w.seal(recordApplicationData, content, 0, nil))
		f.Add(byte(mode), w.seal(recordAlert, nil, 3, nil))
	}
	f.Fuzz(func(t *testing.T, mode byte, rec []byte) {
		if len(rec) < recordHeaderLen {
			return
		}
		_, c := newSealerPair(t, mode&1 != 0, mode&2 != 0)
		dst := []byte("dst")
		out, err := c.open(dst, rec)
		if err != nil {
			if err != errAuth || string(out) != "dst" {
				t.Fatalf("open = %q, %v", out, err)
			}
			return
		}
		got := out[len(dst):]
		if len(got) >= len(rec)-recordHeaderLen || len(got) > 0 && !bytes.Equal(got, content) {
			t.Fatalf("opened %q from a %d-byte record", got, len(rec))
		}
	})
}
