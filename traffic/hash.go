package traffic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// HashKind names the hash a hex string looks like by its length: "md5"
// (32), "sha1" (40) or "sha256" (64); "" when s is not such a hex string.
func HashKind(s string) string {
	var kind string
	switch len(s) {
	case 32:
		kind = "md5"
	case 40:
		kind = "sha1"
	case 64:
		kind = "sha256"
	default:
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return ""
		}
	}
	return kind
}

// emptyHashes holds MD5, SHA-1 and SHA-256 of values that scripts hash when
// a field is blank: "" and "undefined" (and "null"). A hash of one of these
// carries no personal data.
var emptyHashes = func() map[string]bool {
	m := map[string]bool{}
	for _, v := range []string{"", "undefined", "null"} {
		a, b, c := md5.Sum([]byte(v)), sha1.Sum([]byte(v)), sha256.Sum256([]byte(v))
		m[hex.EncodeToString(a[:])] = true
		m[hex.EncodeToString(b[:])] = true
		m[hex.EncodeToString(c[:])] = true
	}
	return m
}()

// IsEmptyHash reports whether s is the hex MD5, SHA-1 or SHA-256 of an
// empty value ("", "undefined", "null"), in either letter case.
func IsEmptyHash(s string) bool { return emptyHashes[strings.ToLower(s)] }
