package crypt

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// fuzzInitiator starts the fixed handshake of the test vectors.
func fuzzInitiator(t testing.TB) (*Initiator, []byte) {
	t.Helper()
	a := mustIdentity(t, seq(0x00, 32))
	init, offer, err := NewInitiator(a, 1, newIEs(), DefaultCiphers(), bytes.NewReader(append(seq(0xa0, 32), seq(0x20, 32)...)))
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	return init, offer
}

// fuzzSessions is a fixed handshake (the test-vector inputs) so fuzz runs
// are reproducible. It returns the offer, the answer and both sessions,
// not yet confirmed.
func fuzzSessions(t testing.TB) ([]byte, []byte, *Session, *Session) {
	t.Helper()
	b := mustIdentity(t, seq(0x40, 32))
	init, offer := fuzzInitiator(t)
	rs, answer, err := Respond(b, offer, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), bytes.NewReader(seq(0x60, 32)))
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	is, err := init.Finish(answer, 2, acceptIEs())
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return offer, answer, is, rs
}

// FuzzParseOffer feeds arbitrary marker data to the marker parsers and to
// Respond: no panic, and what ParseOffer accepts must be consistent.
func FuzzParseOffer(f *testing.F) {
	offer, answer, _, _ := fuzzSessions(f)
	f.Add(offer)
	f.Add(answer)
	f.Add([]byte{2, 1})
	f.Add([]byte{1, 1})
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
		if len(marker) >= markerHeaderLen && marker[0] == 1 && !errors.Is(terr, ErrOldVersion) {
			t.Fatalf("v1 marker gave %v, want ErrOldVersion", terr)
		}
		s, answer, rerr := Respond(b, marker, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), bytes.NewReader(seq(0x60, 32)))
		if rerr == nil {
			if err != nil || s == nil || checkAnswer(answer) != nil || s.Confirmed() {
				t.Fatalf("Respond succeeded on a marker ParseOffer rejects (%v), made a bad answer, or confirmed", err)
			}
		}
	})
}

// FuzzFinish feeds arbitrary answers to a caller's handshake: no panic,
// and none may complete it.
func FuzzFinish(f *testing.F) {
	_, answer, _, _ := fuzzSessions(f)
	f.Add(answer)
	f.Add(answer[:len(answer)-1])
	f.Add(append([]byte{2, 2}, make([]byte, answerLen-2)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Equal(data, answer) {
			return
		}
		init, _ := fuzzInitiator(t)
		if s, err := init.Finish(data, 2, acceptIEs()); err == nil || s != nil {
			t.Fatalf("Finish accepted a forged answer % x", data)
		}
	})
}

// FuzzOpen feeds arbitrary packets to both sides' Open: no panic, none may
// authenticate (the genuine packets are skipped), dst keeps its length on
// failure, the input is not changed, and nothing confirms the callee.
func FuzzOpen(f *testing.F) {
	_, _, is, rs := fuzzSessions(f)
	// Genuine packets for the mutator to start from; the fuzz function
	// skips them.
	toCallee, _ := is.Seal(nil, miniFrame(), 1, 2)
	toCaller, _ := rs.Seal(nil, miniFrame(), 2, 1)
	f.Add(toCallee)
	f.Add(toCaller)
	f.Add(toCallee[:MinPacketLen])
	f.Add([]byte{0, 0, 0x45, 2})
	f.Add([]byte{0, 0, 0x45, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if bytes.Equal(pkt, toCallee) || bytes.Equal(pkt, toCaller) {
			return
		}
		in := slices.Clone(pkt)
		for _, s := range []*Session{rs, is} {
			dst := make([]byte, 3, 8)
			out, now, err := s.Open(dst, pkt)
			if err == nil || now {
				t.Fatalf("forged packet authenticated: % x -> % x", in, out)
			}
			if len(out) != 3 {
				t.Fatalf("failed Open changed dst length to %d", len(out))
			}
			if !bytes.Equal(pkt, in) {
				t.Fatalf("Open changed its input")
			}
			if IsEncryptedFrame(pkt) && errors.Is(err, ErrNotEncrypted) {
				t.Fatalf("IsEncryptedFrame and ParseHeader disagree")
			}
		}
		if rs.Confirmed() || rs.failed.Load() {
			t.Fatalf("a forged packet moved the callee's confirmation state")
		}
	})
}

// FuzzTrunk feeds arbitrary packets to the trunk reader and opens every
// entry with a confirmed session: no panic, no entry authenticates except
// the genuine packet's, the reader stops on truncation with ErrTooShort.
func FuzzTrunk(f *testing.F) {
	_, _, is, rs := fuzzSessions(f)
	confirm(f, is, rs)
	var b TrunkBuilder
	for _, cmd := range []uint8{0, 1} {
		b.Start(nil, cmd, 0x01020304)
		if err := b.Add(rs, 1, iax.TrunkEntry{SrcCall: 2, Timestamp: 7, Data: miniFrame()[4:]}); err != nil {
			f.Fatalf("Add: %v", err)
		}
		f.Add(slices.Clone(b.Packet()))
	}
	f.Add([]byte{0, 0, TrunkMetaCommand, 2, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, TrunkMetaCommand, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		r, err := ReadTrunk(pkt)
		if err != nil {
			if IsEncryptedTrunk(pkt) && errors.Is(err, ErrNotEncrypted) {
				t.Fatalf("IsEncryptedTrunk and ReadTrunk disagree")
			}
			return
		}
		hdr := r.AppendHeader(nil)
		if len(hdr) != iax.TrunkHeaderLen {
			t.Fatalf("cleartext trunk header of %d bytes", len(hdr))
		}
		out := slices.Clone(hdr)
		n := 0
		for r.Next() {
			e := r.Entry()
			if e.SenderCall&0x8000 != 0 {
				t.Fatalf("sender call %#x has the R bit", e.SenderCall)
			}
			before := len(out)
			var oerr error
			out, _, oerr = is.OpenTrunkEntry(out, e, 1)
			if oerr == nil {
				n++
			} else if len(out) != before {
				t.Fatalf("failed OpenTrunkEntry changed dst length")
			}
		}
		if r.Err() != nil && !errors.Is(r.Err(), ErrTooShort) {
			t.Fatalf("reader error %v", r.Err())
		}
		if n > 0 {
			// Only a genuine entry opens, and only once: then the rebuilt
			// frame must parse as a cleartext trunk.
			tf, err := iax.ParseTrunk(out)
			if err != nil || tf.Range(func(iax.TrunkEntry) bool { return true }) != nil {
				t.Fatalf("rebuilt trunk frame does not parse: %v", err)
			}
		}
	})
}
