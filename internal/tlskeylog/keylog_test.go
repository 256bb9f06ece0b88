package tlskeylog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cr1 := strings.Repeat("ab", 32)
	cr2 := strings.Repeat("CD", 32) // upper-case hex is hex too
	s32 := strings.Repeat("11", 32)
	s48 := strings.Repeat("22", 48)
	tests := []struct {
		name    string
		in      string
		wantLen int
		wantErr string // "" when Parse must succeed
		check   func(t *testing.T, k *KeyLog)
	}{
		{name: "empty", in: "", wantLen: 0},
		{
			name:    "tls 1.2 with comment and blank lines",
			in:      "# SSL/TLS secrets log file\n\nCLIENT_RANDOM " + cr1 + " " + s48 + "\n\n",
			wantLen: 1,
			check: func(t *testing.T, k *KeyLog) {
				if s := k.lookup(hexBytes(t, cr1)); s == nil || !bytes.Equal(s.master, hexBytes(t, s48)) {
					t.Errorf("master secret not stored: %+v", s)
				}
			},
		},
		{
			name: "tls 1.3 all four labels, crlf, unknown labels skipped",
			in: "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr2 + " " + s32 + "\r\n" +
				"SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr2 + " " + s32 + "\r\n" +
				"EXPORTER_SECRET " + cr2 + " " + s32 + "\r\n" +
				"CLIENT_TRAFFIC_SECRET_0 " + cr2 + " " + s48 + "\r\n" +
				"SERVER_TRAFFIC_SECRET_0 " + cr2 + " " + s32 + "\r\n" +
				"CLIENT_TRAFFIC_SECRET_N " + cr2 + " " + s32 + "\r\n" +
				"ECH_CONFIG " + cr2 + " zz-not-hex-but-unknown\r\n",
			wantLen: 1,
			check: func(t *testing.T, k *KeyLog) {
				s := k.lookup(hexBytes(t, cr2))
				if s == nil || s.clientHandshake == nil || s.serverHandshake == nil || len(s.clientTraffic) != 48 || len(s.serverTraffic) != 32 || s.master != nil {
					t.Errorf("secrets = %+v", s)
				}
			},
		},
		{
			name:    "two connections, tabs and extra spaces",
			in:      "CLIENT_RANDOM\t" + cr1 + "  " + s48 + "  \nCLIENT_TRAFFIC_SECRET_0 " + cr2 + " " + s32 + "\n",
			wantLen: 2,
		},
		{
			name:    "later line wins",
			in:      "CLIENT_RANDOM " + cr1 + " " + s48 + "\nCLIENT_RANDOM " + cr1 + " " + strings.Repeat("33", 48) + "\n",
			wantLen: 1,
			check: func(t *testing.T, k *KeyLog) {
				if s := k.lookup(hexBytes(t, cr1)); s == nil || s.master[0] != 0x33 {
					t.Errorf("master = %x, want the later line's", s.master)
				}
			},
		},
		{name: "unknown label with any fields", in: "RSA 0011223344556677 " + s48 + "\nFOO\n", wantLen: 0},
		{name: "bad hex in client random", in: "# c\nCLIENT_RANDOM " + strings.Repeat("zz", 32) + " " + s48 + "\n", wantErr: "line 2: client random is not 32 bytes of hex"},
		{name: "short client random", in: "CLIENT_RANDOM " + cr1[:62] + " " + s48, wantErr: "line 1: client random is not 32 bytes of hex"},
		{name: "odd-length secret", in: "\n\n\nCLIENT_RANDOM " + cr1 + " " + s48 + "1", wantErr: "line 4: secret is not hex"},
		{name: "master secret of 32 bytes", in: "CLIENT_RANDOM " + cr1 + " " + s32, wantErr: "line 1: master secret is not 48 bytes"},
		{name: "tls 1.3 secret of 16 bytes", in: "SERVER_TRAFFIC_SECRET_0 " + cr1 + " " + s32[:32], wantErr: "line 1: secret is not 32 or 48 bytes"},
		{name: "missing secret", in: "CLIENT_TRAFFIC_SECRET_0 " + cr1, wantErr: "line 1: CLIENT_TRAFFIC_SECRET_0 wants a client random and a secret"},
		{name: "extra field", in: "CLIENT_RANDOM " + cr1 + " " + s48 + " x", wantErr: "line 1: CLIENT_RANDOM wants a client random and a secret"},
		{name: "line too long", in: "# " + strings.Repeat("x", maxLineLen), wantErr: "line 1: longer than 64000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := Parse(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				var pe *ParseError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &pe) {
					t.Fatalf("Parse error = %v, want *ParseError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := k.Len(); got != tt.wantLen {
				t.Errorf("Len() = %d, want %d", got, tt.wantLen)
			}
			if tt.check != nil {
				tt.check(t, k)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	_, err := Parse(failingReader{})
	if err == nil || err.Error() != "read key log: disk on fire" {
		t.Errorf("Parse error = %v, want the read error wrapped", err)
	}
}

func TestNilKeyLog(t *testing.T) {
	var k *KeyLog
	if k.Len() != 0 {
		t.Errorf("nil KeyLog Len() = %d", k.Len())
	}
	if k.lookup(make([]byte, 32)) != nil {
		t.Error("nil KeyLog has secrets")
	}
}

// TestMerge checks that Merge unites two key logs, the second winning for
// the same client random and label, without changing either.
func TestMerge(t *testing.T) {
	cr1, cr2 := strings.Repeat("01", 32), strings.Repeat("02", 32)
	master := func(b string) string { return strings.Repeat(b, 48) }
	traffic := func(b string) string { return strings.Repeat(b, 32) }
	parse := func(text string) *KeyLog {
		k, err := Parse(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a := parse("CLIENT_RANDOM " + cr1 + " " + master("aa") + "\nCLIENT_TRAFFIC_SECRET_0 " + cr2 + " " + traffic("bb") + "\n" +
		"CLIENT_EARLY_TRAFFIC_SECRET " + cr2 + " " + traffic("ee") + "\n")
	b := parse("CLIENT_RANDOM " + cr1 + " " + master("cc") + "\nSERVER_TRAFFIC_SECRET_0 " + cr2 + " " + traffic("dd") + "\n")
	m := Merge(a, b)
	key := func(s string) [randomLen]byte {
		b, _ := hex.DecodeString(s)
		return [randomLen]byte(b)
	}
	s1, s2 := m.byRandom[key(cr1)], m.byRandom[key(cr2)]
	if m.Len() != 2 || s1 == nil || s2 == nil {
		t.Fatalf("merged %d client randoms; want 2", m.Len())
	}
	if hex.EncodeToString(s1.master) != master("cc") {
		t.Errorf("master secret %x; want the second key log's", s1.master)
	}
	if hex.EncodeToString(s2.clientTraffic) != traffic("bb") || hex.EncodeToString(s2.serverTraffic) != traffic("dd") {
		t.Errorf("traffic secrets %x / %x; want one from each key log", s2.clientTraffic, s2.serverTraffic)
	}
	if hex.EncodeToString(a.byRandom[key(cr1)].master) != master("aa") || b.byRandom[key(cr2)].clientTraffic != nil {
		t.Error("Merge changed its inputs")
	}
	if Merge(nil, nil).Len() != 0 || Merge(a, nil).Len() != 2 {
		t.Error("Merge with nil key logs")
	}

	// TrafficSecrets needs both directions' secrets.
	r2, _ := hex.DecodeString(cr2)
	if c, s, ok := m.TrafficSecrets(r2); !ok || hex.EncodeToString(c) != traffic("bb") || hex.EncodeToString(s) != traffic("dd") {
		t.Errorf("TrafficSecrets = %x, %x, %v; want the merged pair", c, s, ok)
	}
	for name, k := range map[string]*KeyLog{"client secret only": a, "server secret only": b, "nil": nil} {
		if _, _, ok := k.TrafficSecrets(r2); ok {
			t.Errorf("TrafficSecrets of the key log with %s: ok", name)
		}
	}
	if _, _, ok := m.TrafficSecrets(r2[:31]); ok {
		t.Error("TrafficSecrets of a short random: ok")
	}
	// RecentTrafficSecrets lists the pairs with both secrets, newest first.
	both := parse("CLIENT_TRAFFIC_SECRET_0 " + cr1 + " " + traffic("11") + "\nSERVER_TRAFFIC_SECRET_0 " + cr1 + " " + traffic("22") + "\n" +
		"CLIENT_TRAFFIC_SECRET_0 " + cr2 + " " + traffic("33") + "\nSERVER_TRAFFIC_SECRET_0 " + cr2 + " " + traffic("44") + "\n" +
		"CLIENT_RANDOM " + strings.Repeat("03", 32) + " " + master("aa") + "\n")
	var pairs []string
	for _, p := range both.RecentTrafficSecrets(5) {
		pairs = append(pairs, hex.EncodeToString(p[0])[:2]+hex.EncodeToString(p[1])[:2])
	}
	if strings.Join(pairs, " ") != "3344 1122" || len(both.RecentTrafficSecrets(1)) != 1 || (*KeyLog)(nil).RecentTrafficSecrets(3) != nil {
		t.Errorf("RecentTrafficSecrets = %v; want the two pairs, newest first", pairs)
	}
	// EarlySecret gives QUIC's 0-RTT secret, kept by Merge.
	if e, ok := m.EarlySecret(r2); !ok || hex.EncodeToString(e) != traffic("ee") {
		t.Errorf("EarlySecret = %x, %v; want the first key log's", e, ok)
	}
	r1, _ := hex.DecodeString(cr1)
	if _, ok := m.EarlySecret(r1); ok {
		t.Error("EarlySecret of a random without one: ok")
	}
}
