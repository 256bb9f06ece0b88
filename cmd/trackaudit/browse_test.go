package main

import (
	"slices"
	"strings"
	"testing"
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
	args := chromiumArgs("127.0.0.1:9999", "SPKI=", "/tmp/profile", true, []string{"https://news.example/"})
	for _, want := range []string{
		"--user-data-dir=/tmp/profile", "--proxy-server=http://127.0.0.1:9999",
		"--ignore-certificate-errors-spki-list=SPKI=", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--headless",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %q", args, want)
		}
	}
	if args[len(args)-1] != "https://news.example/" {
		t.Errorf("URL not last: %v", args)
	}
}
