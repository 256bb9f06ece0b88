package quicread

import (
	"bytes"
	"testing"
)

// TestZeroRTT decrypts a resuming client's 0-RTT packets (RFC 9001
// §4.6.1) under each suite: early data on stream 0, then the rest of the
// stream in 1-RTT; sent after the ClientHello or coalesced with its
// first Initial, before the ClientHello is complete. Without
// DecryptEarly, or with the wrong early secret, the early data is lost.
func TestZeroRTT(t *testing.T) {
	for _, su := range []suite{aes128GCM, aes256GCM, chacha20Poly1305} {
		s := newSynth(t, su)
		early := newSealKeys(t, su, bytes.Repeat([]byte{0xe4}, s.secretsLen))
		zeroRTT := [][]byte{
			early.long(t, typeZeroRTT, s.dcid, s.clientCID, 0, 2, streamFrame(0, 0, []byte("GET /early"), false)),
			early.long(t, typeZeroRTT, s.dcid, s.clientCID, 1, 2, streamFrame(0, 10, []byte(" HTTP/3"), false)),
		}
		oneRTT := s.cli.short(t, s.serverCID, 2, 2, streamFrame(0, 17, []byte(" done"), true))
		initials := s.initials()
		for _, tt := range []struct {
			name      string
			dgrams    [][]byte
			early     EarlySecret
			want      string
			wantEarly int
		}{
			{"after the hello", append(append(initials, zeroRTT...), oneRTT), s.earlySecret(early.secret),
				"stream 0 client: 22 bytes fin=true reset=false gap=false \"GET /early HTTP/3 done\"\n", 2},
			{"coalesced with the first initial", [][]byte{append(initials[0], zeroRTT[0]...), initials[1], zeroRTT[1], oneRTT}, s.earlySecret(early.secret),
				"stream 0 client: 22 bytes fin=true reset=false gap=false \"GET /early HTTP/3 done\"\n", 2},
			{"no early secret lookup", append(append(initials, zeroRTT...), oneRTT), nil,
				"stream 0 client: 0 bytes fin=false reset=false gap=true \"\"\n", 0},
			{"wrong early secret", append(append(initials, zeroRTT...), oneRTT), s.earlySecret(bytes.Repeat([]byte{0x99}, s.secretsLen)),
				"stream 0 client: 0 bytes fin=false reset=false gap=true \"\"\n", 0},
		} {
			t.Run(su.String()+"/"+tt.name, func(t *testing.T) {
				rec := newRecorder(t)
				c := NewConn(s.secrets, rec)
				if tt.early != nil {
					c.DecryptEarly(tt.early)
				}
				feedPackets(c, true, tt.dgrams)
				c.Close()
				if got := rec.summary(); got != tt.want {
					t.Errorf("streams:\n%swant:\n%s", got, tt.want)
				}
				if st := c.Stats(); st.EarlyPackets != tt.wantEarly || st.Undecryptable != 0 {
					t.Errorf("stats %+v; want %d early packets and none left undecryptable", st, tt.wantEarly)
				}
			})
		}
	}
}

// earlySecret answers with secret for the synth's random only.
func (s *synth) earlySecret(secret []byte) EarlySecret {
	return func(random []byte) ([]byte, bool) {
		if !bytes.Equal(random, s.random) {
			return nil, false
		}
		return secret, true
	}
}
