package proxy

import (
	"container/list"
	"crypto/tls"
	"sync"
)

// DefaultCertCacheSize bounds the leaf certificates kept in memory.
const DefaultCertCacheSize = 1024

// certCache is a bounded LRU of leaf certificates by host name with
// per-host single flight: concurrent requests for one host sign once, and
// signing for one host never blocks lookups of another. It implements
// goproxy.CertStorage.
type certCache struct {
	mu    sync.Mutex
	max   int
	order *list.List               // of *certEntry, most recent first
	byKey map[string]*list.Element // host → element in order
}

type certEntry struct {
	host string
	done chan struct{} // closed when cert/err are set
	cert *tls.Certificate
	err  error
}

func newCertCache(max int) *certCache {
	if max <= 0 {
		max = DefaultCertCacheSize
	}
	return &certCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// Fetch returns the cached certificate for hostname or makes one with gen.
// A failed gen is not cached.
func (c *certCache) Fetch(hostname string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	c.mu.Lock()
	if el, ok := c.byKey[hostname]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*certEntry)
		c.mu.Unlock()
		<-e.done
		return e.cert, e.err
	}
	e := &certEntry{host: hostname, done: make(chan struct{})}
	c.byKey[hostname] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*certEntry).host)
	}
	c.mu.Unlock()

	func() {
		defer func() {
			if r := recover(); r != nil {
				e.err = panicError(r)
			}
		}()
		e.cert, e.err = gen()
	}()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if el, ok := c.byKey[hostname]; ok && el.Value.(*certEntry) == e {
			c.order.Remove(el)
			delete(c.byKey, hostname)
		}
		c.mu.Unlock()
	}
	return e.cert, e.err
}

// Len returns the number of cached hosts.
func (c *certCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
