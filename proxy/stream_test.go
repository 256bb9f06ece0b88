package proxy

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestBodiesStream checks that bodies pass through as they come, both
// ways, not after the proxy has read them whole: the origin sends the
// first part of its response and waits until the client has it before
// sending the rest (as server-sent events and long polls do), and the
// client sends the first part of its upload and waits until the origin
// has it. A proxy that buffers either body deadlocks here.
func TestBodiesStream(t *testing.T) {
	first, rest := []byte("event: one\n\n"), bytes.Repeat([]byte("x"), 1<<20)
	clientGot, originGot := make(chan struct{}), make(chan struct{})
	o := newOrigins(t)
	o.serveTLS(t, "stream.test", o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			buf := make([]byte, len(first))
			if _, err := io.ReadFull(r.Body, buf); err != nil {
				t.Errorf("origin: reading the first part of the upload: %v", err)
				return
			}
			close(originGot)
			n, _ := io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Received", "ok")
			if n != int64(len(rest)) {
				t.Errorf("origin received %d more bytes, want %d", n, len(rest))
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(first)
		w.(http.Flusher).Flush()
		select {
		case <-clientGot:
		case <-time.After(5 * time.Second):
			t.Errorf("the client did not get the first part of the response while the origin held the rest back: the proxy buffers responses")
			return
		}
		w.Write(rest)
	}))
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots, BodyCap: 1000})
	c := tp.client()

	resp, err := c.Get("https://stream.test/events")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(first))
	if _, err := io.ReadFull(resp.Body, buf); err != nil || !bytes.Equal(buf, first) {
		t.Fatalf("first part: %q, %v", buf, err)
	}
	close(clientGot)
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != int64(len(rest)) {
		t.Errorf("client got %d more bytes, want %d", n, len(rest))
	}
	if ex := tp.next(t); len(ex.Response.Body) != 1000 || !ex.Response.BodyTruncated {
		t.Errorf("recorded response body %d bytes truncated=%v, want the 1000-byte cap, truncated", len(ex.Response.Body), ex.Response.BodyTruncated)
	}

	pr, pw := io.Pipe()
	go func() {
		pw.Write(first)
		select {
		case <-originGot:
			pw.Write(rest)
			pw.Close()
		case <-time.After(5 * time.Second):
			pw.CloseWithError(io.ErrUnexpectedEOF)
			t.Errorf("the origin did not get the first part of the upload while the client held the rest back: the proxy buffers requests")
		}
	}()
	req, _ := http.NewRequest(http.MethodPost, "https://stream.test/upload", pr)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Received") != "ok" {
		t.Errorf("upload: status %d, origin did not confirm", resp.StatusCode)
	}
	if ex := tp.next(t); len(ex.Request.Body) != 1000 || !ex.Request.BodyTruncated {
		t.Errorf("recorded request body %d bytes truncated=%v, want the 1000-byte cap, truncated", len(ex.Request.Body), ex.Request.BodyTruncated)
	}
}
