package rules

import (
	"strings"
	"testing"
)

func TestDefaultClickIDs(t *testing.T) {
	tab := DefaultClickIDs()
	params := []struct{ name, company, kind string }{
		{"fbclid", "Meta", ClickIDClick},
		{"gclid", "Google", ClickIDClick},
		{"wbraid", "Google", ClickIDClick},
		{"ttclid", "TikTok", ClickIDClick},
		{"msclkid", "Microsoft", ClickIDClick},
		{"li_fat_id", "LinkedIn", ClickIDClick},
		{"twclid", "X", ClickIDClick},
		{"ScCid", "Snap", ClickIDClick},
		{"epik", "Pinterest", ClickIDClick},
		{"rdt_cid", "Reddit", ClickIDClick},
		{"yclid", "Yandex", ClickIDClick},
		{"fbp", "Meta", ClickIDMatch},
	}
	for _, tt := range params {
		c, ok := tab.Param(tt.name)
		if !ok || c.Company != tt.company || c.Kind != tt.kind {
			t.Errorf("Param(%q) = %+v, %v; want %s %s", tt.name, c, ok, tt.company, tt.kind)
		}
	}
	cookies := []struct{ name, company, kind string }{
		{"_fbc", "Meta", ClickIDClick},
		{"_fbp", "Meta", ClickIDMatch},
		{"_gcl_au", "Google", ClickIDMatch},
		{"_gac_UA-123-1", "Google", ClickIDClick},
		{"_ttp", "TikTok", ClickIDMatch},
		{"_uetvid", "Microsoft", ClickIDMatch},
		{"_epik", "Pinterest", ClickIDClick},
		{"_rdt_uuid", "Reddit", ClickIDMatch},
	}
	for _, tt := range cookies {
		c, ok := tab.Cookie(tt.name)
		if !ok || c.Company != tt.company || c.Kind != tt.kind {
			t.Errorf("Cookie(%q) = %+v, %v; want %s %s", tt.name, c, ok, tt.company, tt.kind)
		}
	}
	for _, name := range []string{"q", "id", "_ga", "FBCLID"} {
		if c, ok := tab.Param(name); ok {
			t.Errorf("Param(%q) = %+v, want none", name, c)
		}
	}
	if _, ok := tab.Cookie("fbclid"); ok {
		t.Errorf("Cookie(fbclid) found an entry; fbclid is a parameter only")
	}
}

func TestParseClickIDsErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"fields", "a | param | M | click\n", "c.txt:1: want 5 fields"},
		{"where", "a | header | M | click | s\n", "c.txt:1: a: where \"header\""},
		{"kind", "a | param | M | view | s\n", "c.txt:1: a: kind \"view\""},
		{"param prefix", "a* | param | M | click | s\n", "c.txt:1: a*: only cookie names"},
		{"duplicate", "a | param | M | click | s\n\na | param | M | match | s\n", "c.txt:3: param a listed twice"},
	}
	for _, tt := range tests {
		_, err := ParseClickIDs("c.txt", []byte(tt.data))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: ParseClickIDs error = %v, want prefix %q", tt.name, err, tt.want)
		}
	}
	// The same name as a param and as a cookie is fine.
	if _, err := ParseClickIDs("c.txt", []byte("a | param | M | click | s\na | cookie | M | click | s\n")); err != nil {
		t.Errorf("param and cookie of one name: %v", err)
	}
}
