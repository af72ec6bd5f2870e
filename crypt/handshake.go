package crypt

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/flynn/noise"
)

// noiseSuite gives the protocol name Noise_IX_25519_ChaChaPoly_BLAKE2s, with
// a DH that caches this handshake's private keys (see dh25519). The
// handshake's own cipher is fixed; the negotiated cipher is for transport only.
func noiseSuite(id Identity) noise.CipherSuite {
	return noise.NewCipherSuite(newDH(id.key), noise.CipherChaChaPoly, noise.HashBLAKE2s)
}

const prologueLabel = "iaxcrypt/1"

// prologue binds the protocol version and the caller's call number into the
// handshake hash, so a marker cannot be replayed into another call.
func prologue(callerCall uint16) []byte {
	p := make([]byte, 0, len(prologueLabel)+2)
	p = append(p, prologueLabel...)
	return binary.BigEndian.AppendUint16(p, callerCall)
}

func newHandshake(id Identity, initiator bool, callerCall uint16, rng io.Reader) (*noise.HandshakeState, error) {
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noiseSuite(id),
		Random:        rng,
		Pattern:       noise.HandshakeIX,
		Initiator:     initiator,
		Prologue:      prologue(callerCall),
		StaticKeypair: id.dhKey(),
	})
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
// back. It is not safe for concurrent use.
type Initiator struct {
	id         Identity
	callerCall uint16
	offer      []Cipher
	payload    []byte
	ephemeral  []byte // private ephemeral key, to rebuild the state after a failed Finish
	hs         *noise.HandshakeState
	done       bool
}

// NewInitiator starts a handshake for the call whose NEW frame has source
// call number callerCall, offering the ciphers in offer (order of preference,
// 1 to 8 ids). It returns the offer marker, the data of the marker IE to add
// to the NEW; the engine keeps it for retransmissions. rng supplies the
// ephemeral key (crypto/rand.Reader; a fixed reader gives test vectors).
func NewInitiator(id Identity, callerCall uint16, offer []Cipher, rng io.Reader) (*Initiator, []byte, error) {
	if !id.valid() {
		return nil, nil, fmt.Errorf("new initiator: empty identity: %w", ErrHandshake)
	}
	if err := checkCall("caller", callerCall); err != nil {
		return nil, nil, err
	}
	payload, err := offerPayload(offer)
	if err != nil {
		return nil, nil, err
	}
	hs, err := newHandshake(id, true, callerCall, rng)
	if err != nil {
		return nil, nil, err
	}
	marker := make([]byte, 0, minOfferLen+len(offer)-1)
	marker = append(marker, Version, MarkerOffer)
	marker, _, _, err = hs.WriteMessage(marker, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("write offer: %w: %w", ErrHandshake, err)
	}
	i := &Initiator{
		id:         id,
		callerCall: callerCall,
		offer:      slices.Clone(offer),
		payload:    payload,
		ephemeral:  slices.Clone(hs.LocalEphemeral().Private),
		hs:         hs,
	}
	return i, marker, nil
}

