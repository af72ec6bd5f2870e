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

// newIEs are the context IEs of a NEW: VERSION 2, CALLED NUMBER "100",
// CALLING NAME "Alice", FORMAT alaw.
func newIEs() []byte {
	return []byte{
		11, 2, 0x00, 0x02,
		1, 3, '1', '0', '0',
		4, 5, 'A', 'l', 'i', 'c', 'e',
		9, 4, 0x00, 0x00, 0x00, 0x08,
	}
}

// acceptIEs are the context IEs of an ACCEPT: FORMAT alaw.
func acceptIEs() []byte { return []byte{9, 4, 0x00, 0x00, 0x00, 0x08} }

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

// handshake runs NewInitiator, Respond and Finish between two fresh
// identities for calls 1 (caller) and 2 (callee) and returns the caller's
// and the callee's sessions, not yet confirmed.
func handshake(t testing.TB, offer, prefs []Cipher) (*Session, *Session) {
	t.Helper()
	a, b := newIdentity(t), newIdentity(t)
	init, offerMarker, err := NewInitiator(a, 1, newIEs(), offer, rand.Reader)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	rs, answer, err := Respond(b, offerMarker, 1, 2, newIEs(), acceptIEs(), prefs, rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	is, err := init.Finish(answer, 2, acceptIEs())
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return is, rs
}

// pair is handshake followed by the confirmation exchange: one frame from
// the caller (carrying the confirmation), one from the callee (carrying the
// acknowledgement). Both sessions are then confirmed.
func pair(t testing.TB, offer, prefs []Cipher) (*Session, *Session) {
	t.Helper()
	is, rs := handshake(t, offer, prefs)
	confirm(t, is, rs)
	return is, rs
}

// confirm sends one frame each way and checks the confirmation completes.
func confirm(t testing.TB, is, rs *Session) {
	t.Helper()
	f := miniFrame()
	pkt, err := is.Seal(nil, f, 1, 2)
	if err != nil {
		t.Fatalf("caller Seal: %v", err)
	}
	got, now, err := rs.Open(nil, pkt)
	if err != nil || !now || !bytes.Equal(got, f) {
		t.Fatalf("callee Open = %x, confirmedNow %v, %v", got, now, err)
	}
	pkt, err = rs.Seal(nil, f, 2, 1)
	if err != nil {
		t.Fatalf("callee Seal: %v", err)
	}
	got, now, err = is.Open(nil, pkt)
	if err != nil || !now || !bytes.Equal(got, f) {
		t.Fatalf("caller Open = %x, confirmedNow %v, %v", got, now, err)
	}
	if !is.Confirmed() || !rs.Confirmed() || is.Confirming() {
		t.Fatalf("after the exchange: confirmed %v/%v, caller confirming %v", is.Confirmed(), rs.Confirmed(), is.Confirming())
	}
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

func third[A, B any](_ A, _ B, err error) error { return err }
