package proxy

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestLookupCNAME checks that the proxy asks Config.LookupCNAME once per
// host, in the background, and records an alias's target on the exchanges
// of that host: smetrics.news.test is an alias of Adobe's servers,
// www.news.test none (its lookup answers with itself).
func TestLookupCNAME(t *testing.T) {
	o := newOrigins(t)
	for _, h := range []string{"smetrics.news.test", "www.news.test"} {
		o.serveTLS(t, h, o.ca, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	}
	var mu sync.Mutex
	lookups := map[string]int{}
	tp := startProxy(t, Config{Map: o.hosts, UpstreamRoots: o.roots,
		LookupCNAME: func(_ context.Context, host string) (string, error) {
			mu.Lock()
			lookups[host]++
			mu.Unlock()
			if host == "smetrics.news.test" {
				return "News.Test.SSL.sc.omtrdc.net.", nil
			}
			return host + ".", nil
		}})
	get := func(u string) {
		t.Helper()
		resp, err := tp.client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, h := range []string{"smetrics.news.test", "www.news.test"} {
		get("https://" + h + "/first")
		tp.cnames.mu.Lock()
		e := tp.cnames.hosts[h]
		tp.cnames.mu.Unlock()
		if e == nil {
			t.Fatalf("%s was not looked up", h)
		}
		select {
		case <-e.done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s's lookup did not end", h)
		}
		tp.next(t) // the first exchange, which may have ended before the answer
		for _, path := range []string{"/b/ss/x/1/JS-2.22.0/s1", "/again"} {
			get("https://" + h + path)
			ex := tp.next(t)
			want := ""
			if h == "smetrics.news.test" {
				want = "news.test.ssl.sc.omtrdc.net"
			}
			if ex.CNAME != want {
				t.Errorf("%s%s: CNAME %q, want %q", h, path, ex.CNAME, want)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if lookups["smetrics.news.test"] != 1 || lookups["www.news.test"] != 1 || len(lookups) != 2 {
		t.Errorf("lookups %v, want one per host", lookups)
	}
}

// TestLookupCNAMENotThroughUpstreamProxy checks that no name is looked up
// when an upstream proxy resolves names: the lookups would leave beside it.
func TestLookupCNAMENotThroughUpstreamProxy(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{CA: ca, UpstreamProxy: &url.URL{Scheme: "http", Host: "127.0.0.1:1"},
		LookupCNAME: func(context.Context, string) (string, error) { panic("looked up") }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.cnames != nil || p.aliasHost(&url.URL{Host: "smetrics.news.test"}) != "" {
		t.Error("the proxy would look names up beside its upstream proxy")
	}
}
