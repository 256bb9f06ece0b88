package quicread

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fixture is a small quic-go connection recorded with -update: a
// Retry, a zero-length client connection ID, one request and response and
// a unidirectional stream each way. Its files: the datagrams (one a line:
// "c" or "s", microseconds since the first, hex), the NSS key log, and
// the golden summary of the streams read from it.
const (
	fixtureDatagrams = "quicgo-retry.datagrams"
	fixtureKeyLog    = "quicgo-retry.keylog"
	fixtureGolden    = "quicgo-retry.golden"
)

func writeDatagrams(t testing.TB, name string, dgrams []datagram) {
	var b bytes.Buffer
	b.WriteString("# quic-go connection recorded at the client by TestFixture -update: direction, microseconds, payload\n")
	for _, d := range dgrams {
		dir := "s"
		if d.fromClient {
			dir = "c"
		}
		fmt.Fprintf(&b, "%s %d %x\n", dir, d.at.Microseconds(), d.b)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readDatagrams(t testing.TB, name string) []datagram {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []datagram
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 || f[0] != "c" && f[0] != "s" {
			t.Fatalf("%s: bad line %q", name, sc.Text())
		}
		us, err1 := strconv.ParseInt(f[1], 10, 64)
		b, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad line %q", name, sc.Text())
		}
		out = append(out, datagram{f[0] == "c", time.Duration(us) * time.Microsecond, b})
	}
	return out
}

// fixture returns the fixture's datagrams and secrets.
func fixture(t testing.TB) ([]datagram, Secrets) {
	t.Helper()
	log, err := os.ReadFile(filepath.Join("testdata", fixtureKeyLog))
	if err != nil {
		t.Fatal(err)
	}
	return readDatagrams(t, fixtureDatagrams), keyLogSecrets(t, log)
}

// TestFixture reads the recorded fixture connection and compares the
// streams with the golden file. With -update it records the connection
// anew and checks the streams against what the peers sent before writing.
func TestFixture(t *testing.T) {
	if *update {
		r := recordQUIC(t, smallScenario, true, true)
		_, rec := feed(t, r.dgrams, keyLogSecrets(t, r.keylog))
		checkWant(t, rec, r.want)
		if t.Failed() {
			t.FailNow()
		}
		writeDatagrams(t, fixtureDatagrams, r.dgrams)
		if err := os.WriteFile(filepath.Join("testdata", fixtureKeyLog), r.keylog, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", fixtureGolden), []byte(rec.summary()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dgrams, secrets := fixture(t)
	c, rec := feed(t, dgrams, secrets)
	golden, err := os.ReadFile(filepath.Join("testdata", fixtureGolden))
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.summary(); got != string(golden) {
		t.Errorf("streams:\n%s\ngolden:\n%s", got, golden)
	}
	st := c.Stats()
	// The Retry is skipped; the client's Initials use two DCIDs.
	if c.State() != Decrypting || st.Failed != 0 || st.Skipped < 2 || st.Gaps != 0 {
		t.Errorf("state %v, stats %+v", c.State(), st)
	}
	if ch := c.ClientHello(); len(ch) < 38 || ch[0] != 1 {
		t.Errorf("client hello %x", ch)
	}
	if !strings.Contains(string(golden), "cookie: _ga=GA1.2.3") {
		t.Error("golden file lacks the request")
	}
}
