package traffic

import "testing"

func TestHashKindAndEmpty(t *testing.T) {
	tests := []struct {
		in    string
		kind  string
		empty bool
	}{
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256", true},
		{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "sha256", true},
		{"eb045d78d273107348b0300c01d29b7552d622abbc6faf81b3ec55359aa9950c", "sha256", true}, // "undefined"
		{"d41d8cd98f00b204e9800998ecf8427e", "md5", true},
		{"973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b", "sha256", false}, // test@example.com
		{"not-a-hash", "", false},
		{"zz3dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b", "", false},
	}
	for _, tt := range tests {
		if got := HashKind(tt.in); got != tt.kind {
			t.Errorf("HashKind(%q) = %q, want %q", tt.in, got, tt.kind)
		}
		if got := IsEmptyHash(tt.in); got != tt.empty {
			t.Errorf("IsEmptyHash(%q) = %v, want %v", tt.in, got, tt.empty)
		}
	}
}
