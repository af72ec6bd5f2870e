package crypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
)

func TestHandshakeBothCiphers(t *testing.T) {
	tests := []struct {
		name         string
		offer, prefs []Cipher
		want         Cipher
	}{
		{"chacha default", DefaultCiphers(), DefaultCiphers(), CipherChaCha20Poly1305},
		{"responder prefers aes", DefaultCiphers(), []Cipher{CipherAES256GCM, CipherChaCha20Poly1305}, CipherAES256GCM},
		{"only aes offered", []Cipher{CipherAES256GCM}, DefaultCiphers(), CipherAES256GCM},
		{"unknown ids skipped", []Cipher{0x7f, 0x09, CipherAES256GCM}, []Cipher{0x7f, CipherChaCha20Poly1305, CipherAES256GCM}, CipherAES256GCM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newIdentity(t), newIdentity(t)
			init, offer, err := NewInitiator(a, 0x1234, tt.offer, rand.Reader)
			if err != nil {
				t.Fatalf("NewInitiator: %v", err)
			}
			o, err := ParseOffer(offer)
			if err != nil {
				t.Fatalf("ParseOffer: %v", err)
			}
			if !slices.Equal(o.Ciphers, tt.offer) || o.ClaimedIdentity != a.Public() {
				t.Fatalf("ParseOffer = %+v, want ciphers %v identity %v", o, tt.offer, a.Public())
			}
			rs, answer, err := Respond(b, offer, 0x1234, 0x0567, tt.prefs, rand.Reader)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			if typ, err := MarkerType(answer); err != nil || typ != MarkerAnswer {
				t.Fatalf("MarkerType(answer) = %d, %v", typ, err)
			}
			is, err := init.Finish(answer, 0x0567)
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if is.Cipher != tt.want || rs.Cipher != tt.want {
				t.Fatalf("ciphers %v/%v, want %v", is.Cipher, rs.Cipher, tt.want)
			}
			if is.PeerIdentity != b.Public() || rs.PeerIdentity != a.Public() {
				t.Fatalf("peer identities wrong")
			}
			if is.SAS != rs.SAS || is.HandshakeHash != rs.HandshakeHash {
				t.Fatalf("SAS %v/%v or hash differ", is.SAS, rs.SAS)
			}
			if is.Sealer.key != rs.Opener.key || rs.Sealer.key != is.Opener.key || is.Sealer.key == is.Opener.key {
				t.Fatalf("transport keys do not pair up")
			}
			if !is.Initiator || rs.Initiator {
				t.Fatalf("Initiator flags %v/%v", is.Initiator, rs.Initiator)
			}
			exchange(t, is, rs, 0x1234, 0x0567)
			if _, err := init.Finish(answer, 0x0567); !errors.Is(err, ErrHandshake) {
				t.Fatalf("second Finish: %v, want ErrHandshake", err)
			}
		})
	}
}

// exchange sends a frame each way and checks it arrives intact.
func exchange(t *testing.T, caller, callee *Session, callerCall, calleeCall uint16) {
	t.Helper()
	f := miniFrame()
	pkt, err := caller.Sealer.Seal(nil, f, callerCall, calleeCall)
	if err != nil {
		t.Fatalf("caller Seal: %v", err)
	}
	got, h, err := callee.Opener.Open(nil, pkt)
	if err != nil || !bytes.Equal(got, f) || h.SenderCall != callerCall || h.ReceiverCall != calleeCall {
		t.Fatalf("callee Open = %x, %+v, %v", got, h, err)
	}
	pkt, err = callee.Sealer.Seal(nil, f, calleeCall, callerCall)
	if err != nil {
		t.Fatalf("callee Seal: %v", err)
	}
	if got, _, err := caller.Opener.Open(nil, pkt); err != nil || !bytes.Equal(got, f) {
		t.Fatalf("caller Open = %x, %v", got, err)
	}
}

