package crypt

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// fuzzSessions is a fixed handshake (the test-vector inputs) so fuzz runs
// are reproducible. It returns the offer and both sessions.
func fuzzSessions(t testing.TB) ([]byte, *Session, *Session) {
	a := mustIdentity(t, seq(0x00, 32))
	b := mustIdentity(t, seq(0x40, 32))
	init, offer, err := NewInitiator(a, 1, DefaultCiphers(), bytes.NewReader(seq(0x20, 32)))
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	rs, answer, err := Respond(b, offer, 1, 2, DefaultCiphers(), bytes.NewReader(seq(0x60, 32)))
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	is, err := init.Finish(answer, 2)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return offer, is, rs
}

// FuzzParseOffer feeds arbitrary marker data to the marker parsers and to
// Respond: no panic, and what ParseOffer accepts must be consistent.
func FuzzParseOffer(f *testing.F) {
	offer, _, _ := fuzzSessions(f)
	f.Add(offer)
	f.Add([]byte{1, 1})
	f.Add([]byte{1, 2})
	b := mustIdentity(f, seq(0x40, 32))
	f.Fuzz(func(t *testing.T, marker []byte) {
		typ, terr := MarkerType(marker)
		o, err := ParseOffer(marker)
		if err != nil {
			if o.Ciphers != nil {
				t.Fatalf("ParseOffer error %v with ciphers %v", err, o.Ciphers)
			}
		} else {
			if terr != nil || typ != MarkerOffer {
				t.Fatalf("ParseOffer accepted a marker MarkerType calls %d, %v", typ, terr)
			}
			if n := len(o.Ciphers); n < 1 || n > maxOfferCiphers || len(marker) != minOfferLen+n-1 {
				t.Fatalf("ParseOffer accepted %d ciphers in %d bytes", n, len(marker))
			}
		}
		s, answer, rerr := Respond(b, marker, 1, 2, DefaultCiphers(), bytes.NewReader(seq(0x60, 32)))
		if rerr == nil {
			if err != nil || s == nil || checkAnswer(answer) != nil {
				t.Fatalf("Respond succeeded on a marker ParseOffer rejects (%v) or made a bad answer", err)
			}
		}
	})
}

// FuzzFinish feeds arbitrary answers to a caller's handshake: no panic,
// and none may complete it.
func FuzzFinish(f *testing.F) {
	a := mustIdentity(f, seq(0x00, 32))
	b := mustIdentity(f, seq(0x40, 32))
	_, offer, _ := NewInitiator(a, 1, DefaultCiphers(), bytes.NewReader(seq(0x20, 32)))
	_, answer, err := Respond(b, offer, 1, 2, DefaultCiphers(), bytes.NewReader(seq(0x60, 32)))
	if err != nil {
		f.Fatalf("Respond: %v", err)
	}
	f.Add(answer[:len(answer)-1])
	f.Add(append([]byte{1, 2}, make([]byte, answerLen-2)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Equal(data, answer) {
			return
		}
		init, _, err := NewInitiator(a, 1, DefaultCiphers(), bytes.NewReader(seq(0x20, 32)))
		if err != nil {
			t.Fatalf("NewInitiator: %v", err)
		}
		if s, err := init.Finish(data, 2); err == nil || s != nil {
			t.Fatalf("Finish accepted a forged answer % x", data)
		}
	})
}

// FuzzOpen feeds arbitrary packets to an Opener: no panic, and none may
// authenticate (the one genuine packet is skipped).
func FuzzOpen(f *testing.F) {
	_, is, rs := fuzzSessions(f)
	// A genuine packet for the mutator to start from; the fuzz function
	// skips it.
	genuine, _ := is.Sealer.Seal(nil, miniFrame(), 1, 2)
	f.Add(genuine)
	f.Add(genuine[:MinPacketLen])
	f.Add([]byte{0, 0, 0x45, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if bytes.Equal(pkt, genuine) {
			return
		}
		in := slices.Clone(pkt)
		dst := make([]byte, 3, 8)
		out, h, err := rs.Opener.Open(dst, pkt)
		if err == nil {
			t.Fatalf("forged packet authenticated: % x -> % x", in, out)
		}
		if h != (Header{}) || len(out) != 3 {
			t.Fatalf("failed Open returned header %+v or changed dst length to %d", h, len(out))
		}
		if !bytes.Equal(pkt, in) {
			t.Fatalf("Open changed its input")
		}
		if IsEncryptedFrame(pkt) && errors.Is(err, ErrNotEncrypted) {
			t.Fatalf("IsEncryptedFrame and ParseHeader disagree")
		}
	})
}