// Finish completes the handshake with the answer marker from an ACCEPT
// frame whose source call number is calleeCall. It authenticates the
// responder, checks that the chosen cipher was offered and that the answer
// was made for this callee call number (ErrCallNumber otherwise), and
// returns the session. A failed Finish can be retried with another answer;
// after a successful one, Finish fails.
func (i *Initiator) Finish(answer []byte, calleeCall uint16) (*Session, error) {
	if i.done {
		return nil, fmt.Errorf("finish: handshake already finished: %w", ErrHandshake)
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
	if len(payload) != answerPayload || cs1 == nil {
		return nil, fmt.Errorf("read answer: payload of %d bytes: %w", len(payload), ErrMarker)
	}
	chosen := Cipher(payload[0])
	if !chosen.Supported() || !slices.Contains(i.offer, chosen) {
		return nil, fmt.Errorf("answer chose %v, not offered: %w", chosen, ErrNoCommonCipher)
	}
	if got := binary.BigEndian.Uint16(payload[1:]); got != calleeCall {
		return nil, fmt.Errorf("answer made for callee call %d, ACCEPT from call %d: %w", got, calleeCall, ErrCallNumber)
	}
	s, err := newSession(chosen, hs, cs1, cs2, true)
	if err != nil {
		return nil, err
	}
	i.done = true
	return s, nil
}

// state returns the handshake state after the offer, rebuilding it from the
// stored ephemeral key if a previous Finish consumed it.
func (i *Initiator) state() (*noise.HandshakeState, error) {
	if i.hs != nil {
		return i.hs, nil
	}
	hs, err := newHandshake(i.id, true, i.callerCall, bytes.NewReader(i.ephemeral))
	if err != nil {
		return nil, err
	}
	if _, _, _, err := hs.WriteMessage(nil, i.payload); err != nil {
		return nil, fmt.Errorf("rebuild offer: %w: %w", ErrHandshake, err)
	}
	return hs, nil
}

// Respond completes the responder's side when the callee's application
// sends ACCEPT: offerMarker is the marker of the call's NEW, callerCall that
// NEW's source call number, calleeCall the ACCEPT's source call number. It
// picks the first cipher of prefs that the offer contains (ErrNoCommonCipher
// if none: the call stays in clear), does the Noise work, and returns the
// session and the answer marker to add to the ACCEPT.
func Respond(id Identity, offerMarker []byte, callerCall, calleeCall uint16, prefs []Cipher, rng io.Reader) (*Session, []byte, error) {
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
	hs, err := newHandshake(id, false, callerCall, rng)
	if err != nil {
		return nil, nil, err
	}
	if _, _, _, err := hs.ReadMessage(nil, offerMarker[markerHeaderLen:]); err != nil {
		return nil, nil, fmt.Errorf("read offer: %w: %w", ErrHandshake, err)
	}
	payload := binary.BigEndian.AppendUint16([]byte{byte(chosen)}, calleeCall)
	answer := make([]byte, 0, answerLen)
	answer = append(answer, Version, MarkerAnswer)
	answer, cs1, cs2, err := hs.WriteMessage(answer, payload)
	if err != nil {
		return nil, nil, fmt.Errorf("write answer: %w: %w", ErrHandshake, err)
	}
	if cs1 == nil || len(answer) != answerLen {
		return nil, nil, fmt.Errorf("write answer: %d bytes: %w", len(answer), ErrHandshake)
	}
	s, err := newSession(chosen, hs, cs1, cs2, false)
	if err != nil {
		return nil, nil, err
	}
	return s, answer, nil
}

// Session is the result of a completed handshake, on either side.
type Session struct {
	// Cipher is the negotiated transport cipher.
	Cipher Cipher
	// PeerIdentity is the peer daemon's static key, authenticated by the
	// handshake (but not yet trusted: compare it with a pinned key or have
	// people compare the SAS).
	PeerIdentity PublicKey
	// SAS is the short authentication string, the same on both sides.
	SAS SAS
	// HandshakeHash is the Noise handshake hash, a channel binding.
	HandshakeHash [32]byte
	// Sealer seals this side's outgoing frames.
	Sealer *Sealer
	// Opener opens and replay-checks the peer's frames.
	Opener *Opener
	// Initiator is true on the caller's side.
	Initiator bool
}

// newSession derives the transport keys and SAS. cs1 carries
// initiator→responder, cs2 responder→initiator (Noise Split).
func newSession(c Cipher, hs *noise.HandshakeState, cs1, cs2 *noise.CipherState, initiator bool) (*Session, error) {
	s := &Session{Cipher: c, Initiator: initiator}
	h := hs.ChannelBinding()
	if len(h) != len(s.HandshakeHash) {
		return nil, fmt.Errorf("handshake hash of %d bytes: %w", len(h), ErrHandshake)
	}
	copy(s.HandshakeHash[:], h)
	peer := hs.PeerStatic()
	if len(peer) != len(s.PeerIdentity) {
		return nil, fmt.Errorf("peer static key of %d bytes: %w", len(peer), ErrHandshake)
	}
	copy(s.PeerIdentity[:], peer)

	sas, err := hkdf.Key(sha256.New, s.HandshakeHash[:], nil, "iaxcrypt/1 sas", len(s.SAS))
	if err != nil {
		return nil, fmt.Errorf("derive SAS: %w", err)
	}
	copy(s.SAS[:], sas)

	send, recv := cs1, cs2
	if !initiator {
		send, recv = cs2, cs1
	}
	if s.Sealer, err = newSealer(c, send.UnsafeKey()); err != nil {
		return nil, err
	}
	if s.Opener, err = newOpener(c, recv.UnsafeKey()); err != nil {
		return nil, err
	}
	return s, nil
}
