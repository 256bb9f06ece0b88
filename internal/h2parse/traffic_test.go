package h2parse_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/trackaudit/trackaudit/internal/h2parse"
)

// chunk is the bytes one Write (client to server) or Read (server to
// client) moved on the client's side of a connection.
type chunk struct {
	fromClient bool
	data       []byte
	t          time.Time
}

// recorder keeps the chunks of a connection in the order they happened.
type recorder struct {
	mu     sync.Mutex
	chunks []chunk
}

func (r *recorder) add(fromClient bool, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, chunk{fromClient, bytes.Clone(p), time.Now()})
}

// tapConn is the client's end of the connection; it records a write before
// the peer can see it and a read after it arrived, so the recorded order
// respects causality as a capture does.
type tapConn struct {
	net.Conn
	rec *recorder
}

func (c *tapConn) Write(p []byte) (int, error) {
	c.rec.add(true, p)
	return c.Conn.Write(p)
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.rec.add(false, p[:n])
	}
	return n, err
}

// record runs an x/net/http2 server and client over one h2c connection
// (net.Pipe), calls drive with the client, and returns the recorded chunks.
func record(t testing.TB, handler http.Handler, drive func(*http.Client)) []chunk {
	t.Helper()
	srvConn, cliConn := net.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		// A 16 KiB max frame size (the minimum) makes big header blocks
		// span CONTINUATION frames in both directions.
		srv := &http2.Server{MaxReadFrameSize: 16 << 10}
		srv.ServeConn(srvConn, &http2.ServeConnOpts{Handler: handler})
	}()
	rec := &recorder{}
	var dialed sync.Once
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
			var c net.Conn = nil
			dialed.Do(func() { c = &tapConn{Conn: cliConn, rec: rec} })
			if c == nil {
				return nil, errors.New("test dials one connection only")
			}
			return c, nil
		},
	}
	drive(&http.Client{Transport: tr})
	tr.CloseIdleConnections()
	cliConn.Close()
	<-served
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.chunks
}

// result is everything a Conn reports for a connection.
type result struct {
	done, open []*h2parse.Stream
	err        error
}

// feeder feeds a Conn and collects its result.
type feeder struct {
	c   *h2parse.Conn
	res result
}

func newFeeder(maxBody int) *feeder { return &feeder{c: h2parse.NewConn(maxBody)} }

func (f *feeder) feed(fromClient bool, p []byte, t time.Time) {
	f.res.done = append(f.res.done, f.c.Feed(fromClient, p, t)...)
}

func (f *feeder) close() result {
	f.res.open = f.c.Close()
	f.res.err = f.c.Err()
	return f.res
}

// segment is a recorded chunk placed in its direction's byte stream.
type segment struct {
	off, end int
	t        time.Time
	need     int // client bytes recorded before this chunk
}

// streams splits chunks into the two directions' byte streams.
func streams(chunks []chunk) (cli, srv []byte, cliSegs, srvSegs []segment) {
	for _, c := range chunks {
		if c.fromClient {
			cliSegs = append(cliSegs, segment{len(cli), len(cli) + len(c.data), c.t, 0})
			cli = append(cli, c.data...)
		} else {
			srvSegs = append(srvSegs, segment{len(srv), len(srv) + len(c.data), c.t, len(cli)})
			srv = append(srv, c.data...)
		}
	}
	return cli, srv, cliSegs, srvSegs
}

// segAt returns the segment holding byte off.
func segAt(segs []segment, off int) segment {
	i, _ := slices.BinarySearchFunc(segs, off, func(s segment, off int) int {
		switch {
		case s.end <= off:
			return -1
		case s.off > off:
			return 1
		}
		return 0
	})
	return segs[i]
}

