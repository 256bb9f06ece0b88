package capture

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// FuzzReadStore writes one exchanges row of arbitrary column values into a
// real capture file, as a hand-edited or foreign capture could hold them,
// and reads it back: ReadStore must return the row or an error naming
// it, never panic or hang (reliability-security.md T16,
// FuzzDecodeCaptureRecord).
func FuzzReadStore(f *testing.F) {
	f.Add("2026-11-30T00:00:00.5Z", "https://www.facebook.com/tr?id=1", `{"Cookie":["fr=1"]}`, int64(200), `{"Content-Type":["image/gif"]}`, []byte("GIF89a"), "https://news.example/", "[]")
	f.Add("", "", "", int64(-1), "", []byte(nil), "", "")
	f.Add("yesterday", "%zz", `{"Cookie":null}`, int64(1)<<40, `[]`, []byte{0xff}, "\x00", `[{"kind":1}]`)
	f.Add("2026-13-40T99:00:00Z", "//host-only", `{"A":["b","c"],"":[""]}`, int64(0), `{`, []byte{}, "https://x.example/?a=%", `not json`)
	f.Fuzz(func(t *testing.T, started, rawURL, reqHeaders string, status int64, respHeaders string, body []byte, pageURL, findings string) {
		path := filepath.Join(t.TempDir(), "fuzz.db")
		s, err := CreateStore(path, StoreMeta{Tool: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		null := func(v string) any {
			if v == "" {
				return nil
			}
			return v
		}
		var statusArg, pageID any = status, nil
		if status < 0 {
			statusArg = nil
		}
		if pageURL != "" {
			pageID = int64(1)
		}
		_, err = db.Exec(`INSERT INTO pages (id, url, site, title) VALUES (1, ?, 'site', '')`, pageURL)
		if err == nil {
			_, err = db.Exec(`INSERT INTO exchanges (id, source_seq, started, source, client, page_id, page_by, page_ref,
				method, url, host, site, request_proto, request_headers, request_body, request_body_truncated,
				status, response_proto, response_headers, response_body, response_body_truncated,
				host_only, via, error, insecure, findings)
				VALUES (1, 1, ?, 'fuzz', '', ?, 'referer', '', 'GET', ?, '', '', 'HTTP/1.1', ?, ?, 0,
				?, 'HTTP/1.1', ?, ?, 0, 0, '', '', 0, ?)`,
				null(started), pageID, rawURL, null(reqHeaders), body,
				statusArg, null(respHeaders), body, findings)
		}
		db.Close()
		if err != nil {
			t.Skipf("the row itself cannot be written: %v", err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			n := 0
			st, err := ReadStore(path, func(ex *traffic.Exchange) error {
				n++
				ex.Host()
				ex.Cookies()
				ex.Params()
				return nil
			})
			if err == nil && (st.Exchanges != 1 || n != 1) {
				t.Errorf("no error, but %d exchanges read (%d handed over), want 1", st.Exchanges, n)
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("ReadStore took more than 5 s on one row")
		}
	})
}
