package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/internal/fixtures"
	"github.com/trackaudit/trackaudit/traffic"
)

// saveCapture writes exs into a new capture file, as `proxy --capture` does.
func saveCapture(t *testing.T, exs ...*traffic.Exchange) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "saved.db")
	s, err := capture.CreateStore(path, capture.StoreMeta{Tool: "trackaudit", Version: "test", Started: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		if err := s.Add(ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// pixelExchange is a Meta pixel request from a news page, carrying a
// cookie whose value must only appear with --show-secrets.
func pixelExchange(id int64) *traffic.Exchange {
	return &traffic.Exchange{
		ID: id, Source: "proxy", Client: "127.0.0.1:1",
		Request: traffic.Request{
			Method: "GET", Proto: "HTTP/1.1",
			URL: &url.URL{Scheme: "https", Host: "www.facebook.com", Path: "/tr/",
				RawQuery: "id=123456789&ev=PageView&dl=https%3A%2F%2Fnews.example%2Farticle%3Fid%3D7"},
			Header: http.Header{
				"Cookie":  {"fr=SECRETCOOKIEVALUE; datr=OTHERSECRET"},
				"Referer": {"https://news.example/"},
			},
		},
		Response: &traffic.Response{Status: 200, Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"image/gif"}, "Set-Cookie": {"fr=SETSECRET; Path=/; Secure"}},
			Body:   []byte("GIF89a")},
		Page: &traffic.Page{URL: "https://news.example/article?id=7", Site: "news.example", By: "referer"},
	}
}

func TestReportUsageAndInputErrors(t *testing.T) {
	dir := t.TempDir()
	har := writeFile(t, "site.har", `{"log": {"entries": []}}`)
	garbage := writeFile(t, "garbage.db", "\x00\x01 not a database")
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	good := saveCapture(t, pixelExchange(1))

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no file", []string{"report"}, 2, "report: name a saved capture (FILE.db)"},
		{"har file", []string{"report", har}, 2, "site.har is not a saved capture (.db); use 'trackaudit analyze'"},
		{"garbage", []string{"report", garbage}, 2, "garbage.db is not a saved capture"},
		{"bad format", []string{"report", good, "--format", "yaml"}, 2, `--format "yaml"`},
		{"bad color", []string{"report", "--color", "pink", good}, 2, `--color "pink"`},
		{"bad flag", []string{"report", "--nope", good}, 2, "flag provided but not defined: -nope"},
		{"missing", []string{"report", filepath.Join(dir, "gone.db")}, 1, "gone.db: no such file or directory"},
		{"other sqlite", []string{"report", other}, 1, "other.db: not a trackaudit capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestReportRerunsDetectors(t *testing.T) {
	ex := pixelExchange(1)
	// A finding recorded live that today's detectors would not make: the
	// report must not show it.
	ex.Findings = []traffic.Finding{{Kind: traffic.KindSessionReplay, Detector: "old", Company: "Stale Replay Inc", Summary: "old rule"}}
	path := saveCapture(t, ex)

	stdout, stderr, code := runCLI(t, "report", path, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep struct {
		Inputs []struct {
			Name, Format string
			Exchanges    int
		}
		Totals struct{ Exchanges int }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report output is not JSON: %v\n%s", err, stdout)
	}
	if len(rep.Inputs) != 1 || rep.Inputs[0].Format != "trackaudit capture" || rep.Inputs[0].Exchanges != 1 || rep.Totals.Exchanges != 1 {
		t.Errorf("inputs %+v, totals %+v; want one trackaudit capture with 1 exchange", rep.Inputs, rep.Totals)
	}
	for _, s := range []string{"Stale Replay Inc", "SECRETCOOKIEVALUE"} {
		if strings.Contains(stdout, s) {
			t.Errorf("report contains %q:\n%s", s, stdout)
		}
	}
	if !strings.Contains(stdout, "news.example") {
		t.Errorf("report does not name the page's site news.example:\n%s", stdout)
	}
}

// TestReportMatchesAnalyze saves each HAR fixture through the pipeline, as
// `proxy --capture` does, and checks that reporting the saved capture gives
// the same report as analyzing the HAR: the store loses nothing the
// detectors and reports use.
func TestReportMatchesAnalyze(t *testing.T) {
	for _, har := range fixtures.Files(t, "har", ".har") {
		t.Run(filepath.Base(har), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "saved.db")
			s, err := capture.CreateStore(db, capture.StoreMeta{Tool: "trackaudit"})
			if err != nil {
				t.Fatal(err)
			}
			rf := reportFlags{format: "json", color: "never", showSecrets: true}
			p := newPipeline(pipelineOptions{flags: rf, store: s})
			f, err := os.Open(har)
			if err != nil {
				t.Fatal(err)
			}
			_, err = capture.ReadHAR(f, filepath.Base(har), p.Add)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			want := reportJSON(t, "analyze", har)
			if tot, _ := want["totals"].(map[string]any); tot == nil || tot["exchanges"] == float64(0) {
				t.Fatalf("analyze %s reported no exchanges (totals %v): the comparison would prove nothing", har, want["totals"])
			}
			got := reportJSON(t, "report", db)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("report of the saved capture differs from analyze of the HAR:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// reportJSON runs a command with --format json --show-secrets and returns
// the report without its inputs section, which names the files.
func reportJSON(t *testing.T, cmd, file string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{cmd, "--format", "json", "--show-secrets", file}, &stdout, &stderr); err != nil {
		t.Fatalf("%s %s: %v (stderr %q)", cmd, file, err, stderr.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: output is not JSON: %v", cmd, file, err)
	}
	delete(m, "inputs")
	return m
}
