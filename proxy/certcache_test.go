package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCertCacheSingleFlight(t *testing.T) {
	c := newCertCache(8)
	var calls atomic.Int32
	gen := func() (*tls.Certificate, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return &tls.Certificate{}, nil
	}
	var wg sync.WaitGroup
	certs := make([]*tls.Certificate, 32)
	for i := range certs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			certs[i], _ = c.Fetch("one.example", gen)
		}()
	}
	wg.Wait()
	if got := calls.Load(); got != 1 {
		t.Errorf("gen called %d times for one host, want 1", got)
	}
	for i, cert := range certs {
		if cert != certs[0] {
			t.Fatalf("caller %d got a different certificate", i)
		}
	}
}

func TestCertCacheBoundedLRU(t *testing.T) {
	c := newCertCache(4)
	gen := func() (*tls.Certificate, error) { return &tls.Certificate{}, nil }
	first, _ := c.Fetch("h0", gen)
	for i := 1; i < 10; i++ {
		c.Fetch(fmt.Sprintf("h%d", i), gen)
		c.Fetch("h0", gen) // keep h0 recent
	}
	if got := c.Len(); got != 4 {
		t.Errorf("Len = %d, want 4", got)
	}
	again, _ := c.Fetch("h0", func() (*tls.Certificate, error) { t.Error("h0 was evicted although recently used"); return gen() })
	if again != first {
		t.Errorf("h0 certificate changed")
	}
}

func TestCertCacheErrorNotCached(t *testing.T) {
	c := newCertCache(4)
	_, err := c.Fetch("bad", func() (*tls.Certificate, error) { return nil, errors.New("boom") })
	if err == nil {
		t.Fatal("want error")
	}
	_, err = c.Fetch("bad", func() (*tls.Certificate, error) { panic("gen panicked") })
	if err == nil {
		t.Fatal("want error from a panicking gen")
	}
	cert, err := c.Fetch("bad", func() (*tls.Certificate, error) { return &tls.Certificate{}, nil })
	if err != nil || cert == nil {
		t.Errorf("after failures: %v %v, want a certificate", cert, err)
	}
}
