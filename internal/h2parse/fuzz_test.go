package h2parse_test

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/trackaudit/trackaudit/internal/h2parse"
)

const fuzzMaxBody = 64

// FuzzConn feeds arbitrary bytes as the two directions (the client's after
// the preface), cut and interleaved as plan says. It checks that nothing
// panics, that bodies respect maxBody, that no stream is reported twice,
// and that cutting the same sequence into 1-byte pieces changes nothing.
func FuzzConn(f *testing.F) {
	// Seeds: a small real connection, fed whole and cut by a plan.
	chunks := record(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-T")
		w.Header().Set("Set-Cookie", "id=1")
		io.Copy(w, r.Body)
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
		w.Header().Set("X-T", "done")
	}), func(c *http.Client) {
		for i, m := range []string{"GET", "GET", "POST", "HEAD"} {
			req, err := http.NewRequest(m, fmt.Sprintf("http://a.test/%d", i), strings.NewReader(strings.Repeat("b", 100*i)))
			if err != nil {
				f.Fatal(err)
			}
			req.Header.Set("Cookie", "a=1; b=2")
			resp, err := c.Do(req)
			if err != nil {
				f.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	cli, srv, _, _ := streams(chunks)
	cli = cli[len(http2.ClientPreface):]
	f.Add(cli, srv, []byte{})
	f.Add(cli, srv, []byte{0x20, 0x41, 0x0a, 0x81, 0x03, 0xfe, 0x11})
	for _, conn := range []func(testing.TB) (*wire, *wire){paddedConn, pushConn} {
		c, s := conn(f)
		f.Add(c.Bytes()[len(http2.ClientPreface):], s.Bytes(), []byte{})
		f.Add(c.Bytes()[len(http2.ClientPreface):], s.Bytes(), []byte{0x02, 0x13, 0x80})
	}

	f.Fuzz(func(t *testing.T, cli, srv, plan []byte) {
		cli = append([]byte(http2.ClientPreface), cli...)
		got := feedPlan(cli, srv, plan, false)
		if bytewise := feedPlan(cli, srv, plan, true); !reflect.DeepEqual(got, bytewise) {
			t.Fatalf("1-byte pieces changed the result:\n got %s\nwant %s", summary(bytewise), summary(got))
		}
		seen := map[uint32]bool{}
		for _, s := range append(got.done, got.open...) {
			if seen[s.ID] {
				t.Errorf("stream %d reported twice", s.ID)
			}
			seen[s.ID] = true
			for _, m := range []*h2parse.Message{&s.Request, s.Response} {
				if m != nil && len(m.Body) > fuzzMaxBody {
					t.Errorf("stream %d: body of %d bytes, max %d", s.ID, len(m.Body), fuzzMaxBody)
				}
			}
		}
	})
}

// feedPlan feeds the two directions in pieces: each plan byte takes the
// client's (even) or the server's (odd) next bytes, 1 to 63 of them, or
// multiples of 256 from 64 up; when plan is used up, it starts again, and
// with no plan each direction goes whole, the client's first. Piece i has
// time i; bytewise feeds every piece one byte at a time.
func feedPlan(cli, srv, plan []byte, bytewise bool) result {
	f := newFeeder(fuzzMaxBody)
	for i := 0; len(cli)+len(srv) > 0; i++ {
		n, fromClient := len(cli)+len(srv), true // no plan: each direction whole
		if len(plan) > 0 {
			p := plan[i%len(plan)]
			n, fromClient = max(int(p>>1), 1), p&1 == 0
			if n >= 64 {
				n = (n - 63) * 256
			}
		}
		fromClient = fromClient && len(cli) > 0 || len(srv) == 0
		b := &srv
		if fromClient {
			b = &cli
		}
		n = min(n, len(*b))
		t := time.Unix(int64(i), 0)
		if bytewise {
			for j := range n {
				f.feed(fromClient, (*b)[j:j+1], t)
			}
		} else {
			f.feed(fromClient, (*b)[:n], t)
		}
		*b = (*b)[n:]
	}
	return f.close()
}
