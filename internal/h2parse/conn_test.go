package h2parse_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/trackaudit/trackaudit/internal/h2parse"
)

// wire builds one direction of a connection with http2.Framer and an HPACK
// encoder, for frames the real server and client do not produce.
type wire struct {
	t testing.TB
	bytes.Buffer
	fr  *http2.Framer
	enc *hpack.Encoder
	hb  bytes.Buffer
}

// newWire starts a direction: the preface (client) and a SETTINGS frame.
func newWire(t testing.TB, client bool, settings ...http2.Setting) *wire {
	w := newFrames(t)
	if client {
		w.WriteString(http2.ClientPreface)
	}
	w.must(w.fr.WriteSettings(settings...))
	return w
}

// newFrames returns a wire without preface or SETTINGS, for the middle of
// a direction.
func newFrames(t testing.TB) *wire {
	w := &wire{t: t}
	w.fr = http2.NewFramer(&w.Buffer, nil)
	w.fr.AllowIllegalWrites = true
	w.enc = hpack.NewEncoder(&w.hb)
	return w
}

func (w *wire) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// block encodes name, value pairs into a field block.
func (w *wire) block(kv ...string) []byte {
	for i := 0; i+1 < len(kv); i += 2 {
		w.must(w.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}))
	}
	b := bytes.Clone(w.hb.Bytes())
	w.hb.Reset()
	return b
}

// headers writes a HEADERS frame with END_HEADERS.
func (w *wire) headers(stream uint32, endStream bool, kv ...string) {
	w.must(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: w.block(kv...), EndStream: endStream, EndHeaders: true}))
}

func (w *wire) get(stream uint32, path string) {
	w.headers(stream, true, ":method", "GET", ":scheme", "https", ":authority", "a.test", ":path", path)
}

var (
	tClient = time.Unix(1000, 0)
	tServer = time.Unix(2000, 0)
)

// parse feeds all client bytes, then all server bytes, in one chunk each.
func parse(maxBody int, cli, srv []byte) result {
	f := newFeeder(maxBody)
	f.feed(true, cli, tClient)
	f.feed(false, srv, tServer)
	return f.close()
}

// paddedConn is a request and a response with padded HEADERS and DATA.
func paddedConn(t testing.TB) (cli, srv *wire) {
	cli = newWire(t, true)
	cli.must(cli.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      1,
		BlockFragment: cli.block(":method", "POST", ":scheme", "https", ":authority", "a.test", ":path", "/form", "user-agent", "ua"),
		EndHeaders:    true,
		PadLength:     7,
		Priority:      http2.PriorityParam{StreamDep: 0, Weight: 15},
	}))
	cli.must(cli.fr.WriteDataPadded(1, false, []byte("a=1"), make([]byte, 255)))
	cli.must(cli.fr.WriteDataPadded(1, true, nil, make([]byte, 3)))
	srv = newWire(t, false)
	srv.must(srv.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID:      1,
		BlockFragment: srv.block(":status", "200", "content-type", "text/plain"),
		EndHeaders:    true,
		PadLength:     200,
	}))
	srv.must(srv.fr.WriteDataPadded(1, false, []byte("hello "), make([]byte, 10)))
	srv.must(srv.fr.WriteDataPadded(1, false, []byte("world"), nil)) // pad length 0
	srv.must(srv.fr.WriteDataPadded(1, true, []byte("!"), make([]byte, 254)))
	return cli, srv
}

func TestPadding(t *testing.T) {
	cli, srv := paddedConn(t)
	got := parse(100, cli.Bytes(), srv.Bytes())
	if got.err != nil || len(got.done) != 1 {
		t.Fatalf("got %s, want one stream and no error", summary(got))
	}
	s := got.done[0]
	if s.Request.Method != "POST" || s.Request.Path != "/form" || s.Request.Header.Get("User-Agent") != "ua" || string(s.Request.Body) != "a=1" {
		t.Errorf("request = %s %s %v %q", s.Request.Method, s.Request.Path, s.Request.Header, s.Request.Body)
	}
	if r := s.Response; r == nil || r.Status != 200 || r.Header.Get("Content-Type") != "text/plain" || string(r.Body) != "hello world!" {
		t.Errorf("response = %+v, want 200 text/plain %q", r, "hello world!")
	}
}

