package tlskeylog

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "re-record the connections in testdata/")

// The fixtures are small recorded crypto/tls connections with these
// messages, and the key log of all; testdata/README.md says more.
var (
	fixtureClient = []byte("GET /fixture HTTP/1.1\r\nHost: trackaudit.test\r\n\r\n")
	fixtureServer = []byte("HTTP/1.1 204 No Content\r\n\r\n")
	fixtures      = []struct {
		file string
		conn goCase
	}{
		{"tls13.conn", goCase{name: "tls13", version: tls.VersionTLS13, alpn: true}},
		{"tls12.conn", goCase{name: "tls12", version: tls.VersionTLS12, alpn: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}},
		{"tls12cbc.conn", goCase{name: "tls12 cbc", version: tls.VersionTLS12, alpn: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}},
		{"tls10cbc.conn", goCase{name: "tls10 cbc", version: tls.VersionTLS10, alpn: true, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}},
	}
)

const fixtureKeyLog = "keylog.txt"

// TestFixtures decrypts the recorded connections in testdata/ (fixed
// bytes, unlike the other tests' fresh connections); with -update it
// records them anew.
func TestFixtures(t *testing.T) {
	if *update {
		var log strings.Builder
		for _, fx := range fixtures {
			conns, l := fx.conn.record(t, [][]byte{fixtureClient}, [][]byte{fixtureServer})
			log.WriteString(l)
			if err := os.WriteFile(filepath.Join("testdata", fx.file), formatChunks(conns[0].chunks), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join("testdata", fixtureKeyLog), []byte(log.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k := readFixtureKeyLog(t)
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			chunks := readFixture(t, fx.file)
			for _, sp := range splittings {
				f := feed(k, sp.split(chunks))
				if f.state != Decrypting || f.info.Version != fx.conn.version || f.info.ServerName != testHost || f.info.ALPN != "h2" {
					t.Errorf("%s: State() = %v, Info() = %+v", sp.name, f.state, f.info)
				}
				if !bytes.Equal(f.client, fixtureClient) || !bytes.Equal(f.server, fixtureServer) {
					t.Errorf("%s: decrypted %q and %q", sp.name, f.client, f.server)
				}
			}
		})
	}
}

// formatChunks writes a recording as text: one chunk a line, "> " and hex
// for the client's, "< " and hex for the server's.
func formatChunks(cs []chunk) []byte {
	var b bytes.Buffer
	b.WriteString("# recorded by TestFixtures -update; see README.md\n")
	for _, c := range cs {
		dir := "<"
		if c.fromClient {
			dir = ">"
		}
		fmt.Fprintf(&b, "%s %x\n", dir, c.data)
	}
	return b.Bytes()
}

func readFixture(t testing.TB, name string) []chunk {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []chunk
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		dir, h, ok := strings.Cut(line, " ")
		data, err := hex.DecodeString(h)
		if !ok || err != nil || (dir != ">" && dir != "<") {
			t.Fatalf("%s: bad line %.40q", name, line)
		}
		cs = append(cs, chunk{dir == ">", data})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cs
}

func readFixtureKeyLog(t testing.TB) *KeyLog {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", fixtureKeyLog))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
