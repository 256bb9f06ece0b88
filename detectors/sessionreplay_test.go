package detectors

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/trackaudit/trackaudit/traffic"
)

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func TestSessionReplay(t *testing.T) {
	clarity := `{"e":["0.8.56",3,0,1200,"abcd1234","1x2y3z","s9",1,0,0,0,"https://clinic.example/intake"],"a":[[100,9,1,2],[120,12,5,5]],"p":[[10,6,1,"html"],[200,27,4,"***"]]}`
	tests := []struct {
		name        string
		r           decoderRequest
		wantCompany string
		wantKinds   string // the "recorded data" evidence value; "" = no finding
		wantPage    string
	}{
		{"clarity json", req("POST", "https://e.clarity.ms/collect", "application/json", clarity), "Microsoft", "DOM snapshots, clicks, keystrokes/form input, mouse moves", "https://clinic.example/intake"},
		{"clarity gzip", req("POST", "https://p.clarity.ms/collect", "text/plain", gz(clarity)), "Microsoft", "DOM snapshots, clicks, keystrokes/form input, mouse moves", "https://clinic.example/intake"},
		{"clarity unreadable falls back to defaults", req("POST", "https://e.clarity.ms/collect", "", "\x00\x01"), "Microsoft", "DOM snapshots, mouse moves, clicks, scrolls, keystrokes/form input", ""},
		{"hotjar sniffed", req("POST", "https://in.hotjar.com/api/v2/client/sites/123/recordings/content", "application/json", `{"data":[{"type":"mousemove","x":1},{"type":"click"}]}`), "Hotjar", "clicks, mouse moves", ""},
		{"fullstory bundle", req("POST", "https://rs.fullstory.com/rec/bundle/v2?OrgId=o-1", "application/octet-stream", "\x89binary"), "FullStory", "DOM snapshots, clicks, keystrokes/form input", ""},
		{"webvisor", req("POST", "https://mc.yandex.ru/webvisor/12345678", "", `wv-data=keypress,scroll`), "Yandex", "keystrokes/form input, scrolls", ""},
		{"clicktale", req("POST", "https://ing-district.clicktale.net/ctn_v2/wr/?r=1", "text/plain", `<!DOCTYPE html><html>`), "Contentsquare", "DOM snapshots", ""},
		{"hotjar loader is not an upload", req("GET", "https://static.hotjar.com/c/hotjar-123.js?sv=6", "", ""), "", "", ""},
		{"clarity tag loader", req("GET", "https://www.clarity.ms/tag/abcd1234", "", ""), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewSessionReplay().Detect(tt.r.exchange(t))
			if tt.wantKinds == "" {
				if len(fs) != 0 {
					t.Fatalf("got %d findings, want none", len(fs))
				}
				return
			}
			if len(fs) != 1 || fs[0].Kind != traffic.KindSessionReplay {
				t.Fatalf("got %+v, want one session-replay finding", fs)
			}
			f := fs[0]
			if f.Company != tt.wantCompany {
				t.Errorf("company = %q, want %q", f.Company, tt.wantCompany)
			}
			var kinds string
			for _, e := range f.Evidence {
				if strings.HasPrefix(e.Label, "recorded data") {
					kinds = e.Value
				}
			}
			if kinds != tt.wantKinds {
				t.Errorf("recorded data = %q, want %q", kinds, tt.wantKinds)
			}
			if !strings.HasPrefix(f.Summary, "records what you do on the page (") {
				t.Errorf("summary = %q", f.Summary)
			}
			if tt.wantPage != "" {
				if e, ok := evidence(f, "page URL"); !ok || e.Value != tt.wantPage {
					t.Errorf("page URL = %q, want %q", e.Value, tt.wantPage)
				}
			}
		})
	}
}