// pushConn is a request whose response pushes /style.css.
func pushConn(t testing.TB) (cli, srv *wire) {
	cli = newWire(t, true)
	cli.get(1, "/")
	srv = newWire(t, false)
	srv.headers(1, false, ":status", "200")
	// The promised request's block is split over PUSH_PROMISE and CONTINUATION.
	push := srv.block(":method", "GET", ":scheme", "https", ":authority", "a.test", ":path", "/style.css", "accept", "text/css")
	srv.must(srv.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, BlockFragment: push[:5], PadLength: 5}))
	srv.must(srv.fr.WriteContinuation(1, true, push[5:]))
	srv.must(srv.fr.WriteData(1, true, []byte("page")))
	srv.headers(2, false, ":status", "200", "content-type", "text/css")
	srv.must(srv.fr.WriteData(2, true, []byte("css")))
	return cli, srv
}

func TestPush(t *testing.T) {
	cli, srv := pushConn(t)
	got := parse(100, cli.Bytes(), srv.Bytes())
	if got.err != nil || len(got.done) != 2 || len(got.open) != 0 {
		t.Fatalf("got %s, want streams 1 and 2, no error", summary(got))
	}
	page, css := got.done[0], got.done[1]
	if page.ID != 1 || page.Pushed || string(page.Response.Body) != "page" {
		t.Errorf("first stream = %d pushed %v body %q, want 1, not pushed, %q", page.ID, page.Pushed, page.Response.Body, "page")
	}
	if css.ID != 2 || !css.Pushed {
		t.Errorf("second stream = %d pushed %v, want 2, pushed", css.ID, css.Pushed)
	}
	if r := css.Request; r.Method != "GET" || r.Authority != "a.test" || r.Path != "/style.css" || r.Header.Get("Accept") != "text/css" || r.End.IsZero() {
		t.Errorf("pushed request = %+v", r)
	}
	if r := css.Response; r == nil || r.Header.Get("Content-Type") != "text/css" || string(r.Body) != "css" {
		t.Errorf("pushed response = %+v", r)
	}
}

// TestTableSize has the server's encoder grow its dynamic table to 64 KiB,
// which only the client's SETTINGS_HEADER_TABLE_SIZE allows (RFC 7541 §4.2,
// §6.3), and then use a 10 KB entry of it.
func TestTableSize(t *testing.T) {
	big := strings.Repeat("v", 10000)
	allow := http2.Setting{ID: http2.SettingHeaderTableSize, Val: 65536}
	tests := []struct {
		name                string
		client, server      []http2.Setting
		wantErr             error
		wantSmallSecondHdrs bool
	}{
		{"client allows", []http2.Setting{allow}, nil, nil, true},
		{"no setting", nil, nil, h2parse.ErrProtocol, false},
		{"setting from the server", nil, []http2.Setting{allow}, h2parse.ErrProtocol, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := newWire(t, true, tt.client...)
			cli.get(1, "/1")
			cli.get(3, "/2")
			srv := newWire(t, false, tt.server...)
			srv.enc.SetMaxDynamicTableSizeLimit(65536)
			srv.enc.SetMaxDynamicTableSize(65536) // the next block starts with a size update
			srv.headers(1, true, ":status", "200", "x-big", big)
			before := srv.Len()
			srv.headers(3, true, ":status", "200", "x-big", big)
			if n := srv.Len() - before; n > 50 {
				t.Fatalf("second HEADERS is %d bytes; the encoder did not use its dynamic table", n)
			}

			got := parse(0, cli.Bytes(), srv.Bytes())
			if !errors.Is(got.err, tt.wantErr) || (got.err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Err() = %v, want %v", got.err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if len(got.done) != 2 {
				t.Fatalf("got %s, want 2 streams", summary(got))
			}
			for _, s := range got.done {
				if s.Response.Header.Get("X-Big") != big {
					t.Errorf("stream %d: X-Big has %d bytes, want %d", s.ID, len(s.Response.Header.Get("X-Big")), len(big))
				}
			}
		})
	}
}

