package h3parse

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// preamble opens the critical streams of both endpoints (RFC 9114 §6.2):
// control streams with SETTINGS allowing a 4096-byte dynamic table and 100
// blocked streams (plus a reserved setting, §7.2.4.1), and the QPACK
// encoder and decoder streams (RFC 9204 §4.2).
func preamble() []chunk {
	return []chunk{
		{id: cliControl, fromClient: true, data: cat([]byte{uniControl}, settingsFrame(0x01, 4096, 0x07, 100, 0x21, 7))},
		{id: srvControl, data: cat([]byte{uniControl}, settingsFrame(0x07, 100, 0x01, 4096))},
		{id: cliEncoder, fromClient: true, data: []byte{uniEncoder}},
		{id: cliDecoder, fromClient: true, data: []byte{uniDecoder}},
		{id: srvEncoder, data: []byte{uniEncoder}},
		{id: srvDecoder, data: []byte{uniDecoder}},
	}
}

// dynamicConn is a connection whose field sections use the dynamic table
// in every way (RFC 9204 §4.5.2-§4.5.6): a GET with split cookies, and a
// POST with a body and trailers answered by an interim 103 and a final
// response with trailers.
func dynamicConn(t testing.TB) []chunk {
	cli := &qenc{maxEntries: 4096 / 32}
	cli.setCapacity(4096)
	auth := cli.insertStaticName(0, "a.test")
	ua := cli.insert("user-agent", "test/1")
	ck := cli.insert("cookie", "id=42")
	get := cli.section(3, 3,
		indexedStatic(17), indexedStatic(23), indexedDyn(auth), literalStaticName(1, "/page"),
		indexedDyn(ua), indexedDyn(ck), literalStaticName(5, "theme=dark"))
	cliIns1 := cli.take()
	post := cli.insert("x-post", "1")
	post2 := cli.duplicate(auth)
	postReq := cli.section(5, 3,
		indexedStatic(20), indexedStatic(23), indexedDyn(post2), literalStaticName(1, "/submit"),
		indexedDyn(post), literalDynName(ua, "test/2"), literalDynName(post, "2"), literal("x-raw", "v"))
	cliIns2 := cli.take()

	srv := &qenc{maxEntries: 4096 / 32}
	srv.setCapacity(4096)
	sc := srv.insert("set-cookie", "sid=1; Path=/")
	resp0 := srv.section(1, 1, indexedStatic(25), indexedDyn(sc), indexedStatic(53))
	srvIns := srv.take()
	resp4 := srv.section(1, 0, literalStaticName(24, "200"), indexedDyn(sc), literalDynName(sc, "b=2"))

	return append(preamble(),
		chunk{id: cliEncoder, fromClient: true, data: cliIns1},
		chunk{id: 0, fromClient: true, data: headersFrame(get), fin: true},
		chunk{id: srvEncoder, data: srvIns},
		chunk{id: 0, data: cat(headersFrame(resp0), dataFrame("<html>")), fin: true},
		chunk{id: cliEncoder, fromClient: true, data: cliIns2},
		chunk{id: 4, fromClient: true, data: cat(headersFrame(postReq), dataFrame("hello"))},
		chunk{id: 4, fromClient: true, data: cat(dataFrame(" world"), headersFrame(staticBlock(t, "x-checksum", "abc"))), fin: true},
		chunk{id: 4, data: headersFrame(staticBlock(t, ":status", "103", "link", "</a.css>"))},
		chunk{id: 4, data: cat(headersFrame(resp4), dataFrame("ok"), headersFrame(staticBlock(t, "x-t", "done"))), fin: true},
	)
}

func at(i int) time.Time { return time.Unix(int64(i), 0) }

