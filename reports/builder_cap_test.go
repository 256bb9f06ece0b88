package reports

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

// TestBuilderLeakValuesBounded checks that a leak whose value changes with
// every request keeps at most maxLeakValues rows plus one otherValues
// row, with every request counted.
func TestBuilderLeakValuesBounded(t *testing.T) {
	tests := []struct {
		name      string
		requests  int
		distinct  int // distinct values sent, cycling
		wantRows  int
		wantOther int // count of the otherValues row; 0 when none
	}{
		{"one value", 50, 1, 1, 0},
		{"at the cap", 3 * maxLeakValues, maxLeakValues, maxLeakValues, 0},
		{"one over", maxLeakValues + 1, maxLeakValues + 1, maxLeakValues + 1, 1},
		{"every request new", 1000, 1000, maxLeakValues + 1, 1000 - maxLeakValues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(Options{ShowSecrets: true})
			for i := 0; i < tt.requests; i++ {
				b.Add(leakExchange(fmt.Sprintf("fb.1.1700000000000.%d", i%tt.distinct)))
			}
			r := b.Report()
			if len(r.Sites) != 1 {
				t.Fatalf("sites = %d, want 1", len(r.Sites))
			}
			leaks := r.Sites[0].Leaks
			total, other := 0, 0
			for _, l := range leaks {
				total += l.Count
				if l.Value == otherValues {
					other += l.Count
				}
			}
			if len(leaks) != tt.wantRows || other != tt.wantOther || total != tt.requests {
				t.Errorf("rows = %d, other-values count = %d, counted = %d; want %d, %d, %d",
					len(leaks), other, total, tt.wantRows, tt.wantOther, tt.requests)
			}
		})
	}
}

// leakExchange is a Meta request from an unattributed page carrying one
// browser-id cookie value.
func leakExchange(fbp string) *traffic.Exchange {
	return &traffic.Exchange{
		Request: traffic.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: "www.facebook.com", Path: "/tr/"}},
		Findings: []traffic.Finding{{
			Kind: traffic.KindCookieLeak, Severity: traffic.SeverityMedium, Company: "Meta", Product: "Pixel",
			Evidence: []traffic.Evidence{{Where: "cookie:_fbp", Label: "browser", Value: fbp, Secret: true}},
		}},
	}
}