// Ways to re-feed a recording. Each byte keeps the time of its recorded
// chunk; server bytes are never fed before the client bytes recorded
// before them (the causal order a capture has).
var replays = []struct {
	name string
	run  func(chunks []chunk, maxBody int) result
}{
	{"as recorded", func(chunks []chunk, maxBody int) result {
		f := newFeeder(maxBody)
		for _, c := range chunks {
			f.feed(c.fromClient, c.data, c.t)
		}
		return f.close()
	}},
	{"1-byte chunks", func(chunks []chunk, maxBody int) result {
		f := newFeeder(maxBody)
		for _, c := range chunks {
			for i := range c.data {
				f.feed(c.fromClient, c.data[i:i+1], c.t)
			}
		}
		return f.close()
	}},
	{"client first", func(chunks []chunk, maxBody int) result {
		f := newFeeder(maxBody)
		for _, fromClient := range []bool{true, false} {
			for _, c := range chunks {
				if c.fromClient == fromClient {
					f.feed(c.fromClient, c.data, c.t)
				}
			}
		}
		return f.close()
	}},
	{"random chunks, random interleaving", func(chunks []chunk, maxBody int) result {
		return replayRandom(chunks, maxBody, rand.New(rand.NewPCG(1, 2)))
	}},
	{"random chunks, other interleaving", func(chunks []chunk, maxBody int) result {
		return replayRandom(chunks, maxBody, rand.New(rand.NewPCG(3, 4)))
	}},
}

// replayRandom feeds random-sized pieces, choosing the direction at random
// among those allowed by causality.
func replayRandom(chunks []chunk, maxBody int, rng *rand.Rand) result {
	cli, srv, cliSegs, srvSegs := streams(chunks)
	f := newFeeder(maxBody)
	ci, si := 0, 0
	for ci < len(cli) || si < len(srv) {
		serverMay := si < len(srv) && segAt(srvSegs, si).need <= ci
		if ci < len(cli) && (!serverMay || rng.IntN(2) == 0) {
			s := segAt(cliSegs, ci)
			n := min(1+rng.IntN(3000), s.end-ci)
			f.feed(true, cli[ci:ci+n], s.t)
			ci += n
		} else {
			s := segAt(srvSegs, si)
			n := min(1+rng.IntN(3000), s.end-si)
			f.feed(false, srv[si:si+n], s.t)
			si += n
		}
	}
	return f.close()
}

const trafficMaxBody = 64 << 10

// The request and response contents of TestRealTraffic.
var (
	postBody  = bytes.Repeat([]byte("post body 0123456789 "), 2000) // 42000 bytes
	bigBody   = bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	bigHeader = strings.Repeat("Qz9_x-7Kp2", 4000) // 40000 bytes; Huffman keeps it above 16 KiB
	repeated  = "a value that HPACK's dynamic table should carry across requests"
)

// trafficHandler answers by path.
func trafficHandler(arrived *sync.WaitGroup) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/get/"):
			w.Header().Set("X-Served", p)
			w.Header().Set("X-Repeat", repeated)
			fmt.Fprintf(w, "hello %s", p)
		case strings.HasPrefix(p, "/conc/"):
			// Every concurrent handler sends half its body, then waits
			// for the others, so DATA frames of the streams interleave.
			w.Write([]byte("first half of " + p + ";"))
			w.(http.Flusher).Flush()
			arrived.Done()
			arrived.Wait()
			w.Write([]byte("second half of " + p))
		case p == "/post":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "got %d bytes, trailer %q", len(b), r.Trailer.Get("X-Req-Trailer"))
		case p == "/big":
			w.Write(bigBody)
		case p == "/trailers":
			w.Header().Set("Trailer", "X-Checksum")
			w.Write([]byte("body before trailers"))
			w.Header().Set("X-Checksum", "abc123")
		case p == "/bighdr":
			w.Header().Set("X-Big-Echo", r.Header.Get("X-Big"))
			w.Write([]byte("ok"))
		case p == "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case p == "/head":
			w.Header().Set("Content-Length", "1234")
		case p == "/cookie":
			w.Header().Add("Set-Cookie", "s=1")
			w.Header().Add("Set-Cookie", "t=2")
			fmt.Fprintf(w, "cookie %s", r.Header.Get("Cookie"))
		case p == "/abort-after-headers":
			w.Header().Set("X-Before-Abort", "yes")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case p == "/abort":
			panic(http.ErrAbortHandler)
		default:
			http.NotFound(w, r)
		}
	})
}