// wantDynamic is what dynamicConn must give.
func wantDynamic() []*Stream {
	return []*Stream{{
		ID: 0,
		Request: Message{
			Method: "GET", Scheme: "https", Authority: "a.test", Path: "/page",
			Header: http.Header{"User-Agent": {"test/1"}, "Cookie": {"id=42; theme=dark"}},
			Start:  at(7), End: at(7),
		},
		Response: &Message{
			Status: 200,
			Header: http.Header{"Set-Cookie": {"sid=1; Path=/"}, "Content-Type": {"text/plain"}},
			Body:   []byte("<html>"), Start: at(9), End: at(9),
		},
	}, {
		ID: 4,
		Request: Message{
			Method: "POST", Scheme: "https", Authority: "a.test", Path: "/submit",
			Header:  http.Header{"X-Post": {"1", "2"}, "User-Agent": {"test/2"}, "X-Raw": {"v"}},
			Trailer: http.Header{"X-Checksum": {"abc"}},
			Body:    []byte("hello world"), Start: at(11), End: at(12),
		},
		Response: &Message{
			Status:  200,
			Header:  http.Header{"Set-Cookie": {"sid=1; Path=/", "b=2"}},
			Trailer: http.Header{"X-T": {"done"}},
			Body:    []byte("ok"), Start: at(14), End: at(14),
		},
	}}
}

