package capture

import (
	"strings"
	"testing"
	"time"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestReadPCAPStartOrder reads a page whose response is still arriving
// when the tracker it loaded has been answered: the page's exchange must
// come first, as its request did, so that attribution knows the page
// before the tracker request.
func TestReadPCAPStartOrder(t *testing.T) {
	b := newCapBuilder(t, linkTypeEthernet)
	page := b.conn("10.0.0.2", "10.0.0.80", 40000, 80)
	page.send(true, "GET /politics/story HTTP/1.1\r\nHost: www.dailyplanet.example\r\nAccept: text/html\r\n\r\n", 1400)
	page.send(false, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 40\r\n\r\n<title>Story</title>", 1400)
	px := b.conn("10.0.0.2", "10.0.0.81", 40001, 80)
	px.send(true, "GET /tr?id=1&ev=PageView HTTP/1.1\r\nHost: www.facebook.com\r\nReferer: http://www.dailyplanet.example/\r\n\r\n", 1400)
	px.send(false, gifResponse, 1400)
	page.send(false, "<h1>Story</h1>.......", 1400) // the page's last bytes
	exs, _, err := pcapReadAll(t, b.pcap(), "order.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ex := range exs {
		got = append(got, ex.Request.URL.Host)
	}
	if want := "www.dailyplanet.example www.facebook.com"; strings.Join(got, " ") != want {
		t.Errorf("exchanges of %q, want %s", got, want)
	}
}

// TestStartOrderRelease checks the bounds of the wait: a record is handed
// on once the capture is holdWindow past its start, or when more than
// maxHeld wait; the rest at the end, in start order.
func TestStartOrderRelease(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var got []time.Duration
	pr := newPCAPReader("x", func(ex *traffic.Exchange) error {
		got = append(got, ex.Start.Sub(t0))
		return nil
	})
	at := func(now, start time.Duration) {
		pr.now = t0.Add(now)
		pr.hold(&traffic.Exchange{Start: t0.Add(start)})
	}
	at(0, 2*time.Second)
	at(0, 0)
	at(time.Second, time.Second)
	if len(got) != 0 {
		t.Fatalf("handed on %v before their time", got)
	}
	at(holdWindow+1500*time.Millisecond, 11*time.Second) // 0 and 1 s are due
	if want := []time.Duration{0, time.Second}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("after the window: handed on %v, want %v", got, want)
	}
	pr.release(true)
	if want := []time.Duration{0, time.Second, 2 * time.Second, 11 * time.Second}; len(got) != 4 || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("at the end: handed on %v, want %v", got, want)
	}

	got = nil
	for i := range maxHeld + 3 {
		at(0, time.Duration(i)*time.Millisecond)
	}
	if len(got) != 3 || got[0] != 0 || got[2] != 2*time.Millisecond {
		t.Errorf("beyond %d held: handed on %d (first %v), want the 3 oldest", maxHeld, len(got), got[:min(len(got), 3)])
	}
}
