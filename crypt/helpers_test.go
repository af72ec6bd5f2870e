package crypt

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"testing"
)

// seq returns n bytes start, start+1, ...: readable fixed key material.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func mustIdentity(t testing.TB, priv []byte) Identity {
	t.Helper()
	id, err := IdentityFromPrivate(priv)
	if err != nil {
		t.Fatalf("IdentityFromPrivate: %v", err)
	}
	return id
}

func newIdentity(t testing.TB) Identity {
	t.Helper()
	id, err := GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatalf("GenerateIdentity: %v", err)
	}
	return id
}

// pair runs a full handshake between two fresh identities and returns the
// caller's and the callee's sessions.
func pair(t testing.TB, offer, prefs []Cipher) (*Session, *Session) {
	t.Helper()
	a, b := newIdentity(t), newIdentity(t)
	init, offerMarker, err := NewInitiator(a, 1, offer, rand.Reader)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	rs, answer, err := Respond(b, offerMarker, 1, 2, prefs, rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	is, err := init.Finish(answer, 2)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return is, rs
}

// miniFrame is a 164-byte IAX2 mini frame: source call 1, timestamp 0x00a0,
// 160 bytes of G.711 A-law silence.
func miniFrame() []byte {
	return append([]byte{0x00, 0x01, 0x00, 0xa0}, bytes.Repeat([]byte{0xd5}, 160)...)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}