// want is what one stream of TestRealTraffic must look like.
type want struct {
	method, path string
	reqHeader    http.Header // fields that must be present, with these values
	reqBody      []byte
	reqTrailer   http.Header
	status       int // 0: no response
	respHeader   http.Header
	respBody     []byte
	truncated    bool
	respTrailer  http.Header
	reset        bool
}

const concurrent = 4

func wants() []want {
	var ws []want
	for i := 1; i <= 3; i++ {
		p := fmt.Sprintf("/get/%d", i)
		ws = append(ws, want{method: "GET", path: p,
			reqHeader:  http.Header{"X-Repeat": {repeated}, "User-Agent": {"trackaudit-test"}},
			status:     200,
			respHeader: http.Header{"X-Served": {p}, "X-Repeat": {repeated}},
			respBody:   []byte("hello " + p)})
	}
	for i := range concurrent {
		p := fmt.Sprintf("/conc/%d", i)
		ws = append(ws, want{method: "GET", path: p, status: 200,
			respBody: []byte("first half of " + p + ";second half of " + p)})
	}
	return append(ws,
		want{method: "POST", path: "/post",
			reqHeader:  http.Header{"Content-Type": {"text/plain"}},
			reqBody:    postBody,
			reqTrailer: http.Header{"X-Req-Trailer": {"tv"}},
			status:     200,
			respBody:   []byte(`got 42000 bytes, trailer "tv"`)},
		want{method: "GET", path: "/big", status: 200, respBody: bigBody[:trafficMaxBody], truncated: true},
		want{method: "GET", path: "/trailers", status: 200,
			respBody: []byte("body before trailers"), respTrailer: http.Header{"X-Checksum": {"abc123"}}},
		want{method: "GET", path: "/bighdr",
			reqHeader: http.Header{"X-Big": {bigHeader}},
			status:    200, respHeader: http.Header{"X-Big-Echo": {bigHeader}}, respBody: []byte("ok")},
		want{method: "GET", path: "/nocontent", status: 204},
		want{method: "HEAD", path: "/head", status: 200, respHeader: http.Header{"Content-Length": {"1234"}}},
		want{method: "GET", path: "/cookie",
			reqHeader:  http.Header{"Cookie": {"a=1; b=2; c=3"}},
			status:     200,
			respHeader: http.Header{"Set-Cookie": {"s=1", "t=2"}},
			respBody:   []byte("cookie a=1; b=2; c=3")},
		want{method: "GET", path: "/abort-after-headers", status: 200,
			respHeader: http.Header{"X-Before-Abort": {"yes"}}, reset: true},
		want{method: "GET", path: "/abort", reset: true},
	)
}

