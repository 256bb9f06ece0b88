package h3parse

import (
	"fmt"
	"strings"
	"testing"
)

// benchConn is a connection of n requests whose fields use the dynamic
// table as browsers do: shared fields inserted once and referenced, a
// per-request path literal, a response with a 1 KiB body.
func benchConn(n int) []chunk {
	cli := &qenc{maxEntries: 4096 / 32}
	cli.setCapacity(4096)
	auth := cli.insertStaticName(0, "www.example.com")
	ua := cli.insert("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36")
	ck := cli.insert("cookie", "_ga=GA1.1.123456789.1700000000; _gid=GA1.1.987654321.1700000000")
	srv := &qenc{maxEntries: 4096 / 32}
	srv.setCapacity(4096)
	ct := srv.insertStaticName(44, "application/json; charset=utf-8")
	chunks := append(preamble(),
		chunk{id: cliEncoder, fromClient: true, data: cli.take()},
		chunk{id: srvEncoder, data: srv.take()})
	body := strings.Repeat("{\"k\":1}", 150)
	for i := range n {
		id := uint64(4 * i)
		req := cli.section(3, 3, indexedStatic(17), indexedStatic(23), indexedDyn(auth),
			literalStaticName(1, fmt.Sprintf("/collect?v=2&tid=G-XYZ&_p=%d&en=page_view", i)), indexedDyn(ua), indexedDyn(ck))
		resp := srv.section(1, 1, indexedStatic(25), indexedDyn(ct), literalStaticName(4, "1050"))
		chunks = append(chunks,
			chunk{id: id, fromClient: true, data: headersFrame(req), fin: true},
			chunk{id: id, data: cat(headersFrame(resp), dataFrame(body)), fin: true})
	}
	return chunks
}

func BenchmarkConn(b *testing.B) {
	chunks := benchConn(500)
	size := 0
	for _, ch := range chunks {
		size += len(ch.data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if r := run(1<<10, chunks, 0); len(r.done) != 500 || r.err != nil {
			b.Fatalf("got %s", summary(r))
		}
	}
}
