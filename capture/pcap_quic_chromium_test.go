//go:build unix

package capture

import (
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/internal/chromium"
	"github.com/trackaudit/trackaudit/internal/fixtures"
)

// TestReadPCAPQUICChromium reads the Initial packets of a real QUIC
// client: headless Chromium, told to speak HTTP/3 to tracker.test at a
// local UDP port where nothing answers, sends its ClientHello there (split
// over packets, its CRYPTO frames shuffled, as Chromium does); the
// datagrams are written into a capture. Skipped with a notice when no
// Chromium is installed, except under CI=true.
func TestReadPCAPQUICChromium(t *testing.T) {
	exe := fixtures.Chromium(t, chromium.Find)
	ln, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.LocalAddr().(*net.UDPAddr).Port
	origin := "tracker.test:" + strconv.Itoa(port)
	profile, err := os.MkdirTemp("", "trackaudit-quic-test-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+profile, "--enable-quic", "--origin-to-force-quic-on="+origin,
		"--host-resolver-rules=MAP tracker.test 127.0.0.1", "https://"+origin+"/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop its helper processes too
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		os.RemoveAll(profile) // best effort: a helper may still be exiting
	}()
	b := newCapBuilder(t, linkTypeEthernet)
	buf := make([]byte, 65535)
	ln.SetReadDeadline(time.Now().Add(60 * time.Second))
	for n := 0; n < 4; n++ {
		size, from, err := ln.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after %d datagrams from Chromium: %v", n, err)
		}
		b.quicUDP(from.IP.String(), "127.0.0.1", uint16(from.Port), uint16(port), slices.Clone(buf[:size]))
	}
	exs, st, err := pcapReadAll(t, b.pcap(), "chromium-quic.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) == 0 {
		t.Fatalf("no contact from Chromium's QUIC Initials; stats %+v", st)
	}
	for _, ex := range exs {
		if !ex.HostOnly || ex.Via != "quic-sni" || ex.Request.URL.Host != origin {
			t.Errorf("record %s via %q, want a quic-sni contact of %s", ex.Request.URL, ex.Via, origin)
		}
	}
}