// TestTamperOffer flips each byte of the offer. Every change must be caught:
// by ParseOffer/Respond (syntax, version, low-order key, no cipher), or by
// Finish, because the whole offer is in the handshake hash that the answer
// is encrypted under. No change may let both sides end up with a session.
func TestTamperOffer(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	for i := 0; ; i++ {
		init, offer, err := NewInitiator(a, 1, DefaultCiphers(), rand.Reader)
		if err != nil {
			t.Fatalf("NewInitiator: %v", err)
		}
		if i >= len(offer) {
			break
		}
		offer[i] ^= 0x01
		_, answer, err := Respond(b, offer, 1, 2, DefaultCiphers(), rand.Reader)
		if err != nil {
			var want error
			switch {
			case i == 0:
				want = ErrVersion
			case i == 1 || i == 66:
				want = ErrMarker
			default:
				want = ErrHandshake // e.g. a low-order ephemeral key
			}
			if !errors.Is(err, want) && !errors.Is(err, ErrNoCommonCipher) {
				t.Fatalf("byte %d: Respond error %v, want %v", i, err, want)
			}
			continue
		}
		if _, err := init.Finish(answer, 2); !errors.Is(err, ErrHandshake) {
			t.Fatalf("byte %d tampered: Finish error %v, want ErrHandshake", i, err)
		}
	}
}

