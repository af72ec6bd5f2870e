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
			init, offer, err := NewInitiator(a, 0x1234, newIEs(), tt.offer, rand.Reader)
			if err != nil {
				t.Fatalf("NewInitiator: %v", err)
			}
			o, err := ParseOffer(offer)
			if err != nil {
				t.Fatalf("ParseOffer: %v", err)
			}
			if !slices.Equal(o.Ciphers, tt.offer) || o.Commitment == ([commitLen]byte{}) {
				t.Fatalf("ParseOffer = %+v, want ciphers %v and a commitment", o, tt.offer)
			}
			rs, answer, err := Respond(b, offer, 0x1234, 0x0567, newIEs(), acceptIEs(), tt.prefs, rand.Reader)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			if typ, err := MarkerType(answer); err != nil || typ != MarkerAnswer {
				t.Fatalf("MarkerType(answer) = %d, %v", typ, err)
			}
			if rs.Confirmed() || rs.SAS != (SAS{}) || rs.PeerIdentity != (PublicKey{}) {
				t.Fatalf("callee has SAS %v / identity %v before the confirmation", rs.SAS, rs.PeerIdentity)
			}
			is, err := init.Finish(answer, 0x0567, acceptIEs())
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if is.Cipher != tt.want || rs.Cipher != tt.want {
				t.Fatalf("ciphers %v/%v, want %v", is.Cipher, rs.Cipher, tt.want)
			}
			if !is.Confirmed() || !is.Confirming() || is.PeerIdentity != b.Public() || is.SAS == (SAS{}) {
				t.Fatalf("caller after Finish: confirmed %v confirming %v identity ok %v SAS %v",
					is.Confirmed(), is.Confirming(), is.PeerIdentity == b.Public(), is.SAS)
			}
			if is.HandshakeHash != rs.HandshakeHash {
				t.Fatalf("handshake hashes differ")
			}
			if is.send.key != rs.recv.key || rs.send.key != is.recv.key || is.send.key == is.recv.key {
				t.Fatalf("transport keys do not pair up")
			}
			if !is.Initiator || rs.Initiator {
				t.Fatalf("Initiator flags %v/%v", is.Initiator, rs.Initiator)
			}
			confirm(t, is, rs)
			if rs.PeerIdentity != a.Public() || rs.SAS != is.SAS {
				t.Fatalf("after confirmation: callee sees identity %v SAS %v, want %v %v", rs.PeerIdentity, rs.SAS, a.Public(), is.SAS)
			}
			exchange(t, is, rs, 0x1234, 0x0567)
			if _, err := init.Finish(answer, 0x0567, acceptIEs()); !errors.Is(err, ErrHandshake) {
				t.Fatalf("second Finish: %v, want ErrHandshake", err)
			}
		})
	}
}

// exchange sends a frame each way and checks it arrives intact.
func exchange(t *testing.T, caller, callee *Session, callerCall, calleeCall uint16) {
	t.Helper()
	f := miniFrame()
	pkt, err := caller.Seal(nil, f, callerCall, calleeCall)
	if err != nil {
		t.Fatalf("caller Seal: %v", err)
	}
	h, _ := ParseHeader(pkt)
	got, _, err := callee.Open(nil, pkt)
	if err != nil || !bytes.Equal(got, f) || h.SenderCall != callerCall || h.ReceiverCall != calleeCall {
		t.Fatalf("callee Open = %x, %+v, %v", got, h, err)
	}
	pkt, err = callee.Seal(nil, f, calleeCall, callerCall)
	if err != nil {
		t.Fatalf("callee Seal: %v", err)
	}
	if got, _, err := caller.Open(nil, pkt); err != nil || !bytes.Equal(got, f) {
		t.Fatalf("caller Open = %x, %v", got, err)
	}
}

