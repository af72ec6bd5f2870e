package crypt

import (
	"fmt"
	"slices"
)

// Wire constants; see docs/protocol.md.
const (
	// MarkerIE is the information element id of the marker in NEW and ACCEPT.
	MarkerIE = 0xC3
	// MetaCommand is the meta-frame command byte of an encrypted frame.
	MetaCommand = 0x45
	// Version is the protocol version in markers and encrypted frames.
	Version = 1
	// MarkerOffer is the marker type of the offer, carried in NEW.
	MarkerOffer = 0x01
	// MarkerAnswer is the marker type of the answer, carried in ACCEPT.
	MarkerAnswer = 0x02
)

const (
	markerHeaderLen = 2  // version, type
	keyLen          = 32 // X25519 public key
	tagLen          = 16 // AEAD tag, both in Noise and in the transport
	answerPayload   = 3  // chosen cipher, callee call number

	// minOfferLen is an offer with one cipher: e, s in clear (IX message 1
	// has no key yet), then count and ids.
	minOfferLen = markerHeaderLen + 2*keyLen + 1 + 1
	// answerLen: e, encrypted s, encrypted payload.
	answerLen = markerHeaderLen + keyLen + keyLen + tagLen + answerPayload + tagLen
)

// Offer is what ParseOffer learns from an offer marker without any
// public-key work. Nothing in it is authenticated yet.
type Offer struct {
	// Ciphers are the caller's cipher ids in its order of preference,
	// unknown ids included.
	Ciphers []Cipher
	// ClaimedIdentity is the static key the offer carries in clear. It is
	// not authenticated until Respond completes: use it for logging, never
	// for decisions.
	ClaimedIdentity PublicKey
}

// MarkerType returns MarkerOffer or MarkerAnswer for a marker IE's data, so
// the engine can branch before parsing. It fails with ErrVersion or ErrMarker.
func MarkerType(marker []byte) (byte, error) {
	if len(marker) < markerHeaderLen {
		return 0, fmt.Errorf("marker of %d bytes: %w", len(marker), ErrMarker)
	}
	if marker[0] != Version {
		return 0, fmt.Errorf("marker version %d: %w", marker[0], ErrVersion)
	}
	switch t := marker[1]; t {
	case MarkerOffer, MarkerAnswer:
		return t, nil
	default:
		return 0, fmt.Errorf("marker type %#02x: %w", t, ErrMarker)
	}
}

// ParseOffer checks the syntax of an offer marker and returns its contents.
// It does no Diffie-Hellman work, so a daemon can parse every NEW it sees
// without giving an attacker a cheap way to burn CPU.
func ParseOffer(marker []byte) (Offer, error) {
	t, err := MarkerType(marker)
	if err != nil {
		return Offer{}, err
	}
	if t != MarkerOffer {
		return Offer{}, fmt.Errorf("marker type %#02x, want offer: %w", t, ErrMarker)
	}
	if len(marker) < minOfferLen {
		return Offer{}, fmt.Errorf("offer of %d bytes: %w", len(marker), ErrMarker)
	}
	var o Offer
	copy(o.ClaimedIdentity[:], marker[markerHeaderLen+keyLen:])
	payload := marker[markerHeaderLen+2*keyLen:]
	n := int(payload[0])
	if n < 1 || n > maxOfferCiphers {
		return Offer{}, fmt.Errorf("offer with %d ciphers: %w", n, ErrMarker)
	}
	if len(payload) != 1+n {
		return Offer{}, fmt.Errorf("offer payload of %d bytes for %d ciphers: %w", len(payload), n, ErrMarker)
	}
	o.Ciphers = make([]Cipher, n)
	for i, b := range payload[1:] {
		o.Ciphers[i] = Cipher(b)
	}
	return o, nil
}

// offerPayload encodes the Noise message 1 payload.
func offerPayload(offer []Cipher) ([]byte, error) {
	if len(offer) < 1 || len(offer) > maxOfferCiphers {
		return nil, fmt.Errorf("offer of %d ciphers, want 1..%d: %w", len(offer), maxOfferCiphers, ErrNoCommonCipher)
	}
	p := make([]byte, 0, 1+len(offer))
	p = append(p, byte(len(offer)))
	for _, c := range offer {
		p = append(p, byte(c))
	}
	return p, nil
}

// choose returns the first cipher of prefs that this build supports and the
// offer contains: the responder's preference decides.
func choose(prefs, offered []Cipher) (Cipher, bool) {
	for _, c := range prefs {
		if c.Supported() && slices.Contains(offered, c) {
			return c, true
		}
	}
	return 0, false
}

// checkAnswer checks an answer marker's syntax.
func checkAnswer(marker []byte) error {
	t, err := MarkerType(marker)
	if err != nil {
		return err
	}
	if t != MarkerAnswer {
		return fmt.Errorf("marker type %#02x, want answer: %w", t, ErrMarker)
	}
	if len(marker) != answerLen {
		return fmt.Errorf("answer of %d bytes, want %d: %w", len(marker), answerLen, ErrMarker)
	}
	return nil
}
