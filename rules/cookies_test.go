package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultCookies(t *testing.T) {
	tab := DefaultCookies()
	if tab.Len() < 100 {
		t.Fatalf("DefaultCookies has %d entries, want at least 100", tab.Len())
	}
	tests := []struct {
		name, company, identifies string
	}{
		{"c_user", "Meta", IdentifiesPerson},
		{"xs", "Meta", IdentifiesPerson},
		{"datr", "Meta", IdentifiesBrowser},
		{"_fbp", "Meta", IdentifiesBrowser},
		{"_fbc", "Meta", IdentifiesClick},
		{"_ga", "Google", IdentifiesBrowser},
		{"_ga_ABC123", "Google", IdentifiesSession}, // prefix
		{"_gac_UA-1-1", "Google", IdentifiesClick},
		{"__Secure-3PSID", "Google", IdentifiesPerson},
		{"__Secure-1PAPISID", "Google", IdentifiesPerson},
		{"__Secure-ENID", "Google", IdentifiesBrowser},
		{"IDE", "Google", IdentifiesBrowser},
		{"_ttp", "TikTok", IdentifiesBrowser},
		{"li_at", "LinkedIn", IdentifiesPerson},
		{"auth_token", "X", IdentifiesPerson},
		{"_hjSessionUser_123", "Hotjar", IdentifiesBrowser},
		{"_hjSession_123", "Hotjar", IdentifiesSession},
		{"AMCV_ABC%40AdobeOrg", "Adobe", IdentifiesBrowser},
		{"AMCVS_ABC%40AdobeOrg", "Adobe", IdentifiesConsent}, // longer prefix wins
	}
	for _, tt := range tests {
		c, ok := tab.Lookup(tt.name)
		if !ok {
			t.Errorf("Lookup(%q) found nothing, want %s/%s", tt.name, tt.company, tt.identifies)
			continue
		}
		if c.Company != tt.company || c.Identifies != tt.identifies {
			t.Errorf("Lookup(%q) = %s/%s, want %s/%s", tt.name, c.Company, c.Identifies, tt.company, tt.identifies)
		}
		if c.Source == "" {
			t.Errorf("Lookup(%q) has no source", tt.name)
		}
	}
	for _, name := range []string{"PHPSESSID", "C_USER", "_ga_", "session"} {
		if got := tab.Identifies(name); got != IdentifiesUnknown {
			t.Errorf("Identifies(%q) = %q, want unknown", name, got)
		}
	}
	var nilTab *CookieTable
	if _, ok := nilTab.Lookup("c_user"); ok || nilTab.Len() != 0 {
		t.Errorf("nil table found something")
	}
}

func TestParseCookiesErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"fields", "a | Meta | person\n", "x.txt:1: want 4 fields"},
		{"empty field", "a | | person | src\n", "x.txt:1: field 2 is empty"},
		{"identifies", "# c\n\na | Meta | human | src\n", "x.txt:3: cookie a: identifies \"human\""},
		{"duplicate", "a | M | person | s\na | M | browser | s\n", "x.txt:2: cookie a listed twice (first on line 1)"},
		{"star inside", "a*b | M | person | s\n", "x.txt:1: bad cookie name"},
		{"only star", "* | M | person | s\n", "x.txt:1: bad cookie name"},
		{"space", "a b | M | person | s\n", "x.txt:1: bad cookie name"},
	}
	for _, tt := range tests {
		_, err := ParseCookies("x.txt", []byte(tt.data))
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: ParseCookies error = %v, want prefix %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParseCookies(f *testing.F) {
	f.Add([]byte("c_user | Meta | person | src\n_ga_* | Google | session | s\n"))
	f.Add([]byte("a|b|c|d|e\n#x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := ParseCookies("f.txt", data)
		if err != nil {
			return
		}
		for _, name := range []string{"", "a", "c_user", "_ga_1"} {
			tab.Lookup(name)
		}
		ParseClickIDs("f.txt", data)
	})
}