// drive sends the requests of TestRealTraffic; the handlers check nothing,
// the parsed streams are compared with wants.
func drive(t testing.TB) func(*http.Client) {
	return func(c *http.Client) {
		do := func(method, path string, body io.Reader, h http.Header, trailer http.Header) {
			req, err := http.NewRequest(method, "http://example.test"+path, body)
			if err != nil {
				t.Error(err)
				return
			}
			for k, v := range h {
				req.Header[k] = v
			}
			req.Trailer = trailer
			resp, err := c.Do(req)
			if err != nil {
				if strings.HasPrefix(path, "/abort") {
					return
				}
				t.Errorf("%s %s: %v", method, path, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		ua := http.Header{"User-Agent": {"trackaudit-test"}, "X-Repeat": {repeated}}
		for i := 1; i <= 3; i++ {
			do("GET", fmt.Sprintf("/get/%d", i), nil, ua, nil)
		}
		var wg sync.WaitGroup
		for i := range concurrent {
			wg.Go(func() { do("GET", fmt.Sprintf("/conc/%d", i), nil, nil, nil) })
		}
		wg.Wait()
		// A reader the transport cannot size, so the body ends with trailers.
		do("POST", "/post", io.MultiReader(bytes.NewReader(postBody)), http.Header{"Content-Type": {"text/plain"}},
			http.Header{"X-Req-Trailer": {"tv"}})
		do("GET", "/big", nil, nil, nil)
		do("GET", "/trailers", nil, nil, nil)
		do("GET", "/bighdr", nil, http.Header{"X-Big": {bigHeader}}, nil)
		do("GET", "/nocontent", nil, nil, nil)
		do("HEAD", "/head", nil, nil, nil)
		do("GET", "/cookie", nil, http.Header{"Cookie": {"a=1; b=2; c=3"}}, nil)
		do("GET", "/abort-after-headers", nil, nil, nil)
		do("GET", "/abort", nil, nil, nil)
	}
}

func recordTraffic(t testing.TB) []chunk {
	var arrived sync.WaitGroup
	arrived.Add(concurrent)
	return record(t, trafficHandler(&arrived), drive(t))
}

func TestRealTraffic(t *testing.T) {
	chunks := recordTraffic(t)
	base := replays[0].run(chunks, trafficMaxBody)
	if base.err != nil {
		t.Fatalf("Err() = %v, want nil", base.err)
	}
	if len(base.open) != 0 {
		t.Errorf("Close() returned %d open streams, want 0", len(base.open))
	}
	byPath := map[string]*h2parse.Stream{}
	for _, s := range base.done {
		if byPath[s.Request.Path] != nil {
			t.Errorf("path %s in two streams", s.Request.Path)
		}
		byPath[s.Request.Path] = s
	}
	ws := wants()
	if len(base.done) != len(ws) {
		t.Errorf("got %d streams, want %d", len(base.done), len(ws))
	}
	for _, w := range ws {
		t.Run(strings.TrimPrefix(w.path, "/"), func(t *testing.T) {
			s := byPath[w.path]
			if s == nil {
				t.Fatalf("no stream for %s", w.path)
			}
			checkStream(t, s, w)
		})
	}

	t.Run("repeated fields come from the dynamic table", func(t *testing.T) {
		// The client's HEADERS of the second GET must be much smaller
		// than the first's, or the test does not exercise HPACK's
		// dynamic table.
		sizes := headerFrameSizes(t, chunks)
		first, second := sizes[byPath["/get/1"].ID], sizes[byPath["/get/2"].ID]
		if second*2 > first {
			t.Errorf("HEADERS of /get/2 is %d bytes, of /get/1 %d; want the second under half the first", second, first)
		}
	})
	t.Run("traffic has what the parser must handle", func(t *testing.T) {
		types := frameTypes(t, chunks)
		for _, k := range []string{"client CONTINUATION", "server CONTINUATION", "server RST_STREAM"} {
			if types[k] == 0 {
				t.Errorf("no %s in the recorded traffic; frames: %v", k, types)
			}
		}
		if n := cookieFields(t, chunks); n != 3 {
			t.Errorf("client sent %d cookie fields, want 3 (split by the transport)", n)
		}
	})

	for _, r := range replays[1:] {
		t.Run(r.name, func(t *testing.T) {
			got := r.run(chunks, trafficMaxBody)
			if !reflect.DeepEqual(got, base) {
				t.Errorf("result differs from feeding the chunks as recorded:\n got %s\nwant %s", summary(got), summary(base))
			}
		})
	}
}

func checkStream(t *testing.T, s *h2parse.Stream, w want) {
	t.Helper()
	req := s.Request
	if req.Method != w.method || req.Scheme != "http" || req.Authority != "example.test" || req.Path != w.path {
		t.Errorf("request = %s %s://%s%s, want %s http://example.test%s", req.Method, req.Scheme, req.Authority, req.Path, w.method, w.path)
	}
	checkHeader(t, "request header", req.Header, w.reqHeader)
	if !bytes.Equal(req.Body, w.reqBody) || req.Truncated {
		t.Errorf("request body = %d bytes (truncated %v), want %d bytes", len(req.Body), req.Truncated, len(w.reqBody))
	}
	if !reflect.DeepEqual(req.Trailer, w.reqTrailer) {
		t.Errorf("request trailer = %v, want %v", req.Trailer, w.reqTrailer)
	}
	if req.Start.IsZero() || req.End.Before(req.Start) {
		t.Errorf("request start %v, end %v", req.Start, req.End)
	}
	if s.Reset != w.reset || s.Pushed {
		t.Errorf("Reset = %v, Pushed = %v; want %v, false", s.Reset, s.Pushed, w.reset)
	}
	if w.status == 0 {
		if s.Response != nil {
			t.Errorf("response = %+v, want none", s.Response)
		}
		return
	}
	resp := s.Response
	if resp == nil {
		t.Fatalf("no response, want status %d", w.status)
	}
	if resp.Status != w.status {
		t.Errorf("status = %d, want %d", resp.Status, w.status)
	}
	checkHeader(t, "response header", resp.Header, w.respHeader)
	if !bytes.Equal(resp.Body, w.respBody) || resp.Truncated != w.truncated {
		t.Errorf("response body = %q (%d bytes, truncated %v), want %d bytes, truncated %v",
			abbrev(resp.Body), len(resp.Body), resp.Truncated, len(w.respBody), w.truncated)
	}
	if !reflect.DeepEqual(resp.Trailer, w.respTrailer) {
		t.Errorf("response trailer = %v, want %v", resp.Trailer, w.respTrailer)
	}
	if resp.Start.Before(req.Start) || !resp.End.IsZero() && resp.End.Before(resp.Start) {
		t.Errorf("request start %v, response start %v, end %v: out of order", req.Start, resp.Start, resp.End)
	}
	if w.reset != resp.End.IsZero() {
		t.Errorf("response end = %v with reset %v; want an end exactly when not reset", resp.End, w.reset)
	}
}

func checkHeader(t *testing.T, what string, got, want http.Header) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is nil", what)
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s %s = %q, want %q", what, k, abbrevAll(got[k]), abbrevAll(v))
		}
	}
}