// TestTamperAnswer flips each byte of the answer: Finish must fail, and a
// later genuine answer must still succeed (a forged ACCEPT cannot kill the
// handshake).
func TestTamperAnswer(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, err := NewInitiator(a, 1, DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	rs, answer, err := Respond(b, offer, 1, 2, DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	for i := range answer {
		bad := slices.Clone(answer)
		bad[i] ^= 0x80
		_, err := init.Finish(bad, 2)
		var want error
		switch i {
		case 0:
			want = ErrVersion
		case 1:
			want = ErrMarker
		default:
			want = ErrHandshake
		}
		if !errors.Is(err, want) {
			t.Fatalf("byte %d: Finish error %v, want %v", i, err, want)
		}
	}
	if _, err := init.Finish(answer[:len(answer)-1], 2); !errors.Is(err, ErrMarker) {
		t.Fatalf("truncated answer: %v, want ErrMarker", err)
	}
	is, err := init.Finish(answer, 2)
	if err != nil {
		t.Fatalf("genuine answer after forgeries: %v", err)
	}
	exchange(t, is, rs, 1, 2)
}

func TestFinishWrongCalleeCall(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, DefaultCiphers(), rand.Reader)
	_, answer, err := Respond(b, offer, 1, 2, DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if _, err := init.Finish(answer, 3); !errors.Is(err, ErrCallNumber) {
		t.Fatalf("Finish with callee 3: %v, want ErrCallNumber", err)
	}
}

// TestWrongCallerCall: an offer spliced into another call (another source
// call number) makes the prologues differ.
func TestWrongCallerCall(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, DefaultCiphers(), rand.Reader)
	_, answer, err := Respond(b, offer, 7, 2, DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if _, err := init.Finish(answer, 2); !errors.Is(err, ErrHandshake) {
		t.Fatalf("Finish: %v, want ErrHandshake", err)
	}
}

// TestDowngrade: a man in the middle rewrites the offer's cipher list to
// AES only. The responder goes along, but the caller detects it.
func TestDowngrade(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, DefaultCiphers(), rand.Reader)
	if offer[66] != 2 || offer[67] != byte(CipherChaCha20Poly1305) {
		t.Fatalf("unexpected offer layout % x", offer[66:])
	}
	mitm := slices.Clone(offer[:66])
	mitm = append(mitm, 1, byte(CipherAES256GCM))
	rs, answer, err := Respond(b, mitm, 1, 2, DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond to rewritten offer: %v", err)
	}
	if rs.Cipher != CipherAES256GCM {
		t.Fatalf("responder chose %v", rs.Cipher)
	}
	if _, err := init.Finish(answer, 2); !errors.Is(err, ErrHandshake) {
		t.Fatalf("Finish after downgrade: %v, want ErrHandshake", err)
	}
}

func TestNoCommonCipher(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	_, offer, err := NewInitiator(a, 1, []Cipher{CipherAES256GCM, 0x33}, rand.Reader)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	for _, prefs := range [][]Cipher{{CipherChaCha20Poly1305}, {0x33}, nil} {
		if _, _, err := Respond(b, offer, 1, 2, prefs, rand.Reader); !errors.Is(err, ErrNoCommonCipher) {
			t.Fatalf("prefs %v: Respond error %v, want ErrNoCommonCipher", prefs, err)
		}
	}
}

func TestHandshakeBadInputs(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	_, offer, _ := NewInitiator(a, 1, DefaultCiphers(), rand.Reader)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"empty offer list", second(NewInitiator(a, 1, nil, rand.Reader)), ErrNoCommonCipher},
		{"nine ciphers", second(NewInitiator(a, 1, make([]Cipher, 9), rand.Reader)), ErrNoCommonCipher},
		{"caller call 0", second(NewInitiator(a, 0, DefaultCiphers(), rand.Reader)), ErrCallNumber},
		{"caller call high bit", second(NewInitiator(a, 0x8001, DefaultCiphers(), rand.Reader)), ErrCallNumber},
		{"zero identity", second(NewInitiator(Identity{}, 1, DefaultCiphers(), rand.Reader)), ErrHandshake},
		{"short rng", second(NewInitiator(a, 1, DefaultCiphers(), bytes.NewReader(make([]byte, 5)))), ErrHandshake},
		{"callee call high bit", third(Respond(b, offer, 1, 0x8000, DefaultCiphers(), rand.Reader)), ErrCallNumber},
		{"answer as offer", third(Respond(b, append([]byte{1, 2}, offer[2:]...), 1, 2, DefaultCiphers(), rand.Reader)), ErrMarker},
		{"truncated offer", third(Respond(b, offer[:40], 1, 2, DefaultCiphers(), rand.Reader)), ErrMarker},
		{"trailing byte", third(Respond(b, append(slices.Clone(offer), 0), 1, 2, DefaultCiphers(), rand.Reader)), ErrMarker},
		{"low-order ephemeral", third(Respond(b, append(append([]byte{1, 1}, make([]byte, 32)...), offer[34:]...), 1, 2, DefaultCiphers(), rand.Reader)), ErrHandshake},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func second[A, B any](_ A, _ B, err error) error { return err }
func third[A, B any](_ A, _ B, err error) error  { return err }

func TestMarkerType(t *testing.T) {
	tests := []struct {
		in   []byte
		want byte
		err  error
	}{
		{nil, 0, ErrMarker},
		{[]byte{1}, 0, ErrMarker},
		{[]byte{2, 1}, 0, ErrVersion},
		{[]byte{1, 1}, MarkerOffer, nil},
		{[]byte{1, 2, 9}, MarkerAnswer, nil},
		{[]byte{1, 3}, 0, ErrMarker},
	}
	for i, tt := range tests {
		got, err := MarkerType(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("case %d: MarkerType(% x) = %d, %v; want %d, %v", i, tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseOfferCounts(t *testing.T) {
	base := append([]byte{1, 1}, seq(9, 64)...)
	tests := []struct {
		payload []byte
		err     error
	}{
		{[]byte{0}, ErrMarker},
		{[]byte{1}, ErrMarker},
		{[]byte{1, 1}, nil},
		{[]byte{2, 1}, ErrMarker},
		{[]byte{8, 1, 2, 3, 4, 5, 6, 7, 8}, nil},
		{[]byte{9, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ErrMarker},
	}
	for i, tt := range tests {
		_, err := ParseOffer(append(slices.Clone(base), tt.payload...))
		if !errors.Is(err, tt.err) {
			t.Errorf("case %d: ParseOffer error %v, want %v", i, err, tt.err)
		}
	}
}

func TestIdentity(t *testing.T) {
	// RFC 7748 section 6.1: Alice's key pair.
	priv := mustHex(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	id := mustIdentity(t, priv)
	if got := id.Public(); !bytes.Equal(got[:], mustHex(t, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")) {
		t.Fatalf("public key %x", got)
	}
	if !bytes.Equal(id.Private(), priv) {
		t.Fatalf("Private() = %x", id.Private())
	}
	k, err := ParsePublicKey(id.Public().Fingerprint())
	if err != nil || k != id.Public() {
		t.Fatalf("ParsePublicKey(Fingerprint()) = %v, %v", k, err)
	}
	for _, bad := range []string{"", "not base64!", "AAAA"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) succeeded", bad)
		}
	}
	if _, err := IdentityFromPrivate(priv[:31]); err == nil {
		t.Fatalf("31-byte private key accepted")
	}
	if _, err := GenerateIdentity(bytes.NewReader(nil)); err == nil {
		t.Fatalf("GenerateIdentity from an empty reader succeeded")
	}
}
