package capture

import (
	"bufio"
	"bytes"
	"database/sql"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

func init() {
	// Other test files of this package may define -update too; whoever
	// comes first defines it, everyone reads it through storeUpdate.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func storeUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// sampleExchanges covers every field of an Exchange and the edge cases the
// store must keep apart: no response, nil versus empty bodies and headers,
// host-only contacts, binary bodies, pages shared between exchanges.
func sampleExchanges(t testing.TB) []*traffic.Exchange {
	t.Helper()
	paris := time.FixedZone("CEST", 2*3600)
	page := &traffic.Page{URL: "https://news.example/article?id=7", Site: "news.example", Title: "Ünïcode “title”", By: "document"}
	return []*traffic.Exchange{
		{
			ID: 1, Source: "proxy", Client: "127.0.0.1:50312", PageRef: "page_1",
			Start: time.Date(2025, 3, 14, 9, 26, 53, 589793238, paris),
			Request: traffic.Request{
				Method: "GET", URL: mustURL(t, "https://news.example/article?id=7"), Proto: "HTTP/1.1",
				Header: http.Header{"Cookie": {"sid=abc; _fbp=fb.1.1700000000000.123"}, "Sec-Fetch-Dest": {"document"}},
			},
			Response: &traffic.Response{
				Status: 200, Proto: "HTTP/1.1",
				Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Set-Cookie": {"a=1", "b=2"}},
				Body:   []byte("<html><title>x</title></html>"),
			},
			Page: page,
			Findings: []traffic.Finding{{
				Kind: traffic.KindCookieLeak, Severity: traffic.SeverityHigh, Detector: "cookies",
				Company: "Meta", Product: "Pixel", Category: "advertising", RuleID: "meta-pixel",
				Summary:  "sends _fbp",
				Evidence: []traffic.Evidence{{Where: "cookie:_fbp", Label: "browser", Value: "fb.1.1700000000000.123", Secret: true}},
			}},
		},
		{
			ID: 2, Source: "proxy", Client: "127.0.0.1:50312",
			Start: time.Date(2025, 3, 14, 9, 26, 54, 0, time.UTC),
			Request: traffic.Request{
				Method: "POST", URL: mustURL(t, "https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fnews.example%2Farticle"), Proto: "HTTP/2.0",
				Header:        http.Header{"Content-Type": {"application/octet-stream"}, "Referer": {"https://news.example/"}},
				Body:          []byte{0, 1, 2, 0xff, 0xfe, 'x', 0},
				BodyTruncated: true,
			},
			Response: &traffic.Response{Status: 204, Proto: "HTTP/2.0", Header: http.Header{}, Body: []byte{}, BodyTruncated: true},
			Page:     &traffic.Page{URL: page.URL, Site: page.Site, Title: page.Title, By: "referer"},
			Findings: []traffic.Finding{
				{Kind: traffic.KindTracker, Severity: traffic.SeverityMedium, Detector: "tracker", Company: "Meta"},
				{Kind: traffic.KindPixelEvent, Severity: traffic.SeverityMedium, Detector: "metapixel", Event: "PageView", Evidence: []traffic.Evidence{}},
			},
		},
		{
			ID: 3, Source: "proxy", Client: "127.0.0.1:50313",
			Request: traffic.Request{Method: "GET", URL: mustURL(t, "https://down.example:8443/p?q=a%20b#frag")},
			Error:   "dial tcp 192.0.2.1:8443: connect: connection refused",
		},
		{
			ID: 4, Source: "dump.pcapng", Client: "192.168.1.20", HostOnly: true, Via: "tls-sni", CNAME: "scontent.xx.fbcdn.net",
			Request: traffic.Request{URL: mustURL(t, "https://connect.facebook.net/")},
		},
		{
			ID: 5, Source: "proxy", Insecure: true,
			Request: traffic.Request{
				Method: "PUT", URL: mustURL(t, "http://user:pa%20ss@[2001:db8::1]:8080/ä/ö?ü=1"),
				Header: http.Header{}, Body: []byte{},
			},
			Response: &traffic.Response{Status: 0, Header: nil, Body: nil},
		},
		{
			// A second source numbers its exchanges from 1 again.
			ID: 1, Source: "second.har", PageRef: "page_9",
			Request: traffic.Request{Method: "GET", URL: mustURL(t, "https://news.example/other"), Header: http.Header{"X-Multi": {"1", "2", ""}}},
			Page:    &traffic.Page{URL: "https://news.example/", Site: "news.example", By: "recent"},
		},
	}
}

// comparable returns ex without Findings and with Start in UTC, plus its
// URL as text: what the store promises to give back.
func comparableExchange(ex *traffic.Exchange) (traffic.Exchange, string) {
	// The exported fields only: the accessors' memo differs.
	c := traffic.Exchange{ID: ex.ID, Source: ex.Source, Start: ex.Start.UTC(), Client: ex.Client, PageRef: ex.PageRef,
		PageTitle: ex.PageTitle, Request: ex.Request, Response: ex.Response, HostOnly: ex.HostOnly, Via: ex.Via,
		Page: ex.Page, Error: ex.Error, Insecure: ex.Insecure}
	u := ""
	if c.Request.URL != nil {
		u = c.Request.URL.String()
	}
	c.Request.URL = nil
	return c, u
}

func createTestStore(t testing.TB, exs []*traffic.Exchange) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.db")
	s, err := CreateStore(path, StoreMeta{Tool: "trackaudit", Version: "test", Started: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), Note: "round trip"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		if err := s.Add(ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

func readAll(t testing.TB, path string) ([]*traffic.Exchange, StoreStats) {
	t.Helper()
	var got []*traffic.Exchange
	st, err := ReadStore(path, func(ex *traffic.Exchange) error {
		got = append(got, ex)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadStore: %v", err)
	}
	return got, st
}

func TestStoreRoundTrip(t *testing.T) {
	want := sampleExchanges(t)
	path := createTestStore(t, want)
	got, st := readAll(t, path)
	if len(got) != len(want) {
		t.Fatalf("ReadStore gave %d exchanges, want %d", len(got), len(want))
	}
	for i := range want {
		g, gu := comparableExchange(got[i])
		w, wu := comparableExchange(want[i])
		if gu != wu {
			t.Errorf("exchange %d: URL = %q, want %q", i, gu, wu)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("exchange %d differs:\n got %+v\nwant %+v", i, g, w)
		}
		if got[i].Findings != nil {
			t.Errorf("exchange %d: Findings = %v, want none (detectors are re-run)", i, got[i].Findings)
		}
		if w.Response != nil && w.Response.Body != nil && (g.Response == nil || g.Response.Body == nil) {
			t.Errorf("exchange %d: empty response body came back nil", i)
		}
	}
	wantMeta := StoreMeta{Tool: "trackaudit", Version: "test", Started: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), Note: "round trip"}
	if st.Meta != wantMeta || st.SchemaVersion != StoreSchemaVersion || st.Exchanges != len(want) || st.Findings != 3 {
		t.Errorf("stats = %+v, want meta %+v, schema %d, %d exchanges, 3 findings", st, wantMeta, StoreSchemaVersion, len(want))
	}
}

// TestStoreSQL checks the columns researchers query directly.
func TestStoreSQL(t *testing.T) {
	path := createTestStore(t, sampleExchanges(t))
	db := openRO(t, path)
	tests := []struct {
		query string
		want  string
	}{
		{`SELECT count(*) FROM pages`, "2"},
		{`SELECT group_concat(site, ',') FROM (SELECT site FROM exchanges ORDER BY id)`, "news.example,facebook.com,down.example,facebook.net,2001:db8::1,news.example"},
		{`SELECT host FROM exchanges WHERE id = 5`, "2001:db8::1"},
		{`SELECT group_concat(cname, ',') FROM exchanges WHERE cname != ''`, "scontent.xx.fbcdn.net"},
		{`SELECT started FROM exchanges WHERE id = 1`, "2025-03-14T07:26:53.589793238Z"},
		{`SELECT count(*) FROM exchanges WHERE started IS NULL`, "4"},
		{`SELECT count(*) FROM exchanges WHERE status IS NULL`, "3"},
		{`SELECT length(request_body) FROM exchanges WHERE id = 2`, "7"},
		{`SELECT json_extract(request_headers, '$.Cookie[0]') FROM exchanges WHERE id = 1`, "sid=abc; _fbp=fb.1.1700000000000.123"},
		{`SELECT e.url FROM findings f JOIN exchanges e ON e.id = f.exchange_id WHERE f.kind = 'pixel-event' AND f.event = 'PageView'`,
			"https://www.facebook.com/tr/?id=1&ev=PageView&dl=https%3A%2F%2Fnews.example%2Farticle"},
		{`SELECT json_extract(evidence, '$[0].value') || ' ' || json_extract(evidence, '$[0].secret') FROM findings WHERE kind = 'cookie-leak'`, "fb.1.1700000000000.123 1"},
		{`SELECT group_concat(ord || kind, ',') FROM findings WHERE exchange_id = 2`, "0tracker,1pixel-event"},
		{`SELECT value FROM meta WHERE key = 'format'`, "trackaudit-capture"},
		{`PRAGMA user_version`, "2"},
		{`SELECT group_concat(exchange_id || ':' || company || '/' || severity || '/' || detector, ',') FROM findings`, "1:Meta/high/cookies,2:Meta/medium/tracker,2:/medium/metapixel"},
		{`PRAGMA journal_mode`, "wal"},
	}
	for _, tt := range tests {
		var got sql.NullString
		if err := db.QueryRow(tt.query).Scan(&got); err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if got.String != tt.want {
			t.Errorf("%s = %q, want %q", tt.query, got.String, tt.want)
		}
	}
}

func openRO(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", storeDSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStoreSchemaGolden pins the schema: a change shows up as a diff of
// testdata/store/schema.golden and needs a new schema version.
func TestStoreSchemaGolden(t *testing.T) {
	path := createTestStore(t, nil)
	rows, err := openRO(t, path).Query(`SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %s %s\n%s;\n\n", typ, name, text)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "store", "schema.golden")
	if storeUpdate() {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestStoreSchemaGolden -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("schema differs from %s (a column added keeps StoreSchemaVersion, see STORE.md; any other change bumps it; then -update):\n got:\n%s\nwant:\n%s", golden, b.String(), want)
	}
}

func TestCreateStoreRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := CreateStore(path, StoreMeta{})
	if err == nil || !strings.Contains(err.Error(), "old.db: already exists") {
		t.Fatalf("CreateStore over an existing file: err = %v, want 'old.db: already exists'", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("existing file changed to %q", b)
	}
	_, err = CreateStore(filepath.Join(t.TempDir(), "no", "such", "dir.db"), StoreMeta{})
	if err == nil || !strings.Contains(err.Error(), "dir.db: no such file or directory") {
		t.Errorf("CreateStore in a missing directory: err = %v", err)
	}
}

func TestStoreAddAfterCloseAndCloseTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := CreateStore(path, StoreMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	err = s.Add(sampleExchanges(t)[0])
	if err == nil || !strings.Contains(err.Error(), "c.db: capture store is closed") {
		t.Errorf("Add after Close = %v, want 'c.db: capture store is closed'", err)
	}
	if err := s.Add(nil); err == nil {
		t.Error("Add(nil) = nil, want an error")
	}
}

// TestStoreCommitsWithoutClose shows the batch timer at work: an exchange
// is committed, and visible to a concurrent reader, while the store is open.
func TestStoreCommitsWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.db")
	s, err := CreateStore(path, StoreMeta{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Add(sampleExchanges(t)[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Committed() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("exchange not committed 10 s after Add")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, _ := readAll(t, path)
	if len(got) != 1 || got[0].Request.URL.Host != "news.example" {
		t.Errorf("concurrent ReadStore gave %d exchanges (%v), want the one added", len(got), got)
	}
}

// TestStoreWriteFailureIsSticky breaks the database under the writer, as a
// full disk would: the failure names the file and every later call reports it.
func TestStoreWriteFailureIsSticky(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.db")
	s, err := CreateStore(path, StoreMeta{})
	if err != nil {
		t.Fatal(err)
	}
	s.conn.Close()
	s.db.Close()
	if err := s.Add(sampleExchanges(t)[0]); err != nil {
		t.Fatalf("first Add = %v, want nil (the failure comes with the commit)", err)
	}
	want := "broken.db: write capture: "
	if err := s.flush(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("flush = %v, want an error containing %q", err, want)
	}
	if err := s.Add(sampleExchanges(t)[1]); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Add after the failure = %v, want an error containing %q", err, want)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Close = %v, want an error containing %q", err, want)
	}
	if s.Committed() != 0 {
		t.Errorf("Committed = %d, want 0", s.Committed())
	}
}

func TestStoreConcurrentAdd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "many.db")
	s, err := CreateStore(path, StoreMeta{})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 300
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.Add(crashExchange(int64(w*each + i + 1))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	if got := s.Committed(); got != workers*each {
		t.Errorf("Committed after flush = %d, want %d", got, workers*each)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	if _, err := ReadStore(path, func(ex *traffic.Exchange) error {
		seen[ex.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != workers*each {
		t.Errorf("read %d distinct exchanges, want %d", len(seen), workers*each)
	}
}

func TestReadStoreStopsOnCallbackError(t *testing.T) {
	path := createTestStore(t, sampleExchanges(t))
	stop := fmt.Errorf("enough")
	n := 0
	st, err := ReadStore(path, func(*traffic.Exchange) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 || st.Exchanges != 2 {
		t.Errorf("ReadStore = %v after %d calls (stats %d), want the callback's error after 2", err, n, st.Exchanges)
	}
}

// TestReadStoreBadFiles: every kind of wrong file gives one line that
// names the file and says what is wrong, and never a panic.
func TestReadStoreBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	many := make([]*traffic.Exchange, 300)
	for i := range many {
		many[i] = crashExchange(int64(i + 1))
	}
	good, err := os.ReadFile(createTestStore(t, many))
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.db", good[:len(good)/2])
	short := write("short.db", good[:50])
	damaged := bytes.Clone(good)
	for i := 3 * 4096; i < 6*4096 && i < len(damaged); i++ {
		damaged[i] = 0x5a
	}
	damagedPath := write("damaged.db", damaged)

	newer := createTestStore(t, nil)
	db, err = sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name, path, want string
	}{
		{"garbage", write("garbage.db", garbage), "garbage.db: not a trackaudit capture: not an SQLite database"},
		{"text", write("notes.db", []byte("just some notes\n")), "notes.db: not a trackaudit capture: not an SQLite database"},
		{"empty", write("empty.db", nil), "empty.db: not a trackaudit capture: empty file"},
		{"other sqlite", other, "other.db: not a trackaudit capture: SQLite application_id is 0x0"},
		{"newer schema", newer, "capture.db: capture schema version 99 is not one this trackaudit reads"},
		{"truncated", truncated, "truncated.db: capture is truncated"},
		{"short header", short, "short.db: capture is truncated"},
		{"damaged", damagedPath, "damaged.db: "},
		{"missing", filepath.Join(dir, "gone.db"), "gone.db: no such file or directory"},
		{"directory", dir, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			_, err := ReadStore(tt.path, func(*traffic.Exchange) error { calls++; return nil })
			if err == nil {
				t.Fatalf("ReadStore(%s) = nil after %d exchanges, want an error containing %q", tt.name, calls, tt.want)
			}
			msg := err.Error()
			t.Logf("%s", msg)
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("ReadStore(%s) error = %q, want one line containing %q", tt.name, msg, tt.want)
			}
			if tt.name != "damaged" && calls != 0 {
				t.Errorf("ReadStore(%s) handed out %d exchanges before failing", tt.name, calls)
			}
			if _, err := os.Stat(tt.path); tt.name == "missing" && err == nil {
				t.Errorf("ReadStore created %s", tt.path)
			}
		})
	}
}

// crashExchange is the deterministic i-th exchange the writer child adds,
// with 2 KiB bodies like a typical tracker beacon and its answer.
func crashExchange(i int64) *traffic.Exchange {
	body := bytes.Repeat([]byte(fmt.Sprintf("%08d", i)), 256)
	return &traffic.Exchange{
		ID: i, Source: "proxy", Client: "127.0.0.1:1",
		Start: time.Unix(1700000000+i, 0).UTC(),
		Request: traffic.Request{
			Method: "POST", URL: &url.URL{Scheme: "https", Host: "www.facebook.com", Path: "/tr/", RawQuery: "id=1&ev=PageView&n=" + strconv.FormatInt(i, 10)},
			Proto: "HTTP/1.1", Header: http.Header{"Cookie": {"fr=secret" + strconv.FormatInt(i, 10)}},
			Body: body,
		},
		Response: &traffic.Response{Status: 200, Header: http.Header{"Content-Type": {"image/gif"}}, Body: body},
		Page:     &traffic.Page{URL: "https://news.example/", Site: "news.example", By: "recent"},
		Findings: []traffic.Finding{{Kind: traffic.KindTracker, Detector: "tracker", Company: "Meta"}},
	}
}

const writerChildEnv = "TRACKAUDIT_STORE_WRITER_CHILD"

// TestStoreWriterChild is not a test: it is the process TestStoreCrashSafety
// and TestStoreFileModes start and kill. It adds exchanges without end and
// prints "committed N" whenever the committed count grows.
func TestStoreWriterChild(t *testing.T) {
	path := os.Getenv(writerChildEnv)
	if path == "" {
		t.Skip("helper process, run by TestStoreCrashSafety")
	}
	s, err := CreateStore(path, StoreMeta{Tool: "store_test"})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	last := int64(0)
	deadline := time.Now().Add(2 * time.Minute) // the parent kills us long before
	for i := int64(1); time.Now().Before(deadline); i++ {
		if err := s.Add(crashExchange(i)); err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		if c := s.Committed(); c != last {
			fmt.Printf("committed %d\n", c)
			last = c
		}
	}
	os.Exit(4)
}

// startWriter runs TestStoreWriterChild under umask 000 and returns it with
// a channel of the committed counts it reports; the channel closes when the
// child's output ends.
func startWriter(t *testing.T, path string) (*exec.Cmd, <-chan int64) {
	t.Helper()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs a POSIX shell and SIGKILL")
	}
	cmd := exec.Command("/bin/sh", "-c", `umask 000 && exec "$0" -test.run='^TestStoreWriterChild$' -test.count=1`, os.Args[0])
	cmd.Env = append(os.Environ(), writerChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	counts := make(chan int64, 1024)
	go func() {
		defer close(counts)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "committed "); ok {
				v, err := strconv.ParseInt(n, 10, 64)
				if err == nil {
					counts <- v
					continue
				}
			}
			if strings.HasPrefix(line, "error:") {
				t.Errorf("writer child: %s", line)
			}
		}
	}()
	return cmd, counts
}

// waitCommitted reads counts until one reaches min and returns it.
func waitCommitted(t *testing.T, counts <-chan int64, min int64) int64 {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case n, ok := <-counts:
			if !ok {
				t.Fatalf("writer child ended before committing %d exchanges", min)
			}
			if n >= min {
				return n
			}
		case <-timeout:
			t.Fatalf("writer child did not commit %d exchanges in 2 minutes", min)
		}
	}
}

// TestStoreCrashSafety kills a writing process with SIGKILL in the middle
// of a capture and checks that the file is intact and holds every
// exchange the process had reported committed.
func TestStoreCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd, counts := startWriter(t, path)
	reported := waitCommitted(t, counts, 3000)
	// Land the kill at a varying point of the writer's batch cycle.
	time.Sleep(time.Duration(time.Now().UnixNano()%50) * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for n := range counts { // lines printed before the kill landed
		reported = max(reported, n)
	}

	var n int64
	st, err := ReadStore(path, func(ex *traffic.Exchange) error {
		n++
		want := crashExchange(n)
		if ex.ID != n || !bytes.Equal(ex.Request.Body, want.Request.Body) || !bytes.Equal(ex.Response.Body, want.Response.Body) ||
			ex.Request.URL.String() != want.Request.URL.String() || ex.Page == nil || ex.Page.URL != want.Page.URL {
			return fmt.Errorf("exchange %d came back as ID %d, URL %s, %d/%d body bytes", n, ex.ID, ex.Request.URL, len(ex.Request.Body), len(ex.Response.Body))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadStore after kill -9: %v", err)
	}
	if n < reported {
		t.Errorf("after kill -9: %d exchanges in the file, want at least the %d reported committed", n, reported)
	}
	if int64(st.Findings) != n {
		t.Errorf("after kill -9: %d findings for %d exchanges, want one each", st.Findings, n)
	}
	t.Logf("child reported %d committed; file holds %d", reported, n)

	var check string
	if err := openRO(t, path).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check after kill -9 = %q, %v; want ok", check, err)
	}
}

// TestStoreFileModes checks the database, -wal and -shm files are 0600
// even when the writing process runs under umask 000.
func TestStoreFileModes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "modes.db")
	cmd, counts := startWriter(t, path)
	waitCommitted(t, counts, 1)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("while writing: %v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %#o under umask 000, want 0600", filepath.Base(p), got)
		}
	}
	cmd.Process.Kill()

	// In this process, whatever its umask, the same holds.
	path = createTestStore(t, sampleExchanges(t))
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("closed store: stat = %v, %v; want mode 0600", fi, err)
	}
}

// BenchmarkStoreAdd measures exchanges per second into a store, bodies of
// 2 KiB each way, including the final commit in Close.
func BenchmarkStoreAdd(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := CreateStore(path, StoreMeta{})
	if err != nil {
		b.Fatal(err)
	}
	exs := make([]*traffic.Exchange, 1000)
	for i := range exs {
		exs[i] = crashExchange(int64(i + 1))
	}
	b.SetBytes(4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Add(exs[i%len(exs)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// BenchmarkReadStore measures reading a capture of 2 KiB-body exchanges
// back, as `trackaudit report` does.
func BenchmarkReadStore(b *testing.B) {
	exs := make([]*traffic.Exchange, 5000)
	for i := range exs {
		exs[i] = crashExchange(int64(i + 1))
	}
	path := createTestStore(b, exs)
	b.SetBytes(int64(len(exs)) * 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := ReadStore(path, func(*traffic.Exchange) error { return nil })
		if err != nil || st.Exchanges != len(exs) {
			b.Fatalf("ReadStore = %d exchanges, %v", st.Exchanges, err)
		}
	}
	b.ReportMetric(float64(b.N*len(exs))/b.Elapsed().Seconds(), "exchanges/s")
}

// TestReadStoreSchemaV1 checks that a capture written with schema 1 (its
// findings in a table; testdata/store/schema-v1.sql is that schema as it
// was committed) is still read, with its findings counted.
func TestReadStoreSchemaV1(t *testing.T) {
	ddl, err := os.ReadFile(filepath.Join("testdata", "store", "schema-v1.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(ddl),
		`INSERT INTO meta VALUES ('format', 'trackaudit-capture'), ('schema_version', '1')`,
		`INSERT INTO pages (id, url, site, title) VALUES (1, 'https://news.example/a', 'news.example', '')`,
		`INSERT INTO exchanges (id, source_seq, started, source, client, page_id, page_by, page_ref, method, url, host, site,
			request_proto, request_headers, request_body, request_body_truncated, status, response_proto, response_headers,
			response_body, response_body_truncated, host_only, via, error, insecure)
		 VALUES (1, 7, NULL, 'proxy', '127.0.0.1', 1, 'referer', '', 'GET', 'https://www.facebook.com/tr?id=1&ev=PageView',
			'www.facebook.com', 'facebook.com', 'HTTP/1.1', '{"Cookie":["c_user=100"]}', NULL, 0, 200, 'HTTP/1.1', '{}', NULL, 0,
			0, '', '', 0)`,
		`INSERT INTO findings VALUES (1, 0, 'tracker', 'medium', 'tracker', 'Meta', 'Pixel', 'pixel', 'meta-pixel-event', '', 's', '[]'),
			(1, 1, 'pixel-event', 'medium', 'metapixel', 'Meta', 'Pixel', 'pixel', '', 'PageView', 's', '[]')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%.60s…: %v", q, err)
		}
	}
	db.Close()

	var got []*traffic.Exchange
	st, err := ReadStore(path, func(ex *traffic.Exchange) error { got = append(got, ex); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.SchemaVersion != 1 || st.Exchanges != 1 || st.Findings != 2 || len(got) != 1 {
		t.Fatalf("stats %+v, %d exchanges; want schema 1, 1 exchange, 2 findings", st, len(got))
	}
	ex := got[0]
	if ex.Request.URL.String() != "https://www.facebook.com/tr?id=1&ev=PageView" || ex.Request.Header.Get("Cookie") != "c_user=100" ||
		ex.Page == nil || ex.Page.URL != "https://news.example/a" || ex.Response == nil || ex.Response.Status != 200 {
		t.Errorf("exchange read from a schema-1 capture: %+v, page %+v", ex.Request, ex.Page)
	}
}