func TestNotHTTP2(t *testing.T) {
	h1req := []byte("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
	h1resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	noSettings := newFrames(t)
	noSettings.WriteString(http2.ClientPreface)
	noSettings.get(1, "/")
	good := newWire(t, false)
	good.headers(1, true, ":status", "200")
	cliGood := newWire(t, true)
	cliGood.get(1, "/")
	tests := []struct {
		name        string
		serverFirst bool
		cli, srv    []byte
		wantErr     bool
	}{
		{"HTTP/1.1", false, h1req, h1resp, true},
		{"HTTP/1.1, server bytes first", true, h1req, h1resp, true},
		{"HTTP/2 server, HTTP/1.1 client", true, h1req, good.Bytes(), true},
		{"client preface without SETTINGS", false, noSettings.Bytes(), good.Bytes(), true},
		{"server without SETTINGS", false, cliGood.Bytes(), h1resp, true},
		{"preface cut short", false, []byte(http2.ClientPreface[:10]), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeeder(100)
			if tt.serverFirst {
				f.feed(false, tt.srv, tServer)
			}
			f.feed(true, tt.cli, tClient)
			if !tt.serverFirst {
				f.feed(false, tt.srv, tServer)
			}
			got := f.close()
			if errors.Is(got.err, h2parse.ErrNotHTTP2) != tt.wantErr {
				t.Errorf("Err() = %v, want ErrNotHTTP2: %v", got.err, tt.wantErr)
			}
			if len(got.done)+len(got.open) != 0 {
				t.Errorf("got %s, want no streams", summary(got))
			}
		})
	}
}

