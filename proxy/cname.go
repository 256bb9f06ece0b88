package proxy

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"
)

// maxCNAMEHosts bounds the hosts whose DNS alias is remembered; past it
// the cache starts over.
const maxCNAMEHosts = 4096

// cnameLookupTimeout bounds one lookup.
const cnameLookupTimeout = 5 * time.Second

// cnames looks up, once per host, the name a host is a DNS alias of
// (Config.LookupCNAME), in the background: start begins a lookup as a
// request starts, known gives its answer, without waiting, when the
// exchange is recorded.
type cnames struct {
	lookup func(ctx context.Context, host string) (string, error)
	mu     sync.Mutex
	hosts  map[string]*cnameEntry
}

type cnameEntry struct {
	done chan struct{} // closed when name is set
	name string        // the alias's target; "" when host is no alias
}

// start begins looking host up unless it was already.
func (c *cnames) start(host string) {
	if net.ParseIP(host) != nil {
		return
	}
	c.mu.Lock()
	if _, ok := c.hosts[host]; ok {
		c.mu.Unlock()
		return
	}
	if len(c.hosts) >= maxCNAMEHosts {
		clear(c.hosts)
	}
	e := &cnameEntry{done: make(chan struct{})}
	c.hosts[host] = e
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), cnameLookupTimeout)
		defer cancel()
		if name, err := c.lookup(ctx, host); err == nil {
			if name = strings.ToLower(strings.TrimSuffix(name, ".")); name != host {
				e.name = name
			}
		}
		close(e.done)
	}()
}

// known returns host's alias target when its lookup has answered; "" when
// it is no alias, was not looked up, or has not answered yet.
func (c *cnames) known(host string) string {
	c.mu.Lock()
	e := c.hosts[host]
	c.mu.Unlock()
	if e == nil {
		return ""
	}
	select {
	case <-e.done:
		return e.name
	default:
		return ""
	}
}
