package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/traffic"
)

func TestExportUsageAndErrors(t *testing.T) {
	db := saveCapture(t, pixelExchange(1))
	dir := t.TempDir()
	har := writeFile(t, "in.har", `{"log": {"entries": []}}`)
	existing := writeFile(t, "existing.har", "keep me")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"nothing", []string{"export"}, 2, "export: name exactly one capture, got 0"},
		{"no --har", []string{"export", db}, 2, "export: say where to write with --har OUT.har"},
		{"two inputs", []string{"export", db, db, "--har", filepath.Join(dir, "x.har")}, 2, "got 2"},
		{"not a capture", []string{"export", existing, "--har", filepath.Join(dir, "x.har")}, 1, "existing.har: unrecognised format"},
		{"bad key log", []string{"export", har, "--keylog", existing, "--har", filepath.Join(dir, "x.har")}, 1, "existing.har: no TLS secrets in the key log"},
		{"bad flag", []string{"export", db, "--har", filepath.Join(dir, "x.har"), "--zip"}, 2, "flag provided but not defined: -zip"},
		{"exists", []string{"export", db, "--har", existing}, 1, "existing.har already exists; pass --force to replace it"},
		{"onto itself", []string{"export", db, "--har", db, "--force"}, 2, "is the capture itself"},
		{"missing capture", []string{"export", filepath.Join(dir, "gone.db"), "--har", filepath.Join(dir, "x.har")}, 1, "gone.db: no such file or directory"},
		{"missing dir", []string{"export", db, "--har", filepath.Join(dir, "no", "out.har")}, 1, "out.har: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("existing output changed to %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestExportWritesHAR(t *testing.T) {
	exs := []*traffic.Exchange{pixelExchange(1), pixelExchange(2)}
	exs[1].Request.URL.RawQuery = "id=123456789&ev=Purchase"
	sni := &traffic.Exchange{ID: 3, Source: "proxy", HostOnly: true, Via: "tls-sni",
		Request: traffic.Request{URL: &url.URL{Scheme: "https", Host: "connect.facebook.net"}}}
	db := saveCapture(t, exs[0], sni, exs[1])
	tests := []struct {
		name        string
		flags       []string
		wantSecrets bool
	}{
		{"redacted", nil, false},
		{"show secrets", []string{"--show-secrets"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.har")
			stdout, stderr, code := runCLI(t, append([]string{"export", db, "--har", out}, tt.flags...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.Contains(stdout, "exported 2 exchanges") || !strings.Contains(stdout, "left out 1 host-only contacts") {
				t.Errorf("stdout = %q, want it to say 2 exchanges were exported and 1 host-only contact left out", stdout)
			}
			if got := strings.Contains(stderr, "warning"); got != tt.wantSecrets {
				t.Errorf("stderr warning shown = %v, want %v (stderr %q)", got, tt.wantSecrets, stderr)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode = %#o, want 0600", out, fi.Mode().Perm())
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) {
				t.Fatalf("output is not JSON:\n%s", b)
			}
			for _, secret := range []string{"SECRETCOOKIEVALUE", "OTHERSECRET", "SETSECRET"} {
				if got := bytes.Contains(b, []byte(secret)); got != tt.wantSecrets {
					t.Errorf("HAR contains %s = %v, want %v", secret, got, tt.wantSecrets)
				}
			}
			var urls []string
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := capture.ReadHAR(f, "out.har", func(ex *traffic.Exchange) error {
				urls = append(urls, ex.Request.URL.String())
				return nil
			}); err != nil {
				t.Fatalf("ReadHAR of the export: %v", err)
			}
			want := []string{exs[0].Request.URL.String(), exs[1].Request.URL.String()}
			if strings.Join(urls, "\n") != strings.Join(want, "\n") {
				t.Errorf("exported URLs = %q, want %q", urls, want)
			}
		})
	}
}

func TestExportForceReplaces(t *testing.T) {
	db := saveCapture(t, pixelExchange(1))
	out := writeFile(t, "out.har", "old content")
	if err := os.Chmod(out, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "export", db, "--har", out, "--force")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	b, _ := os.ReadFile(out)
	if !bytes.Contains(b, []byte("www.facebook.com")) {
		t.Errorf("--force did not replace the file: %q", b)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced file mode = %#o, want 0600", fi.Mode().Perm())
	}
}

// TestExportOtherCaptures turns a decrypted packet capture and a HAR file
// into HAR: the exchanges come with the pages analyze gives them, and a
// HAR exported without --show-secrets has its cookie values redacted.
func TestExportOtherCaptures(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantN    string
		wantPage string // title of a page the HAR lists
		secret   string // a value in the input that must not be in the output
	}{
		{"decrypted pcapng", exampleHTTPS, "exported 5 exchanges", "Senator hid health scandal – The Daily Planet", ""},
		{"HAR", "../../examples/news-site.har", "exported 11 exchanges", "Senator hid health scandal, records show – The Daily Planet", "100012345678901"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.har")
			stdout, stderr, code := runCLI(t, "export", tt.in, "--har", out)
			if code != 0 || !strings.Contains(stdout, tt.wantN) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, tt.wantN)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var h struct {
				Log struct {
					Pages []struct{ Title string }
				}
			}
			if err := json.Unmarshal(b, &h); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range h.Log.Pages {
				found = found || p.Title == tt.wantPage
			}
			if !found {
				t.Errorf("HAR pages %+v; want the page %s", h.Log.Pages, tt.wantPage)
			}
			if tt.secret != "" && bytes.Contains(b, []byte(tt.secret)) {
				t.Errorf("the exported HAR holds %s in clear", tt.secret)
			}
		})
	}
}