// TestBadFrames checks that each framing error stops parsing, keeps the
// stream completed before it and leaves the open one to Close.
func TestBadFrames(t *testing.T) {
	big := strings.Repeat("a", 4000)
	tests := []struct {
		name       string
		fromClient bool
		bad        func(w *wire)
		want       error
	}{
		{"DATA padding longer than payload", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameData, 0x8, 3, []byte{3, 'a', 'b'})) // 3 >= payload length
		}, h2parse.ErrProtocol},
		{"padded DATA without pad length", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameData, 0x8, 3, nil))
		}, h2parse.ErrProtocol},
		{"HEADERS padding longer than payload", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameHeaders, 0x4|0x8, 3, []byte{10, 0x88}))
		}, h2parse.ErrProtocol},
		{"HEADERS too short for priority", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameHeaders, 0x4|0x20, 3, []byte{0, 0}))
		}, h2parse.ErrProtocol},
		{"CONTINUATION without HEADERS", false, func(w *wire) {
			w.must(w.fr.WriteContinuation(3, true, w.block(":status", "200")))
		}, h2parse.ErrProtocol},
		{"DATA inside a field block", false, func(w *wire) {
			w.must(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: w.block(":status", "200")}))
			w.must(w.fr.WriteData(3, true, []byte("x")))
		}, h2parse.ErrProtocol},
		{"CONTINUATION of another stream", true, func(w *wire) {
			w.must(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: w.block(":method", "GET")}))
			w.must(w.fr.WriteContinuation(7, true, nil))
		}, h2parse.ErrProtocol},
		{"SETTINGS of 5 bytes", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameSettings, 0, 0, make([]byte, 5)))
		}, h2parse.ErrProtocol},
		{"PING on a stream", true, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FramePing, 0, 1, make([]byte, 8)))
		}, h2parse.ErrProtocol},
		{"RST_STREAM of 3 bytes", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameRSTStream, 0, 3, make([]byte, 3)))
		}, h2parse.ErrProtocol},
		{"DATA on stream 0", true, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameData, 0, 0, []byte("x")))
		}, h2parse.ErrProtocol},
		{"PUSH_PROMISE from the client", true, func(w *wire) {
			w.must(w.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 3, PromiseID: 4, BlockFragment: w.block(":method", "GET"), EndHeaders: true}))
		}, h2parse.ErrProtocol},
		{"PUSH_PROMISE of an odd stream", false, func(w *wire) {
			w.must(w.fr.WritePushPromise(http2.PushPromiseParam{StreamID: 3, PromiseID: 5, BlockFragment: w.block(":method", "GET"), EndHeaders: true}))
		}, h2parse.ErrProtocol},
		{"client opens an even stream", true, func(w *wire) {
			w.get(6, "/even")
		}, h2parse.ErrProtocol},
		{"HPACK index not in any table", false, func(w *wire) {
			w.must(w.fr.WriteRawFrame(http2.FrameHeaders, 0x4, 3, []byte{0x80 | 100}))
		}, h2parse.ErrProtocol},
		{"HPACK block cut in a field", false, func(w *wire) {
			b := w.block("x-long", "some value")
			w.must(w.fr.WriteRawFrame(http2.FrameHeaders, 0x4, 3, b[:len(b)-2]))
		}, h2parse.ErrProtocol},
		{"field block over the limit", false, func(w *wire) {
			w.must(w.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: make([]byte, 200<<10)}))
			w.must(w.fr.WriteContinuation(3, true, make([]byte, 100<<10)))
		}, h2parse.ErrLimit},
		{"frame over the buffering limit", false, func(w *wire) {
			w.Write([]byte{0x10, 0, 0, byte(http2.FrameHeaders), 0x4, 0, 0, 0, 3}) // 1 MiB HEADERS, header only
		}, h2parse.ErrLimit},
		{"decoded fields over the limit", false, func(w *wire) {
			// A 4 KB entry in the dynamic table, then 100 one-byte
			// references to it: 400 KB of fields from a 4 KB block.
			fields := []string{":status", "200"}
			for range 101 {
				fields = append(fields, "x-a", big)
			}
			w.headers(3, true, fields...)
		}, h2parse.ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := newWire(t, true)
			cli.get(1, "/done")
			cli.get(3, "/open")
			srv := newWire(t, false)
			srv.headers(1, true, ":status", "200")
			f := newFeeder(100)
			f.feed(true, cli.Bytes(), tClient)
			f.feed(false, srv.Bytes(), tServer)
			w := srv
			if tt.fromClient {
				w = cli
			}
			good := w.Len()
			tt.bad(w)
			f.feed(tt.fromClient, w.Bytes()[good:], tClient)
			// Bytes after the error are ignored.
			srv.headers(3, true, ":status", "200")
			f.feed(false, srv.Bytes()[srv.Len()-10:], tServer)
			got := f.close()

			if !errors.Is(got.err, tt.want) {
				t.Fatalf("Err() = %v, want %v", got.err, tt.want)
			}
			var e *h2parse.Error
			if !errors.As(got.err, &e) || e.FromClient != tt.fromClient || e.Offset < int64(good) || e.Offset >= int64(w.Len()) {
				t.Errorf("Err() = %#v, want an *Error from client %v at an offset in [%d, %d)", got.err, tt.fromClient, good, w.Len())
			}
			if len(got.done) != 1 || got.done[0].Request.Path != "/done" || len(got.open) != 1 || got.open[0].Request.Path != "/open" {
				t.Errorf("got %s, want /done completed and /open open", summary(got))
			}
		})
	}
}

