package main

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBrowseRefusesWithoutChromium(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	_, stderr, code := runCLI(t, "browse", "https://news.example/")
	if code != 1 || !strings.Contains(stderr, "no Chromium found") || !strings.Contains(stderr, "apt install chromium") {
		t.Errorf("exit %d stderr %q, want 1 and an install hint", code, stderr)
	}
}

func TestChromiumArgs(t *testing.T) {
	args := chromiumArgs("127.0.0.1:9999", "SPKI=", "/tmp/profile", 3*time.Second, []string{"https://news.example/"})
	for _, want := range []string{
		"--user-data-dir=/tmp/profile", "--proxy-server=http://127.0.0.1:9999",
		"--ignore-certificate-errors-spki-list=SPKI=", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--headless", "--virtual-time-budget=3000",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %q", args, want)
		}
	}
	if args[len(args)-1] != "https://news.example/" {
		t.Errorf("URL not last: %v", args)
	}
}

func TestBrowseURLs(t *testing.T) {
	list := writeFile(t, "sites.txt", "# clinics\nclinic-a.example\n\n  https://clinic-b.example/contact?x=1 # their form\nhttp://old.example:8080/\nnews.example/a?next=https://x.example/\n")
	bad := writeFile(t, "bad.txt", "ok.example\nftp://files.example/\n")
	comments := writeFile(t, "empty.txt", "# nothing yet\n\n")
	tests := []struct {
		name    string
		args    []string
		file    string
		want    []string
		wantErr string
	}{
		{"args", []string{"https://news.example/", "shop.example"}, "", []string{"https://news.example/", "https://shop.example"}, ""},
		{"args then file", []string{"news.example"}, list, []string{"https://news.example", "https://clinic-a.example",
			"https://clinic-b.example/contact?x=1", "http://old.example:8080/", "https://news.example/a?next=https://x.example/"}, ""},
		{"bad arg", []string{"javascript:alert(1)"}, "", nil, `"javascript:alert(1)": want an http or https URL`},
		{"bad line", nil, bad, nil, `bad.txt:2: "ftp://files.example/": want an http or https URL`},
		{"only comments", nil, comments, nil, "empty.txt: no URLs in the file"},
		{"missing file", nil, filepath.Join(t.TempDir(), "gone.txt"), nil, "read --urls "},
	}
	for _, tt := range tests {
		got, err := browseURLs(tt.args, tt.file)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// FuzzURLList checks that any --urls file gives a one-line error or URLs
// Chromium can load: http or https with a host.
func FuzzURLList(f *testing.F) {
	for _, s := range []string{"news.example\n# c\nhttps://a.example/x?y=1 # z\n", "", "ftp://x\n", "http://[::1]:80/\r\n", "a b\n", "https://@/\n", "x.example/a?u=http://b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		urls, err := parseURLList("sites.txt", b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "sites.txt") {
				t.Fatalf("error %q: want one line naming the file", err)
			}
			return
		}
		for _, s := range urls {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				t.Fatalf("URL %q from %q: want http or https with a host (%v)", s, b, err)
			}
		}
	})
}
