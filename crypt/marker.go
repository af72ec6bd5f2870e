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
	// TrunkMetaCommand is the meta-frame command byte of an encrypted trunk
	// frame.
	TrunkMetaCommand = 0x46
	// Version is the protocol version in markers and encrypted frames.
	Version = 2
	// versionOne is the first protocol (Noise IX, no commitment); its
	// markers and frames are recognised only to say so (ErrOldVersion).
	versionOne = 1
	// MarkerOffer is the marker type of the offer, carried in NEW.
	MarkerOffer = 0x01
	// MarkerAnswer is the marker type of the answer, carried in ACCEPT.
	MarkerAnswer = 0x02
)

const (
	markerHeaderLen = 2  // version, type
	keyLen          = 32 // X25519 public key
	tagLen          = 16 // AEAD tag, both in Noise and in the transport
	commitLen       = 32 // SHA-256 commitment in the offer
	digestLen       = 32 // SHA-256 of the ACCEPT's IEs in the answer

	// answerPayloadLen: chosen cipher, callee call number, ACCEPT IE digest.
	answerPayloadLen = 1 + 2 + digestLen

	// minOfferLen is an offer with one cipher: e in clear (NX message 1),
	// then the payload (count, ids, commitment), also in clear.
	minOfferLen = markerHeaderLen + keyLen + 1 + 1 + commitLen
	// answerLen: e, encrypted s, encrypted payload.
	answerLen = markerHeaderLen + keyLen + keyLen + tagLen + answerPayloadLen + tagLen
)

// Offer is what ParseOffer learns from an offer marker without any
// public-key work. Nothing in it is authenticated.
type Offer struct {
	// Ciphers are the caller's cipher ids in its order of preference,
	// unknown ids included.
	Ciphers []Cipher
	// Commitment is the caller's commitment to its identity key and its
	// random reveal value (see "Confirmation" in docs/protocol.md).
	Commitment [commitLen]byte
}

// MarkerType returns MarkerOffer or MarkerAnswer for a marker IE's data, so
// the engine can branch before parsing. It fails with ErrOldVersion for a
// protocol 1 marker, ErrVersion for any other version, ErrMarker otherwise.
func MarkerType(marker []byte) (byte, error) {
	if len(marker) < markerHeaderLen {
		return 0, fmt.Errorf("marker of %d bytes: %w", len(marker), ErrMarker)
	}
	switch marker[0] {
	case Version:
	case versionOne:
		return 0, fmt.Errorf("marker: %w", ErrOldVersion)
	default:
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
	payload := marker[markerHeaderLen+keyLen:]
	n := int(payload[0])
	if n < 1 || n > maxOfferCiphers {
		return Offer{}, fmt.Errorf("offer with %d ciphers: %w", n, ErrMarker)
	}
	if len(payload) != 1+n+commitLen {
		return Offer{}, fmt.Errorf("offer payload of %d bytes for %d ciphers: %w", len(payload), n, ErrMarker)
	}
	var o Offer
	o.Ciphers = make([]Cipher, n)
	for i, b := range payload[1 : 1+n] {
		o.Ciphers[i] = Cipher(b)
	}
	copy(o.Commitment[:], payload[1+n:])
	return o, nil
}

// offerPayload encodes the Noise message 1 payload: count, ids, commitment.
func offerPayload(offer []Cipher, commit *[commitLen]byte) ([]byte, error) {
	if len(offer) < 1 || len(offer) > maxOfferCiphers {
		return nil, fmt.Errorf("offer of %d ciphers, want 1..%d: %w", len(offer), maxOfferCiphers, ErrNoCommonCipher)
	}
	p := make([]byte, 0, 1+len(offer)+commitLen)
	p = append(p, byte(len(offer)))
	for _, c := range offer {
		p = append(p, byte(c))
	}
	return append(p, commit[:]...), nil
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