func TestTooManyStreams(t *testing.T) {
	const limit = 1000 // maxStreams
	cli := newWire(t, true)
	for i := range limit + 1 {
		cli.get(uint32(2*i+1), fmt.Sprintf("/%d", i))
	}
	srv := newWire(t, false)
	srv.headers(2*limit+1, true, ":status", "204")
	f := newFeeder(0)
	f.feed(true, cli.Bytes(), tClient)
	if len(f.res.done) != 1 || f.res.done[0].ID != 1 || f.res.done[0].Response != nil || f.res.done[0].Reset {
		t.Fatalf("after %d requests, Feed returned %s; want stream 1, incomplete", limit+1, summary(f.res))
	}
	f.feed(false, srv.Bytes(), tServer)
	got := f.close()
	if got.err != nil || len(got.done) != 2 || got.done[1].ID != 2*limit+1 || got.done[1].Response.Status != 204 {
		t.Fatalf("got %s, want stream %d completed", summary(got), 2*limit+1)
	}
	if len(got.open) != limit-1 {
		t.Fatalf("Close() returned %d streams, want %d", len(got.open), limit-1)
	}
	for i, s := range got.open {
		if want := uint32(2*i + 3); s.ID != want {
			t.Fatalf("Close()[%d] is stream %d, want %d (id order)", i, s.ID, want)
		}
	}
}

// TestLargeData feeds a 1 MiB DATA frame to a Conn keeping 1000 bytes and
// checks that it neither keeps nor allocates anything near the frame size.
func TestLargeData(t *testing.T) {
	cli := newWire(t, true)
	cli.get(1, "/big")
	srv := newWire(t, false)
	srv.headers(1, false, ":status", "200")
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<20/16)
	srv.must(srv.fr.WriteData(1, true, payload))

	c := h2parse.NewConn(1000)
	c.Feed(true, cli.Bytes(), tClient)
	b := srv.Bytes()
	var done []*h2parse.Stream
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for len(b) > 0 {
		n := min(len(b), 16<<10)
		done = append(done, c.Feed(false, b[:n], tServer)...)
		b = b[n:]
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("feeding a 1 MiB DATA frame allocated %d bytes, want under 64 KiB", alloc)
	}
	if len(done) != 1 || c.Err() != nil {
		t.Fatalf("got %d streams, Err %v; want 1, nil", len(done), c.Err())
	}
	if r := done[0].Response; !bytes.Equal(r.Body, payload[:1000]) || !r.Truncated || r.End.IsZero() {
		t.Errorf("body = %d bytes, truncated %v, end %v; want the first 1000 bytes, truncated, ended", len(r.Body), r.Truncated, r.End)
	}
}

// TestTimes checks Start and End against the chunks' times, with frames
// split across chunks and an informational response to skip.
func TestTimes(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	cli := newWire(t, true)
	cli.headers(1, false, ":method", "PUT", ":scheme", "https", ":authority", "a.test", ":path", "/up")
	hdrEnd := cli.Len()
	cli.must(cli.fr.WriteData(1, true, []byte("body")))
	srv := newWire(t, false)
	srv.headers(1, false, ":status", "100")
	final := srv.Len()
	srv.headers(1, false, ":status", "201", "location", "/up/1")
	dataAt := srv.Len()
	srv.must(srv.fr.WriteData(1, false, []byte("created")))
	srv.headers(1, true, "x-trailer", "t")

	f := newFeeder(100)
	c, s := cli.Bytes(), srv.Bytes()
	f.feed(true, c[:hdrEnd-3], at(1)) // HEADERS starts at 1, ends at 2
	f.feed(true, c[hdrEnd-3:hdrEnd+2], at(2))
	f.feed(true, c[hdrEnd+2:], at(3)) // END_STREAM at 3
	f.feed(false, s[:final+1], at(4)) // 100 at 4, final HEADERS starts at 4
	f.feed(false, s[final+1:dataAt+2], at(5))
	f.feed(false, s[dataAt+2:len(s)-1], at(6))
	f.feed(false, s[len(s)-1:], at(7)) // trailers end the stream at 7
	got := f.close()
	if got.err != nil || len(got.done) != 1 {
		t.Fatalf("got %s, want one stream", summary(got))
	}
	st := got.done[0]
	req, resp := st.Request, st.Response
	if req.Start != at(1) || req.End != at(3) || string(req.Body) != "body" {
		t.Errorf("request start %v end %v body %q, want %v %v %q", req.Start.Unix(), req.End.Unix(), req.Body, 1, 3, "body")
	}
	if resp.Status != 201 || resp.Start != at(4) || resp.End != at(7) || string(resp.Body) != "created" {
		t.Errorf("response %d start %v end %v body %q, want 201 4 7 %q", resp.Status, resp.Start.Unix(), resp.End.Unix(), resp.Body, "created")
	}
	if !reflect.DeepEqual(resp.Trailer, http.Header{"X-Trailer": {"t"}}) || resp.Header.Get("Location") != "/up/1" {
		t.Errorf("response header %v trailer %v", resp.Header, resp.Trailer)
	}
}

