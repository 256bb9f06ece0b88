package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCACommand(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	out, stderr, code := runCLI(t, "ca")
	if code != 0 {
		t.Fatalf("ca: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		filepath.Join(cfg, "trackaudit", "ca-cert.pem"),
		"SHA-256:", "SPKI hash:", "trackaudit browse",
		"--ignore-certificate-errors-spki-list=", "certutil -d sql:$HOME/.pki/nssdb -A",
		"Firefox", "curl --proxy http://127.0.0.1:8080 --cacert",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ca output lacks %q:\n%s", want, out)
		}
	}
	fp := regexp.MustCompile(`SHA-256:\s+([0-9A-F:]{95})`).FindStringSubmatch(out)
	if fp == nil {
		t.Fatalf("no fingerprint in output:\n%s", out)
	}

	exported := filepath.Join(t.TempDir(), "ca.pem")
	if _, stderr, code := runCLI(t, "ca", "--export", exported); code != 0 {
		t.Fatalf("ca --export: exit %d %q", code, stderr)
	}
	pem, _ := os.ReadFile(exported)
	if !strings.Contains(string(pem), "BEGIN CERTIFICATE") || strings.Contains(string(pem), "PRIVATE KEY") {
		t.Errorf("exported file: want the certificate only, got:\n%s", pem)
	}

	out, _, code = runCLI(t, "ca", "--rotate")
	if code != 0 || !strings.Contains(out, "must be given the new certificate") {
		t.Fatalf("ca --rotate: exit %d output %q", code, out)
	}
	if strings.Contains(out, fp[1]) {
		t.Errorf("rotate kept the old fingerprint %s", fp[1])
	}
	if _, stderr, code := runCLI(t, "ca", "extra"); code != 2 || !strings.Contains(stderr, "unexpected argument") {
		t.Errorf("ca extra: exit %d stderr %q, want 2", code, stderr)
	}
}