func TestDynamicTable(t *testing.T) {
	got := run(100, dynamicConn(t), 0)
	if got.err != nil || len(got.open) != 0 {
		t.Fatalf("got %s", summary(got))
	}
	want := wantDynamic()
	if !reflect.DeepEqual(got.done, want) {
		for i := range min(len(got.done), len(want)) {
			t.Errorf("stream %d:\n got %+v %+v\nwant %+v %+v", i, got.done[i].Request, got.done[i].Response, want[i].Request, want[i].Response)
		}
		t.Fatalf("got %s", summary(got))
	}
	st := got.stats
	if !st.Client.Seen || st.Client.MaxTableCapacity != 4096 || st.Server.BlockedStreams != 100 || st.BrokenStreams != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSplits feeds the dynamic connection cut at every position of every
// chunk, and one byte at a time: the result must not change.
func TestSplits(t *testing.T) {
	chunks := dynamicConn(t)
	want := run(100, chunks, 0)
	sameResult(t, "1-byte pieces", run(100, chunks, 1), want)
	for i, ch := range chunks {
		for cut := 1; cut < len(ch.data); cut++ {
			split := slices.Clone(chunks)
			a, b := ch, ch
			a.data, a.fin = ch.data[:cut], false
			b.data = ch.data[cut:]
			split = slices.Replace(split, i, i+1, a, b)
			got := run(100, split, 0)
			// Times shift by one after the cut: compare the shape only.
			if summary(got) != summary(want) || !sameFields(got, want) {
				t.Fatalf("chunk %d cut at %d: got %s, want %s", i, cut, summary(got), summary(want))
			}
		}
	}
}

// sameFields compares the decoded fields and bodies, not the times.
func sameFields(a, b result) bool {
	if len(a.done) != len(b.done) {
		return false
	}
	for i := range a.done {
		x, y := *a.done[i], *b.done[i]
		x.Request.Start, x.Request.End, y.Request.Start, y.Request.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if (x.Response == nil) != (y.Response == nil) {
			return false
		}
		if x.Response != nil {
			rx, ry := *x.Response, *y.Response
			rx.Start, rx.End, ry.Start, ry.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			x.Response, y.Response = &rx, &ry
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// move returns chunks with chunk i moved to position j.
func move(chunks []chunk, i, j int) []chunk {
	c := slices.Clone(chunks)
	ch := c[i]
	c = slices.Delete(c, i, i+1)
	return slices.Insert(c, j, ch)
}

// TestEncoderStreamLate delivers the client's encoder stream after the
// request and even after the response (RFC 9204 §2.1.2): the section
// waits, and the encoder stream's bytes complete the stream.
func TestEncoderStreamLate(t *testing.T) {
	chunks := dynamicConn(t)
	const encIdx, reqIdx, respIdx = 6, 7, 9
	if chunks[encIdx].id != cliEncoder || chunks[reqIdx].id != 0 || chunks[respIdx].id != 0 {
		t.Fatal("dynamicConn changed: fix the indexes")
	}
	for _, to := range []int{reqIdx, respIdx} {
		late := move(chunks, encIdx, to)
		got := run(100, late, 0)
		if got.err != nil || len(got.open) != 0 || !sameFields(got, run(100, chunks, 0)) {
			t.Errorf("encoder stream moved to %d: %s", to, summary(got))
		}
	}
	// With the first insertions after the response, stream 0 completes
	// when they arrive.
	c := NewConn(100)
	late := move(chunks, encIdx, respIdx)
	for i, ch := range late {
		done := c.StreamData(ch.id, ch.fromClient, ch.data, ch.fin, at(i))
		switch {
		case i == respIdx && (len(done) != 1 || done[0].ID != 0 || done[0].Request.Path != "/page"):
			t.Errorf("the late encoder chunk returned %v, want stream 0 with its request", done)
		case i != respIdx && i != len(late)-1 && len(done) > 0:
			t.Errorf("chunk %d returned %d streams", i, len(done))
		}
	}
}

// TestSettingsLate delivers the server's SETTINGS, which size the client's
// dynamic table, after the client's encoder stream and request.
func TestSettingsLate(t *testing.T) {
	chunks := dynamicConn(t)
	late := move(chunks, 1, 7) // server control stream after request 0
	got := run(100, late, 0)
	if got.err != nil || len(got.done) != 2 || !sameFields(got, run(100, chunks, 0)) {
		t.Errorf("got %s", summary(got))
	}
	// Without the server's SETTINGS at all, the client's sections wait
	// until Close and come back incomplete.
	never := slices.Delete(slices.Clone(chunks), 1, 2)
	got = run(100, never, 0)
	if got.err != nil || len(got.done) != 0 || len(got.open) != 2 {
		t.Fatalf("got %s, want 2 streams open at Close", summary(got))
	}
	s := got.open[0]
	if s.Request.Path != "" || s.Request.Header == nil || s.Request.Start != at(6) || s.Response == nil || s.Response.Status != 200 || s.Response.End != at(8) || !s.Request.End.IsZero() {
		t.Errorf("stream 0 at Close: request %+v response %+v", s.Request, s.Response)
	}
}

// TestGrease mixes in what the peers must ignore: reserved stream types,
// reserved and unknown frame types on every stream, HTTP/2 frame types,
// push streams, PUSH_PROMISE, CANCEL_PUSH, MAX_PUSH_ID and GOAWAY.
func TestGrease(t *testing.T) {
	const grease = 0x1f*7 + 0x21
	get := staticBlock(t, ":method", "GET", ":scheme", "https", ":authority", "a.test", ":path", "/g")
	resp := staticBlock(t, ":status", "204")
	chunks := append(preamble(),
		chunk{id: 14, fromClient: true, data: cat(vint(grease), []byte("anything at all"))},
		chunk{id: 15, data: cat(vint(0x54), []byte{0x00, 0x01})},
		chunk{id: 19, data: cat(vint(uniPush), vint(0), headersFrame(resp))},
		chunk{id: cliControl, fromClient: true, data: cat(frame(grease, []byte("x")), frame(frameMaxPushID, vint(8)), frame(0x02, nil))},
		chunk{id: 0, fromClient: true, data: cat(frame(grease, nil), headersFrame(get), frame(0x06, []byte("ping1234")), frame(0x12345, make([]byte, 300))), fin: true},
		chunk{id: 0, data: cat(frame(framePushPromise, cat(vint(0), staticBlock(t, ":method", "GET", ":path", "/p"))), frame(grease, []byte("y")), headersFrame(resp)), fin: true},
		chunk{id: srvControl, data: cat(frame(frameCancelPush, vint(0)), frame(frameGoAway, vint(4)))},
	)
	got := run(10, chunks, 0)
	if got.err != nil || len(got.done) != 1 || len(got.open) != 0 {
		t.Fatalf("got %s", summary(got))
	}
	s := got.done[0]
	if s.Request.Path != "/g" || s.Response == nil || s.Response.Status != 204 || s.Response.End != at(11) {
		t.Errorf("stream %+v %+v", s.Request, s.Response)
	}
	st := got.stats
	if st.PushStreams != 1 || st.PushPromises != 1 || st.IgnoredStreams != 2 || !st.GoAway || st.GoAwayID != 4 {
		t.Errorf("stats %+v", st)
	}
	sameResult(t, "1-byte pieces", run(10, chunks, 1), got)
}

// TestPipeline runs many requests on separate streams, their frames
// interleaved, with bodies over the cap.
func TestPipeline(t *testing.T) {
	const n = 300
	chunks := preamble()
	for i := range n {
		id := uint64(4 * i)
		path := "/r" + strings.Repeat("x", i%7)
		chunks = append(chunks, chunk{id: id, fromClient: true, data: headersFrame(staticBlock(t, ":method", "GET", ":path", path, "cookie", "a=1", "cookie", "b=2"))})
		if i > 0 {
			prev := uint64(4 * (i - 1))
			chunks = append(chunks, chunk{id: prev, fromClient: true, fin: true},
				chunk{id: prev, data: cat(headersFrame(staticBlock(t, ":status", "200")), dataFrame(strings.Repeat("b", 100))), fin: true})
		}
	}
	got := run(64, chunks, 0)
	if got.err != nil || len(got.done) != n-1 || len(got.open) != 1 {
		t.Fatalf("got %d done, %d open, err %v", len(got.done), len(got.open), got.err)
	}
	for i, s := range got.done {
		if s.ID != uint64(4*i) || s.Request.Header.Get("Cookie") != "a=1; b=2" || s.Response.Status != 200 || len(s.Response.Body) != 64 || !s.Response.Truncated || s.Request.End.IsZero() {
			t.Fatalf("stream %d: %+v %+v", i, s.Request, s.Response)
		}
	}
	if s := got.open[0]; s.ID != 4*(n-1) || s.Response != nil || !s.Request.End.IsZero() {
		t.Errorf("open stream %+v", s)
	}
}

// TestReset ends streams with RESET_STREAM from either side.
func TestReset(t *testing.T) {
	get := headersFrame(staticBlock(t, ":method", "GET", ":path", "/r"))
	chunks := append(preamble(),
		chunk{id: 0, fromClient: true, data: get, fin: true},
		chunk{id: 4, fromClient: true, data: get},
		chunk{id: 0, data: cat(headersFrame(staticBlock(t, ":status", "200")), dataFrame("part"))},
		chunk{id: 0, reset: true},
		chunk{id: 4, fromClient: true, reset: true},
		chunk{id: 0, data: dataFrame("late"), fin: true}, // after the reset: ignored
	)
	got := run(10, chunks, 0)
	if got.err != nil || len(got.done) != 2 || len(got.open) != 0 {
		t.Fatalf("got %s", summary(got))
	}
	a, b := got.done[0], got.done[1]
	if a.ID != 0 || !a.Reset || a.Response == nil || string(a.Response.Body) != "part" || !a.Response.End.IsZero() {
		t.Errorf("stream 0: %+v %+v", a, a.Response)
	}
	if b.ID != 4 || !b.Reset || b.Response != nil || b.Request.Path != "/r" {
		t.Errorf("stream 4: %+v", b)
	}
}

// TestRFC9204Connection replays RFC 9204 Appendix B inside a connection:
// the server's SETTINGS allow 220 bytes, the client's encoder stream
// carries the RFC's instructions, and the RFC's sections are the requests
// of streams 0, 4 and 8.
func TestRFC9204Connection(t *testing.T) {
	var chunks []chunk
	chunks = append(chunks,
		chunk{id: srvControl, data: cat([]byte{uniControl}, settingsFrame(0x01, 220))},
		chunk{id: cliEncoder, fromClient: true, data: []byte{uniEncoder}},
		chunk{id: srvDecoder, data: []byte{uniDecoder}})
	for _, st := range readRFCExamples(t) {
		switch st.verb {
		case "encoder":
			chunks = append(chunks, chunk{id: cliEncoder, fromClient: true, data: unhex(t, st.args...)})
		case "decoder":
			chunks = append(chunks, chunk{id: srvDecoder, data: unhex(t, st.args...)})
		case "section":
			id := atoi(t, st.args[0])
			chunks = append(chunks,
				chunk{id: id, fromClient: true, data: headersFrame(unhex(t, st.args[1:]...)), fin: true},
				chunk{id: id, data: headersFrame(staticBlock(t, ":status", "200")), fin: true})
		}
	}
	// Section of stream 8 first, before the encoder stream's Duplicate:
	// it must wait for it.
	for _, pieces := range []int{0, 1} {
		got := run(0, chunks, pieces)
		if got.err != nil || len(got.done) != 3 {
			t.Fatalf("got %s", summary(got))
		}
		if r := got.done[2].Request; r.Authority != "www.example.com" || r.Path != "/" || r.Header.Get("Custom-Key") != "custom-value" {
			t.Errorf("stream 8 request %+v", r)
		}
	}
	i := slices.IndexFunc(chunks, func(c chunk) bool { return c.id == 8 })
	early := move(chunks, i, i-2) // before the Duplicate (and a decoder chunk)
	got := run(0, early, 0)
	if got.err != nil || len(got.done) != 3 || got.done[2].Request.Authority != "www.example.com" {
		t.Errorf("stream 8 before its insertion: %s", summary(got))
	}
}

// TestStaticOracle decodes field sections that quic-go/qpack's encoder
// produced (static table, literals, Huffman coding).
func TestStaticOracle(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 1000)
	tests := [][]string{
		{":method", "GET", ":scheme", "https", ":authority", "example.com", ":path", "/"},
		{":status", "200", "content-type", "text/html; charset=utf-8", "set-cookie", "a=1", "set-cookie", "b=2"},
		{"cookie", "a=1", "cookie", "b=2", "cookie", "c=3"},
		{":method", "POST", ":path", "/upload?x=" + long, "content-length", "16000"},
		{"x-bytes", "\x00\x01\xff\xfe caf\xc3\xa9 \u65e5\u672c", "x-empty", ""},
		{":authority", "", "age", "0", "x-frame-options", "sameorigin", "accept-language", "de-CH, en;q=0.5"},
		{"content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'", "purpose", "prefetch"},
		{"Mixed-Case", "V", "x-long-" + strings.Repeat("n", 300), long[:4000]},
	}
	var d decoder
	for i, kv := range tests {
		sec := section{data: staticBlock(t, kv...)}
		fields, size, err := d.decode(&sec)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var got []string
		want := 0
		for _, f := range fields {
			got = append(got, f.name, f.value)
		}
		for j := 0; j < len(kv); j += 2 {
			want += len(kv[j]) + len(kv[j+1]) + 32
		}
		if !slices.Equal(got, kv) || size != want {
			t.Errorf("case %d: decoded %q (size %d), want %q (size %d)", i, got, size, kv, want)
		}
	}
}

// TestStaticTable checks the transcription of RFC 9204 Appendix A against
// quic-go/qpack's: its encoder must pick index i for entry i.
func TestStaticTable(t *testing.T) {
	if len(staticTable) != 99 {
		t.Fatalf("%d static entries, want 99", len(staticTable))
	}
	seen := map[field]bool{}
	for i, f := range staticTable {
		if seen[f] {
			continue // quic-go/qpack maps a repeated pair to one index
		}
		seen[f] = true
		got := staticBlock(t, f.name, f.value)
		want := appendPrefixInt([]byte{0, 0}, 0xc0, 6, uint64(i))
		if !slices.Equal(got, want) {
			t.Errorf("entry %d %q: quic-go/qpack encodes %x, want %x", i, f, got, want)
		}
	}
}

// TestConnectionErrors: problems on a control or encoder stream stop the
// connection (Err), keeping the streams completed before.
func TestConnectionErrors(t *testing.T) {
	ctl := func(frames ...[]byte) chunk {
		return chunk{id: cliControl, fromClient: true, data: cat(append([][]byte{{uniControl}}, frames...)...)}
	}
	enc := func(b ...byte) chunk {
		return chunk{id: cliEncoder, fromClient: true, data: append([]byte{uniEncoder}, b...)}
	}
	srvSettings := chunk{id: srvControl, data: cat([]byte{uniControl}, settingsFrame(0x01, 256))}
	setCap := func(c uint64) []byte { return appendPrefixInt(nil, 0x20, 5, c) }
	tests := []struct {
		name   string
		chunks []chunk
		kind   error
	}{
		{"control starts with DATA", []chunk{ctl(dataFrame("x"))}, ErrProtocol},
		{"control starts with GOAWAY", []chunk{ctl(frame(frameGoAway, vint(0)))}, ErrProtocol},
		{"second SETTINGS", []chunk{ctl(settingsFrame(), settingsFrame())}, ErrProtocol},
		{"HEADERS on control", []chunk{ctl(settingsFrame(), headersFrame([]byte{0, 0}))}, ErrProtocol},
		{"SETTINGS cut in a setting", []chunk{ctl(frame(frameSettings, []byte{0x01}))}, ErrProtocol},
		{"SETTINGS bad varint", []chunk{ctl(frame(frameSettings, []byte{0x01, 0x40}))}, ErrProtocol},
		{"giant SETTINGS", []chunk{ctl(cat(vint(frameSettings), vint(1<<40)))}, ErrLimit},
		{"GOAWAY too long", []chunk{ctl(settingsFrame(), frame(frameGoAway, make([]byte, 9)))}, ErrProtocol},
		{"GOAWAY bad varint", []chunk{ctl(settingsFrame(), frame(frameGoAway, []byte{0x40}))}, ErrProtocol},
		{"second control stream", []chunk{ctl(settingsFrame()), {id: 14, fromClient: true, data: []byte{uniControl}}}, ErrProtocol},
		{"second encoder stream", []chunk{enc(), {id: 14, fromClient: true, data: []byte{uniEncoder}}}, ErrProtocol},
		{"second decoder stream", []chunk{{id: srvDecoder, data: []byte{uniDecoder}}, {id: 15, data: []byte{uniDecoder}}}, ErrProtocol},
		{"capacity above SETTINGS", []chunk{srvSettings, enc(setCap(257)...)}, ErrProtocol},
		{"capacity above 1 MiB", []chunk{enc(setCap(1<<20 + 1)...)}, ErrLimit},
		{"insert without capacity", []chunk{enc(0x41, 'a', 0x01, 'b')}, ErrProtocol},
		{"entry larger than capacity", []chunk{srvSettings, enc(cat(setCap(40), []byte{0x41, 'a', 0x08}, []byte("12345678"))...)}, ErrProtocol},
		{"duplicate of nothing", []chunk{srvSettings, enc(cat(setCap(100), []byte{0x00})...)}, ErrProtocol},
		{"dynamic name beyond the table", []chunk{srvSettings, enc(cat(setCap(100), []byte{0x85, 0x01, 'v'})...)}, ErrProtocol},
		{"static name beyond the table", []chunk{srvSettings, enc(cat(setCap(100), []byte{0xff, 0x24, 0x01, 'v'})...)}, ErrProtocol},
		{"huffman garbage", []chunk{srvSettings, enc(cat(setCap(100), []byte{0x61, 'a', 0x82, 0xff, 0xff})...)}, ErrProtocol},
		{"integer overflow", []chunk{enc(0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)}, ErrProtocol},
		{"string of 2^40 bytes", []chunk{enc(cat([]byte{0x5f}, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x20})...)}, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := chunk{id: 0, fromClient: true, data: headersFrame(staticBlock(t, ":path", "/ok")), fin: true}
			okResp := chunk{id: 0, data: headersFrame(staticBlock(t, ":status", "200")), fin: true}
			after := chunk{id: 4, fromClient: true, data: headersFrame(staticBlock(t, ":path", "/after")), fin: true}
			chunks := append([]chunk{ok, okResp}, tt.chunks...)
			chunks = append(chunks, after)
			for _, pieces := range []int{0, 1} {
				got := run(0, chunks, pieces)
				var e *Error
				if !errors.As(got.err, &e) || !errors.Is(got.err, tt.kind) {
					t.Fatalf("error %v, want %v", got.err, tt.kind)
				}
				if len(got.done) != 1 || got.done[0].Request.Path != "/ok" || len(got.open) != 0 {
					t.Errorf("got %s, want the stream before the error only", summary(got))
				}
				if !strings.HasPrefix(e.Error(), "h3parse: ") {
					t.Errorf("error text %q", e.Error())
				}
			}
		})
	}
}

// TestBrokenStreams: a malformed request stream ends only itself.
func TestBrokenStreams(t *testing.T) {
	e := &qenc{maxEntries: 4096 / 32}
	e.setCapacity(4096)
	e.insert("a", "b")
	tests := []struct {
		name string
		req  []byte
	}{
		{"DATA before HEADERS", cat(dataFrame("x"), headersFrame([]byte{0, 0}))},
		{"SETTINGS on a request stream", cat(headersFrame([]byte{0, 0}), settingsFrame())},
		{"PUSH_PROMISE from the client", frame(framePushPromise, []byte{0, 0, 0})},
		{"giant HEADERS", cat(vint(frameHeaders), vint(1<<50), []byte{0, 0})},
		{"HEADERS over the cap", cat(vint(frameHeaders), vint(maxHeadersFrame+1))},
		{"truncated prefix", headersFrame([]byte{0x01})},
		{"dynamic index beyond the table", headersFrame(e.section(1, 1, indexedDyn(5)))},
		{"post-base beyond the insert count", headersFrame(e.section(1, 1, indexedDyn(1)))},
		{"relative index beyond the base", headersFrame(cat([]byte{0x02, 0x00}, appendPrefixInt(nil, 0x80, 6, 3)))},
		{"negative base", headersFrame([]byte{0x02, 0x85, 0xc1})},
		{"base above the required insert count", headersFrame(e.section(1, 3, indexedDyn(1)))},
		{"post-base name beyond the insert count", headersFrame(e.section(1, 1, literalDynName(1, "v")))},
		{"relative name index beyond the base", headersFrame(cat([]byte{0x02, 0x00}, appendPrefixInt(nil, 0x40, 4, 1), []byte{0x00}))},
		{"required insert count beyond full range", headersFrame([]byte{0xff, 0x10, 0x00, 0xc1})},
		{"static index 99", headersFrame(cat([]byte{0, 0}, appendPrefixInt(nil, 0xc0, 6, 99)))},
		{"huffman garbage", headersFrame([]byte{0, 0, 0x5f, 0x1d, 0x82, 0xff, 0xff})},
		{"truncated field line", headersFrame([]byte{0, 0, 0x5f, 0x1d, 0x05, 'a'})},
		{"decoded fields over the cap", headersFrame(cat([]byte{0, 0}, appendRaw(appendRaw(nil, 0x20, 3, "x"), 0, 7, strings.Repeat("v", maxHeaderBytes))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := append(preamble(),
				chunk{id: cliEncoder, fromClient: true, data: slices.Clone(e.stream)},
				chunk{id: 0, fromClient: true, data: tt.req, fin: true},
				chunk{id: 4, fromClient: true, data: headersFrame(staticBlock(t, ":path", "/ok")), fin: true},
				chunk{id: 4, data: headersFrame(staticBlock(t, ":status", "200")), fin: true},
				chunk{id: 0, data: headersFrame(staticBlock(t, ":status", "200")), fin: true},
			)
			got := run(0, chunks, 0)
			if got.err != nil || len(got.done) != 2 || got.done[0].ID != 0 || got.done[1].Request.Path != "/ok" || got.stats.BrokenStreams != 1 {
				t.Fatalf("got %s, broken %d", summary(got), got.stats.BrokenStreams)
			}
			if s := got.done[0]; s.Response != nil || s.Reset || s.Request.Header == nil {
				t.Errorf("broken stream %+v", s)
			}
		})
	}
}

// TestTimes: Start is the time of the data holding the HEADERS frame's
// first byte, End that of the FIN; a FIN inside a frame leaves End zero.
func TestTimes(t *testing.T) {
	h := headersFrame(staticBlock(t, ":method", "GET", ":path", "/t"))
	r := headersFrame(staticBlock(t, ":status", "200"))
	chunks := []chunk{
		{id: 0, fromClient: true, data: h[:1]},
		{id: 0, fromClient: true, data: h[1:]},
		{id: 0, fromClient: true, fin: true},
		{id: 0, data: cat(dataFrame("x"), r)[:4]}, // DATA before HEADERS: broken
		{id: 4, fromClient: true, data: h, fin: true},
		{id: 4, data: cat(r, dataFrame("body"))[:len(r)+3], fin: true},
	}
	got := run(10, chunks, 0)
	if len(got.done) != 2 {
		t.Fatalf("got %s", summary(got))
	}
	a, b := got.done[0], got.done[1]
	if a.Request.Start != at(0) || a.Request.End != at(2) || a.Response != nil {
		t.Errorf("stream 0: %+v %+v", a.Request, a.Response)
	}
	if b.Request.Start != at(4) || b.Response == nil || b.Response.Start != at(5) || !b.Response.End.IsZero() || string(b.Response.Body) != "b" {
		t.Errorf("stream 4: %+v %+v", b.Request, b.Response)
	}
}

// TestIgnoredInput: response bytes of unknown streams, unidirectional
// bytes in the wrong direction, server-initiated bidirectional streams,
// input after Close.
func TestIgnoredInput(t *testing.T) {
	c := NewConn(10)
	r := headersFrame(staticBlock(t, ":status", "200"))
	for _, call := range []func() []*Stream{
		func() []*Stream { return c.StreamData(8, false, r, true, at(0)) },
		func() []*Stream { return c.StreamData(cliControl, false, []byte{0x00, 0x07}, false, at(0)) },
		func() []*Stream { return c.StreamData(srvControl, true, []byte{0x00, 0x07}, false, at(0)) },
		func() []*Stream { return c.StreamData(1, false, []byte{0xff}, false, at(0)) },
		func() []*Stream { return c.StreamReset(99, true, at(0)) },
	} {
		if got := call(); len(got) != 0 || c.Err() != nil {
			t.Errorf("returned %v, err %v", got, c.Err())
		}
	}
	c.StreamData(0, true, headersFrame(staticBlock(t, ":path", "/")), false, at(1))
	if open := c.Close(); len(open) != 1 || c.Close() != nil {
		t.Errorf("Close returned %v", open)
	}
	if got := c.StreamData(4, true, []byte{1, 0}, true, at(2)); got != nil {
		t.Errorf("after Close: %v", got)
	}
}