func TestReset(t *testing.T) {
	cli := newWire(t, true)
	cli.get(1, "/a")
	cli.get(3, "/b")
	cli.must(cli.fr.WriteRSTStream(9, http2.ErrCodeCancel)) // unknown stream: ignored
	srv := newWire(t, false)
	srv.headers(1, false, ":status", "200")
	srv.must(srv.fr.WriteData(1, false, []byte("part")))
	cliRST := newFrames(t)
	cliRST.must(cliRST.fr.WriteRSTStream(1, http2.ErrCodeCancel))

	f := newFeeder(100)
	f.feed(true, cli.Bytes(), tClient)
	f.feed(false, srv.Bytes(), tServer)
	f.feed(true, cliRST.Bytes(), tClient)
	got := f.close()
	if got.err != nil || len(got.done) != 1 || len(got.open) != 1 {
		t.Fatalf("got %s, want stream 1 reset, stream 3 open", summary(got))
	}
	s := got.done[0]
	if s.ID != 1 || !s.Reset || s.Response == nil || string(s.Response.Body) != "part" || !s.Response.End.IsZero() {
		t.Errorf("stream %d reset %v response %+v; want 1, reset, body %q, no end", s.ID, s.Reset, s.Response, "part")
	}
	if o := got.open[0]; o.ID != 3 || o.Reset || o.Response != nil {
		t.Errorf("open stream %d reset %v response %v; want 3 without response", o.ID, o.Reset, o.Response)
	}
}

// TestHeaderBudget opens 100 streams that each keep about 240 KB of
// decoded fields (60 references to one 4 KB dynamic table entry): the
// oldest must be returned before the open ones hold more than 16 MiB.
func TestHeaderBudget(t *testing.T) {
	const streams, perBlock = 100, 60 * (len("x-a") + 4000 + 32)
	cli := newWire(t, true)
	fields := []string{":method", "GET", ":scheme", "https", ":authority", "a.test", ":path", "/"}
	for range 60 {
		fields = append(fields, "x-a", strings.Repeat("a", 4000))
	}
	for i := range streams {
		cli.headers(uint32(2*i+1), true, fields...)
	}
	got := parse(0, cli.Bytes(), nil)
	if got.err != nil || len(got.done)+len(got.open) != streams {
		t.Fatalf("got %s, want %d streams and no error", summary(got), streams)
	}
	if len(got.done) == 0 || len(got.open)*perBlock > 16<<20 {
		t.Errorf("%d streams returned by Feed, %d left open: want the open ones under 16 MiB of fields", len(got.done), len(got.open))
	}
	for i, s := range append(got.done, got.open...) {
		if s.ID != uint32(2*i+1) || s.Response != nil || len(s.Request.Header["X-A"]) != 60 {
			t.Fatalf("stream %d at position %d with %d X-A fields, want stream %d, oldest first, 60 fields", s.ID, i, len(s.Request.Header["X-A"]), 2*i+1)
		}
	}
}