func abbrev(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

func abbrevAll(v []string) []string {
	var out []string
	for _, s := range v {
		out = append(out, abbrev([]byte(s)))
	}
	return out
}

func summary(r result) string {
	var b strings.Builder
	for _, s := range r.done {
		fmt.Fprintf(&b, "[%d %s reset=%v", s.ID, s.Request.Path, s.Reset)
		if s.Response != nil {
			fmt.Fprintf(&b, " %d body=%d", s.Response.Status, len(s.Response.Body))
		}
		b.WriteString("] ")
	}
	fmt.Fprintf(&b, "open=%d err=%v", len(r.open), r.err)
	return b.String()
}

// frames reads one direction of a recording with http2.Framer, an
// independent parser, and calls fn for each frame.
func frames(t *testing.T, chunks []chunk, fromClient bool, meta bool, fn func(http2.Frame)) {
	t.Helper()
	cli, srv, _, _ := streams(chunks)
	b := srv
	if fromClient {
		b = bytes.TrimPrefix(cli, []byte(http2.ClientPreface))
	}
	fr := http2.NewFramer(nil, bytes.NewReader(b))
	fr.SetMaxReadFrameSize(1<<24 - 1)
	if meta {
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		fr.MaxHeaderListSize = 1 << 20
	}
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return
		}
		if err != nil {
			t.Fatalf("http2.Framer: %v", err)
		}
		fn(f)
	}
}

// frameTypes counts the frames of a recording by direction and type.
func frameTypes(t *testing.T, chunks []chunk) map[string]int {
	n := map[string]int{}
	for _, fromClient := range []bool{true, false} {
		dir := map[bool]string{true: "client", false: "server"}[fromClient]
		frames(t, chunks, fromClient, false, func(f http2.Frame) { n[dir+" "+f.Header().Type.String()]++ })
	}
	return n
}

// headerFrameSizes returns the size of the client's HEADERS frame by stream.
func headerFrameSizes(t *testing.T, chunks []chunk) map[uint32]uint32 {
	sizes := map[uint32]uint32{}
	frames(t, chunks, true, false, func(f http2.Frame) {
		if f.Header().Type == http2.FrameHeaders {
			sizes[f.Header().StreamID] = f.Header().Length
		}
	})
	return sizes
}

// cookieFields counts the cookie fields of the client's request to /cookie.
func cookieFields(t *testing.T, chunks []chunk) int {
	n := 0
	frames(t, chunks, true, true, func(f http2.Frame) {
		mh, ok := f.(*http2.MetaHeadersFrame)
		if !ok || mh.PseudoValue("path") != "/cookie" {
			return
		}
		for _, hf := range mh.Fields {
			if hf.Name == "cookie" {
				n++
			}
		}
	})
	return n
}
