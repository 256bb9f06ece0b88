package quicread

import (
	"bytes"
	"testing"
)

// TestKeyGenerations checks which generations a Key Phase bit selects
// before and after an update, and that generations share the header
// protection key but not the AEAD key (RFC 9001 §6).
func TestKeyGenerations(t *testing.T) {
	k0, err := newKeys(aes128GCM, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a := &appKeys{cur: k0}
	if c := a.candidates(false); len(c) != 1 || c[0] != k0 {
		t.Fatalf("phase 0: %v", c)
	}
	c := a.candidates(true)
	if len(c) != 1 || c[0] != a.next || a.next == nil {
		t.Fatalf("phase 1 before an update: %v", c)
	}
	k1 := a.next
	if k1.hp != k0.hp || bytes.Equal(k1.iv, k0.iv) || bytes.Equal(k1.secret, k0.secret) {
		t.Error("next generation: header protection changed or keys did not")
	}
	want := newSealKeys(t, aes128GCM, bytes.Repeat([]byte{7}, 32)).updated(t)
	if !bytes.Equal(k1.secret, want.secret) || !bytes.Equal(k1.iv, want.iv) {
		t.Error("next generation differs from the sealing side's")
	}
	// What accept does on a packet that authenticated with next.
	a.prev, a.cur, a.next, a.phase = a.cur, a.next, nil, true
	c = a.candidates(false)
	if len(c) != 2 || c[1] != k0 || c[0] == k0 || c[0] == k1 {
		t.Errorf("phase 0 after an update: next then previous, got %v", c)
	}
}
