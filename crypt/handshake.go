package crypt

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/flynn/noise"
)

// newHandshake makes the Noise_NX_25519_ChaChaPoly_BLAKE2s state. The
// handshake's own cipher is fixed; the negotiated cipher is for transport
// only. The NX initiator has no static key in Noise (its identity travels
// sealed in the confirmation); the responder's static key is a handle (see
// dh25519), never a copy of the identity's private key.
func newHandshake(d *dh25519, responder *PublicKey, prologue []byte, rng io.Reader) (*noise.HandshakeState, error) {
	cfg := noise.Config{
		CipherSuite: noise.NewCipherSuite(d, noise.CipherChaChaPoly, noise.HashBLAKE2s),
		Random:      rng,
		Pattern:     noise.HandshakeNX,
		Initiator:   responder == nil,
		Prologue:    prologue,
	}
	if responder != nil {
		cfg.StaticKeypair = d.staticKeypair(responder)
	}
	hs, err := noise.NewHandshakeState(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return hs, nil
}

// checkCall rejects call numbers IAX2 cannot carry (15 bits; 0 is "unknown").
func checkCall(name string, n uint16) error {
	if n == 0 || n&0x8000 != 0 {
		return fmt.Errorf("%s call number %#04x: %w", name, n, ErrCallNumber)
	}
	return nil
}

// Initiator is the caller's side of one handshake: made when the
// application's NEW goes out, finished when the ACCEPT with an answer comes
// back. It is not safe for concurrent use. Wipe it when the call ends
// without a session (a successful Finish wipes it itself).
type Initiator struct {
	id         Identity
	callerCall uint16
	ciphers    []Cipher
	prologue   []byte
	payload    []byte // offer payload, to rebuild the state after a failed Finish
	r          [revealLen]byte
	dh         dh25519
	hs         *noise.HandshakeState
	done       bool
	wiped      bool
}

// NewInitiator starts a handshake for the call whose NEW frame has source
// call number callerCall and information elements newIEs (the NEW's payload
// as ContextIEs returns it: without the marker and CALLTOKEN), offering
// ciphers (order of preference, 1 to 8 ids). It returns the offer marker,
// the data of the marker IE to add to the NEW; the engine keeps it for
// retransmissions. rng supplies 32 bytes of R (the committed reveal value)
// then 32 bytes of ephemeral key (crypto/rand.Reader; a fixed reader gives
// test vectors).
func NewInitiator(id Identity, callerCall uint16, newIEs []byte, ciphers []Cipher, rng io.Reader) (*Initiator, []byte, error) {
	if !id.valid() {
		return nil, nil, fmt.Errorf("new initiator: empty identity: %w", ErrHandshake)
	}
	if err := checkCall("caller", callerCall); err != nil {
		return nil, nil, err
	}
	i := &Initiator{id: id, callerCall: callerCall, ciphers: slices.Clone(ciphers), prologue: prologue(callerCall, newIEs)}
	if _, err := io.ReadFull(rng, i.r[:]); err != nil {
		return nil, nil, fmt.Errorf("new initiator: reveal value: %w: %w", ErrHandshake, err)
	}
	commit := commitment(&id.k.pub, &i.r)
	payload, err := offerPayload(ciphers, &commit)
	if err != nil {
		i.Wipe()
		return nil, nil, err
	}
	i.payload = payload
	hs, err := newHandshake(&i.dh, nil, i.prologue, rng)
	if err != nil {
		i.Wipe()
		return nil, nil, err
	}
	marker := make([]byte, 0, minOfferLen+len(ciphers)-1)
	marker = append(marker, Version, MarkerOffer)
	marker, _, _, err = hs.WriteMessage(marker, payload)
	if err != nil {
		i.Wipe()
		return nil, nil, fmt.Errorf("write offer: %w: %w", ErrHandshake, err)
	}
	i.hs = hs
	return i, marker, nil
}

// Finish completes the handshake with the answer marker from an ACCEPT
// frame whose source call number is calleeCall and whose other information
// elements are acceptIEs (as ContextIEs returns them). It authenticates the
// responder, checks that the chosen cipher was offered (ErrNoCommonCipher),
// that the answer was made for this callee call number (ErrCallNumber) and
// for these ACCEPT IEs (ErrContext), and returns the session with SAS and
// PeerIdentity set. A NEW rewritten on the path fails here with
// ErrHandshake. A failed Finish can be retried with another answer; after a
// successful one Finish fails, and the Initiator is wiped.
func (i *Initiator) Finish(answer []byte, calleeCall uint16, acceptIEs []byte) (*Session, error) {
	if i.done {
		return nil, fmt.Errorf("finish: handshake already finished: %w", ErrHandshake)
	}
	if i.wiped {
		return nil, fmt.Errorf("finish: %w", ErrWiped)
	}
	if err := checkAnswer(answer); err != nil {
		return nil, err
	}
	hs, err := i.state()
	if err != nil {
		return nil, err
	}
	// A failed ReadMessage can leave the Noise state half-updated, so the
	// state is used once and rebuilt for a retry.
	i.hs = nil
	payload, cs1, cs2, err := hs.ReadMessage(nil, answer[markerHeaderLen:])
	if err != nil {
		return nil, fmt.Errorf("read answer: %w: %w", ErrHandshake, err)
	}
	if len(payload) != answerPayloadLen || cs1 == nil {
		return nil, fmt.Errorf("read answer: payload of %d bytes: %w", len(payload), ErrMarker)
	}
	chosen := Cipher(payload[0])
	if !chosen.Supported() || !slices.Contains(i.ciphers, chosen) {
		return nil, fmt.Errorf("answer chose %v, not offered: %w", chosen, ErrNoCommonCipher)
	}
	if got := binary.BigEndian.Uint16(payload[1:]); got != calleeCall {
		return nil, fmt.Errorf("answer made for callee call %d, ACCEPT from call %d: %w", got, calleeCall, ErrCallNumber)
	}
	if d := ieDigest(acceptIEsLabel, acceptIEs); subtle.ConstantTimeCompare(d[:], payload[3:]) != 1 {
		return nil, fmt.Errorf("finish: the callee's ACCEPT IEs differ from the ones received: %w: %w", ErrHandshake, ErrContext)
	}
	s, err := newSession(chosen, hs, cs1, cs2, true)
	if err != nil {
		return nil, err
	}
	copy(s.PeerIdentity[:], hs.PeerStatic())
	if s.confirm, err = makeConfirmation(i.id, &s.HandshakeHash, hs.PeerEphemeral(), &i.r); err != nil {
		s.Wipe()
		return nil, err
	}
	if s.SAS, err = deriveSAS(&s.HandshakeHash, &i.id.k.pub, &i.r); err != nil {
		s.Wipe()
		return nil, err
	}
	s.confirmed.Store(true) // the caller's own side needs no confirmation
	i.done = true
	i.Wipe()
	return s, nil
}

// state returns the handshake state after the offer, rebuilding it from the
// kept ephemeral key if a previous Finish consumed it.
func (i *Initiator) state() (*noise.HandshakeState, error) {
	if i.hs != nil {
		return i.hs, nil
	}
	hs, err := newHandshake(&i.dh, nil, i.prologue, nil)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := hs.WriteMessage(nil, i.payload); err != nil {
		return nil, fmt.Errorf("rebuild offer: %w: %w", ErrHandshake, err)
	}
	return hs, nil
}

// Wipe zeroes the initiator's secrets (the ephemeral private key and R) and
// drops the Noise state; Finish then fails with ErrWiped. The engine calls
// it when a call ends before a session exists. See Session.Wipe for what
// cannot be wiped.
func (i *Initiator) Wipe() {
	i.dh.wipe()
	clear(i.r[:])
	i.hs = nil
	i.wiped = true
}

// Respond completes the responder's side when the callee's application
// sends ACCEPT: offerMarker is the marker of the call's NEW, callerCall and
// newIEs that NEW's source call number and IEs (as received, through
// ContextIEs), calleeCall and acceptIEs the ACCEPT's source call number and
// IEs (as the application sent them, through ContextIEs). It picks the
// first cipher of prefs that the offer contains (ErrNoCommonCipher if none:
// the call stays in clear), does the Noise work, and returns the session and
// the answer marker to add to the ACCEPT. rng supplies the 32-byte
// ephemeral key.
//
// The session is not confirmed: it has no SAS and no PeerIdentity until a
// frame from the caller carrying its confirmation opens (Session.Open
// reports confirmedNow).
func Respond(id Identity, offerMarker []byte, callerCall, calleeCall uint16, newIEs, acceptIEs []byte, prefs []Cipher, rng io.Reader) (*Session, []byte, error) {
	if !id.valid() {
		return nil, nil, fmt.Errorf("respond: empty identity: %w", ErrHandshake)
	}
	if err := checkCall("caller", callerCall); err != nil {
		return nil, nil, err
	}
	if err := checkCall("callee", calleeCall); err != nil {
		return nil, nil, err
	}
	offer, err := ParseOffer(offerMarker)
	if err != nil {
		return nil, nil, err
	}
	chosen, ok := choose(prefs, offer.Ciphers)
	if !ok {
		return nil, nil, fmt.Errorf("offer %v, ours %v: %w", offer.Ciphers, prefs, ErrNoCommonCipher)
	}
	d := &dh25519{static: id.k.key}
	hs, err := newHandshake(d, &id.k.pub, prologue(callerCall, newIEs), rng)
	if err != nil {
		return nil, nil, err
	}
	if _, _, _, err := hs.ReadMessage(nil, offerMarker[markerHeaderLen:]); err != nil {
		d.wipe()
		return nil, nil, fmt.Errorf("read offer: %w: %w", ErrHandshake, err)
	}
	payload := make([]byte, 0, answerPayloadLen)
	payload = append(payload, byte(chosen))
	payload = binary.BigEndian.AppendUint16(payload, calleeCall)
	digest := ieDigest(acceptIEsLabel, acceptIEs)
	payload = append(payload, digest[:]...)
	answer := make([]byte, 0, answerLen)
	answer = append(answer, Version, MarkerAnswer)
	answer, cs1, cs2, err := hs.WriteMessage(answer, payload)
	if err != nil {
		d.wipe()
		return nil, nil, fmt.Errorf("write answer: %w: %w", ErrHandshake, err)
	}
	if cs1 == nil || len(answer) != answerLen {
		d.wipe()
		return nil, nil, fmt.Errorf("write answer: %d bytes: %w", len(answer), ErrHandshake)
	}
	s, err := newSession(chosen, hs, cs1, cs2, false)
	if err != nil {
		d.wipe()
		return nil, nil, err
	}
	// Keep the ephemeral key for the confirmation's DH; the static handle
	// is no longer needed.
	d.static = nil
	s.dh = d
	s.commit = offer.Commitment
	return s, answer, nil
}