// TestOfferHidesIdentity (issue 7 item 12): the caller's long-term key does
// not cross in clear; the NEW carries only an ephemeral key and a
// commitment that hides the identity key behind 256 random bits.
func TestOfferHidesIdentity(t *testing.T) {
	a := newIdentity(t)
	pub := a.Public()
	var offers [][]byte
	for range 2 {
		_, offer, err := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
		if err != nil {
			t.Fatalf("NewInitiator: %v", err)
		}
		if bytes.Contains(offer, pub[:]) {
			t.Fatalf("offer contains the caller's identity key")
		}
		offers = append(offers, offer)
	}
	// Nothing in two offers of the same daemon links them.
	for i := markerHeaderLen; i < len(offers[0]); i++ {
		if i == markerHeaderLen+keyLen || i == markerHeaderLen+keyLen+1 || i == markerHeaderLen+keyLen+2 {
			continue // count and cipher ids
		}
		if offers[0][i] == offers[1][i] && bytes.Equal(offers[0][i:min(i+4, len(offers[0]))], offers[1][i:min(i+4, len(offers[1]))]) {
			t.Fatalf("two offers share bytes at %d", i)
		}
	}
}

// TestTamperOffer flips each byte of the offer. Every change must be caught:
// by ParseOffer/Respond (syntax, version, low-order key, no cipher), or by
// Finish, because the whole offer is in the handshake hash that the answer
// is encrypted under. No change may let both sides end up with a session.
func TestTamperOffer(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	for i := 0; ; i++ {
		init, offer, err := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
		if err != nil {
			t.Fatalf("NewInitiator: %v", err)
		}
		if i >= len(offer) {
			break
		}
		offer[i] ^= 0x01
		_, answer, err := Respond(b, offer, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader)
		if err != nil {
			var want error
			switch {
			case i == 0:
				want = ErrVersion
			case i == 1 || i == markerHeaderLen+keyLen:
				want = ErrMarker
			default:
				want = ErrHandshake // e.g. a low-order ephemeral key
			}
			if !errors.Is(err, want) && !errors.Is(err, ErrNoCommonCipher) {
				t.Fatalf("byte %d: Respond error %v, want %v", i, err, want)
			}
			continue
		}
		if _, err := init.Finish(answer, 2, acceptIEs()); !errors.Is(err, ErrHandshake) {
			t.Fatalf("byte %d tampered: Finish error %v, want ErrHandshake", i, err)
		}
	}
}

