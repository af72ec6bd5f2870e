package attacker

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

func offerMarker(t testing.TB) []byte {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, offer, err := crypt.NewInitiator(id, callA, nil, []crypt.Cipher{crypt.CipherChaCha20Poly1305}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return offer
}

func TestStripMarker(t *testing.T) {
	offer := offerMarker(t)
	withMarker := func(before, after []byte) []byte {
		p, _ := iax.AppendIE(append([]byte{}, before...), crypt.MarkerIE, offer)
		return append(p, after...)
	}
	base := ies(iax.IEVersion, "\x00\x02", iax.IECalledNumber, "100")
	tail := ies(iax.IECallingName, "Alice")
	newWith := func(payload []byte) []byte {
		return fullFrame(callA, 0, 3, 0, 0, iax.FrameIAX, uint8(iax.IAXNew), payload)
	}
	tests := []struct {
		name      string
		frame     []byte
		want      []byte
		wantFound bool
		wantErr   error
	}{
		{"marker last", newWith(withMarker(base, nil)), newWith(base), true, nil},
		{"marker in the middle", newWith(withMarker(base, tail)), newWith(append(bytes.Clone(base), tail...)), true, nil},
		{"marker only", newWith(withMarker(nil, nil)), newWith(nil), true, nil},
		{"two markers", newWith(withMarker(withMarker(base, nil), nil)), newWith(base), true, nil},
		{"no marker", newWith(base), newWith(base), false, nil},
		{"IEs cut short after the marker", newWith(append(withMarker(base, nil), 0x01)), nil, false, iax.ErrIELength},
		{"mini frame", miniFrame(callA, 1), nil, false, iax.ErrNotFull},
		{"short", []byte{0x80, 1, 0}, nil, false, iax.ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := StripMarker(tt.frame)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !bytes.Equal(got, tt.frame) {
					t.Fatalf("frame changed on error")
				}
				return
			}
			if err != nil || found != tt.wantFound {
				t.Fatalf("found %v err %v, want found %v", found, err, tt.wantFound)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got\n%x\nwant\n%x", got, tt.want)
			}
		})
	}
}

// TestFlipBit flips every bit of every field of a real encrypted frame and
// checks that exactly that bit changed, inside the field, and that the
// original is left alone.
func TestFlipBit(t *testing.T) {
	r := newRig(t, Settings{Mode: ModePass})
	r.establish()
	r.send(addrA, miniFrame(callA, 100))
	sealed := lastPayload(t, r)
	if !isSealedFrame(sealed) {
		t.Fatalf("rig did not seal: %x", sealed)
	}
	orig := bytes.Clone(sealed)
	for _, field := range SealedFields() {
		from, to := field.span(len(sealed))
		for nth := 0; nth < (to-from)*8; nth++ {
			got, err := FlipBit(sealed, field, nth)
			if err != nil {
				t.Fatal(err)
			}
			var diff []int
			for i := range got {
				if x := got[i] ^ sealed[i]; x != 0 {
					if x&(x-1) != 0 {
						t.Fatalf("%v bit %d: byte %d differs in more than one bit", field, nth, i)
					}
					diff = append(diff, i)
				}
			}
			if len(diff) != 1 || diff[0] < from || diff[0] >= to {
				t.Fatalf("%v bit %d: bytes %v differ, want one in [%d,%d)", field, nth, diff, from, to)
			}
		}
	}
	if !bytes.Equal(sealed, orig) {
		t.Fatal("FlipBit changed its input")
	}
	if _, err := FlipBit(miniFrame(callA, 1), FieldTag, 0); err == nil {
		t.Fatal("FlipBit accepted a mini frame")
	}
	if _, err := FlipBit(sealed, numSealedFields, 0); err == nil {
		t.Fatal("FlipBit accepted an unknown field")
	}
}

func lastPayload(t testing.TB, r *rig) []byte {
	t.Helper()
	d, err := parseDatagram(r.wire[len(r.wire)-1])
	if err != nil {
		t.Fatal(err)
	}
	return d.Payload
}

func TestForgedFramesParse(t *testing.T) {
	seq := Seq{Src: callA, Dst: callB, Timestamp: 1000, OSeq: 3, ISeq: 2}
	for _, tt := range []struct {
		name  string
		frame []byte
		typ   iax.FrameType
		sub   uint8
	}{
		{"text", ForgeText(seq), iax.FrameText, 0},
		{"hangup", ForgeHangup(seq), iax.FrameIAX, uint8(iax.IAXHangup)},
		{"accept", ForgeAccept(callB, callA), iax.FrameIAX, uint8(iax.IAXAccept)},
		{"new", ForgeNew(callA, offerMarker(t)), iax.FrameIAX, uint8(iax.IAXNew)},
	} {
		f, err := iax.ParseFull(tt.frame)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if f.Type != tt.typ || f.Subclass != tt.sub {
			t.Fatalf("%s: type %v subclass %d", tt.name, f.Type, f.Subclass)
		}
		if tt.typ == iax.FrameIAX {
			if err := iax.ValidateIEs(f.Payload); err != nil {
				t.Fatalf("%s: IEs: %v", tt.name, err)
			}
		}
	}
	hangup, _ := iax.ParseFull(ForgeHangup(seq))
	if cause, found, _ := iax.FindIE(hangup.Payload, iax.IECause); !found || !bytes.Contains(cause, []byte(InjectedTag)) {
		t.Fatalf("HANGUP cause %q does not carry the tag", cause)
	}
	mini, err := iax.ParseMini(ForgeMini(callA, 7))
	if err != nil || mini.SrcCall != callA || !bytes.Contains(mini.Payload, []byte(InjectedTag)) {
		t.Fatalf("mini frame %+v, %v", mini, err)
	}
	n, _ := iax.ParseFull(ForgeNew(callA, offerMarker(t)))
	m, found, _ := iax.FindIE(n.Payload, crypt.MarkerIE)
	if !found {
		t.Fatal("forged NEW has no marker")
	}
	if _, err := crypt.ParseOffer(m); err != nil {
		t.Fatalf("forged NEW's offer does not parse: %v", err)
	}
}