// TestTamperAnswer flips each byte of the answer: Finish must fail, and a
// later genuine answer must still succeed (a forged ACCEPT cannot kill the
// handshake).
func TestTamperAnswer(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, err := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	rs, answer, err := Respond(b, offer, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	for i := range answer {
		bad := slices.Clone(answer)
		bad[i] ^= 0x80
		_, err := init.Finish(bad, 2, acceptIEs())
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
	if _, err := init.Finish(answer[:len(answer)-1], 2, acceptIEs()); !errors.Is(err, ErrMarker) {
		t.Fatalf("truncated answer: %v, want ErrMarker", err)
	}
	if _, err := init.Finish(offer, 2, acceptIEs()); !errors.Is(err, ErrMarker) {
		t.Fatalf("offer as answer: %v, want ErrMarker", err)
	}
	if _, err := init.Finish(append([]byte{1}, answer[1:]...), 2, acceptIEs()); !errors.Is(err, ErrOldVersion) {
		t.Fatalf("v1 answer: %v, want ErrOldVersion", err)
	}
	is, err := init.Finish(answer, 2, acceptIEs())
	if err != nil {
		t.Fatalf("genuine answer after forgeries: %v", err)
	}
	confirm(t, is, rs)
}

func TestFinishWrongCalleeCall(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
	_, answer, err := Respond(b, offer, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if _, err := init.Finish(answer, 3, acceptIEs()); !errors.Is(err, ErrCallNumber) {
		t.Fatalf("Finish with callee 3: %v, want ErrCallNumber", err)
	}
}

// TestWrongCallerCall: an offer spliced into another call (another source
// call number) makes the prologues differ.
func TestWrongCallerCall(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
	_, answer, err := Respond(b, offer, 7, 2, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if _, err := init.Finish(answer, 2, acceptIEs()); !errors.Is(err, ErrHandshake) {
		t.Fatalf("Finish: %v, want ErrHandshake", err)
	}
}

// TestRewrittenNEW (issue 7 item 6): the NEW's IEs rewritten on the path
// (called number, caller name, an IE added, removed or moved) make the
// prologues differ, so the caller's Finish fails and the call fails
// visibly; the callee never gets a confirmation, so it never shows a SAS.
func TestRewrittenNEW(t *testing.T) {
	orig := newIEs()
	rewrites := map[string][]byte{
		"called number 100 to 900":   bytes.Replace(orig, []byte("100"), []byte("900"), 1),
		"caller name Alice to Boss!": bytes.Replace(orig, []byte("Alice"), []byte("Boss!"), 1),
		"IE removed":                 orig[4:],
		"IE added":                   append(slices.Clone(orig), 13, 3, '9', '0', '0'),
		"IEs reordered":              append(slices.Clone(orig[4:]), orig[:4]...),
		"empty":                      nil,
	}
	a, b := newIdentity(t), newIdentity(t)
	for name, rewritten := range rewrites {
		t.Run(name, func(t *testing.T) {
			init, offer, err := NewInitiator(a, 1, orig, DefaultCiphers(), rand.Reader)
			if err != nil {
				t.Fatalf("NewInitiator: %v", err)
			}
			rs, answer, err := Respond(b, offer, 1, 2, rewritten, acceptIEs(), DefaultCiphers(), rand.Reader)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			if _, err := init.Finish(answer, 2, acceptIEs()); !errors.Is(err, ErrHandshake) {
				t.Fatalf("Finish after the NEW was rewritten: %v, want ErrHandshake", err)
			}
			if rs.Confirmed() {
				t.Fatalf("callee confirmed")
			}
		})
	}
}

// TestRewrittenACCEPT: the ACCEPT's IEs rewritten on the path fail the
// caller's Finish with ErrContext.
func TestRewrittenACCEPT(t *testing.T) {
	orig := acceptIEs()
	rewrites := map[string][]byte{
		"format changed": {9, 4, 0, 0, 0, 4},
		"IE added":       append(slices.Clone(orig), 10, 2, 'e', 'n'),
		"empty":          nil,
	}
	a, b := newIdentity(t), newIdentity(t)
	for name, rewritten := range rewrites {
		t.Run(name, func(t *testing.T) {
			init, offer, _ := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
			_, answer, err := Respond(b, offer, 1, 2, newIEs(), orig, DefaultCiphers(), rand.Reader)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			_, err = init.Finish(answer, 2, rewritten)
			if !errors.Is(err, ErrContext) || !errors.Is(err, ErrHandshake) {
				t.Fatalf("Finish with rewritten ACCEPT IEs: %v, want ErrContext and ErrHandshake", err)
			}
			if _, err := init.Finish(answer, 2, orig); err != nil {
				t.Fatalf("Finish with the genuine IEs after a failure: %v", err)
			}
		})
	}
}

// TestDowngrade: a man in the middle rewrites the offer's cipher list to
// AES only. The responder goes along, but the caller detects it.
func TestDowngrade(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
	const count = markerHeaderLen + keyLen
	if offer[count] != 2 || offer[count+1] != byte(CipherChaCha20Poly1305) {
		t.Fatalf("unexpected offer layout % x", offer[count:])
	}
	mitm := slices.Clone(offer[:count])
	mitm = append(mitm, 1, byte(CipherAES256GCM))
	mitm = append(mitm, offer[count+3:]...)
	rs, answer, err := Respond(b, mitm, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond to rewritten offer: %v", err)
	}
	if rs.Cipher != CipherAES256GCM {
		t.Fatalf("responder chose %v", rs.Cipher)
	}
	if _, err := init.Finish(answer, 2, acceptIEs()); !errors.Is(err, ErrHandshake) {
		t.Fatalf("Finish after downgrade: %v, want ErrHandshake", err)
	}
}

func TestNoCommonCipher(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	_, offer, err := NewInitiator(a, 1, newIEs(), []Cipher{CipherAES256GCM, 0x33}, rand.Reader)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	for _, prefs := range [][]Cipher{{CipherChaCha20Poly1305}, {0x33}, nil} {
		if _, _, err := Respond(b, offer, 1, 2, newIEs(), acceptIEs(), prefs, rand.Reader); !errors.Is(err, ErrNoCommonCipher) {
			t.Fatalf("prefs %v: Respond error %v, want ErrNoCommonCipher", prefs, err)
		}
	}
}

// TestFinishChoiceNotOffered: an answer choosing a cipher the caller did
// not offer is refused (the offer list is in the transcript, so only a
// lying responder gets here; the caller's record is edited to stand in).
func TestFinishChoiceNotOffered(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	init, offer, _ := NewInitiator(a, 1, newIEs(), []Cipher{CipherAES256GCM}, rand.Reader)
	_, answer, err := Respond(b, offer, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader)
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	init.ciphers = []Cipher{CipherChaCha20Poly1305}
	if _, err := init.Finish(answer, 2, acceptIEs()); !errors.Is(err, ErrNoCommonCipher) {
		t.Fatalf("Finish with a choice not offered: %v, want ErrNoCommonCipher", err)
	}
}

func TestHandshakeBadInputs(t *testing.T) {
	a, b := newIdentity(t), newIdentity(t)
	_, offer, _ := NewInitiator(a, 1, newIEs(), DefaultCiphers(), rand.Reader)
	ni := func(id Identity, call uint16, ciphers []Cipher, rng []byte) error {
		r := rand.Reader
		if rng != nil {
			r = bytes.NewReader(rng)
		}
		_, _, err := NewInitiator(id, call, newIEs(), ciphers, r)
		return err
	}
	rsp := func(id Identity, offer []byte, caller, callee uint16) error {
		return third(Respond(id, offer, caller, callee, newIEs(), acceptIEs(), DefaultCiphers(), rand.Reader))
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"empty offer list", ni(a, 1, nil, nil), ErrNoCommonCipher},
		{"nine ciphers", ni(a, 1, make([]Cipher, 9), nil), ErrNoCommonCipher},
		{"caller call 0", ni(a, 0, DefaultCiphers(), nil), ErrCallNumber},
		{"caller call high bit", ni(a, 0x8001, DefaultCiphers(), nil), ErrCallNumber},
		{"zero identity", ni(Identity{}, 1, DefaultCiphers(), nil), ErrHandshake},
		{"rng too short for R", ni(a, 1, DefaultCiphers(), make([]byte, 5)), ErrHandshake},
		{"rng too short for e", ni(a, 1, DefaultCiphers(), make([]byte, 40)), ErrHandshake},
		{"responder zero identity", rsp(Identity{}, offer, 1, 2), ErrHandshake},
		{"responder caller call 0", rsp(b, offer, 0, 2), ErrCallNumber},
		{"callee call high bit", rsp(b, offer, 1, 0x8000), ErrCallNumber},
		{"answer as offer", rsp(b, append([]byte{Version, MarkerAnswer}, offer[2:]...), 1, 2), ErrMarker},
		{"truncated offer", rsp(b, offer[:40], 1, 2), ErrMarker},
		{"trailing byte", rsp(b, append(slices.Clone(offer), 0), 1, 2), ErrMarker},
		{"v1 offer", rsp(b, append([]byte{1, MarkerOffer}, offer[2:]...), 1, 2), ErrOldVersion},
		{"low-order ephemeral", rsp(b, append(append([]byte{Version, MarkerOffer}, make([]byte, 32)...), offer[34:]...), 1, 2), ErrHandshake},
		{"responder short rng", third(Respond(b, offer, 1, 2, newIEs(), acceptIEs(), DefaultCiphers(), bytes.NewReader(nil))), ErrHandshake},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func TestMarkerType(t *testing.T) {
	tests := []struct {
		in   []byte
		want byte
		err  error
	}{
		{nil, 0, ErrMarker},
		{[]byte{2}, 0, ErrMarker},
		{[]byte{1, 1}, 0, ErrOldVersion},
		{[]byte{1, 2, 9}, 0, ErrOldVersion},
		{[]byte{3, 1}, 0, ErrVersion},
		{[]byte{0, 1}, 0, ErrVersion},
		{[]byte{2, 1}, MarkerOffer, nil},
		{[]byte{2, 2, 9}, MarkerAnswer, nil},
		{[]byte{2, 3}, 0, ErrMarker},
	}
	for i, tt := range tests {
		got, err := MarkerType(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("case %d: MarkerType(% x) = %d, %v; want %d, %v", i, tt.in, got, err, tt.want, tt.err)
		}
	}
	if _, err := MarkerType([]byte{1, 1}); errors.Is(err, ErrVersion) {
		t.Errorf("a v1 marker is ErrOldVersion only, so the engine can tell the two apart")
	}
}

func TestParseOfferCounts(t *testing.T) {
	base := append([]byte{Version, MarkerOffer}, seq(9, keyLen)...)
	commit := seq(0x50, commitLen)
	tests := []struct {
		payload []byte
		err     error
	}{
		{append([]byte{0}, commit...), ErrMarker},
		{[]byte{1, 1}, ErrMarker},
		{append([]byte{1, 1}, commit...), nil},
		{append([]byte{1, 1}, commit[1:]...), ErrMarker},
		{append([]byte{2, 1}, commit...), ErrMarker},
		{append([]byte{8, 1, 2, 3, 4, 5, 6, 7, 8}, commit...), nil},
		{append([]byte{9, 1, 2, 3, 4, 5, 6, 7, 8, 9}, commit...), ErrMarker},
	}
	for i, tt := range tests {
		o, err := ParseOffer(append(slices.Clone(base), tt.payload...))
		if !errors.Is(err, tt.err) {
			t.Errorf("case %d: ParseOffer error %v, want %v", i, err, tt.err)
		}
		if err == nil && !bytes.Equal(o.Commitment[:], commit) {
			t.Errorf("case %d: commitment % x", i, o.Commitment)
		}
	}
	if _, err := ParseOffer(append([]byte{Version, MarkerAnswer}, make([]byte, 80)...)); !errors.Is(err, ErrMarker) {
		t.Errorf("answer given to ParseOffer: %v", err)
	}
}

func TestContextIEs(t *testing.T) {
	token := []byte{54, 0}
	marker := []byte{MarkerIE, 3, 2, 1, 0}
	orig := newIEs()
	payload := slices.Concat(orig[:4], token, orig[4:9], marker, orig[9:], []byte{54, 2, 'a', 'b'})
	got, err := ContextIEs([]byte("x"), payload)
	if err != nil || !bytes.Equal(got, append([]byte("x"), orig...)) {
		t.Fatalf("ContextIEs = % x, %v; want x + % x", got, err, orig)
	}
	if got, err := ContextIEs([]byte("x"), append(slices.Clone(orig), 9)); err == nil || string(got) != "x" {
		t.Fatalf("truncated IE: %q, %v; want dst unchanged and an error", got, err)
	}
	if got, err := ContextIEs(nil, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty payload: %v, %v", got, err)
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
	var zero Identity
	if zero.Public() != (PublicKey{}) || zero.Private() != nil {
		t.Fatalf("zero identity has keys")
	}
}
