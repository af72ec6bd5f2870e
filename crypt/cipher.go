package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Cipher identifies a transport AEAD on the wire (one byte in the offer and
// the answer).
type Cipher uint8

// Cipher ids. Ids not listed here may appear in an offer; a responder skips
// them, so a future version can offer new ciphers to an old peer.
const (
	CipherChaCha20Poly1305 Cipher = 0x01
	CipherAES256GCM        Cipher = 0x02
)

// maxOfferCiphers bounds the offer so the marker always fits one IE.
const maxOfferCiphers = 8

// DefaultCiphers returns the preference list used when none is configured:
// ChaCha20-Poly1305 first (constant time without AES hardware), then
// AES-256-GCM.
func DefaultCiphers() []Cipher {
	return []Cipher{CipherChaCha20Poly1305, CipherAES256GCM}
}

// String returns the cipher's name as used in the key schedule
// ("chacha20-poly1305", "aes-256-gcm"), or "cipher(0xNN)" for an unknown id.
func (c Cipher) String() string {
	switch c {
	case CipherChaCha20Poly1305:
		return "chacha20-poly1305"
	case CipherAES256GCM:
		return "aes-256-gcm"
	}
	return fmt.Sprintf("cipher(%#02x)", uint8(c))
}

// Supported reports whether this build implements the cipher.
func (c Cipher) Supported() bool {
	return c == CipherChaCha20Poly1305 || c == CipherAES256GCM
}

// ParseCipher returns the cipher named s (as returned by String).
func ParseCipher(s string) (Cipher, error) {
	for _, c := range DefaultCiphers() {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("cipher %q: %w", s, ErrNoCommonCipher)
}

// transportKey derives one direction's AEAD key from the Noise split output.
// The cipher name is in the info so a key is never shared by two algorithms,
// even if a bug let the two sides disagree on the cipher.
func transportKey(c Cipher, splitKey *[32]byte) ([32]byte, error) {
	var key [32]byte
	k, err := hkdf.Key(sha256.New, splitKey[:], nil, transportLabel+c.String(), len(key))
	if err != nil {
		return key, fmt.Errorf("derive %v key: %w", c, err)
	}
	copy(key[:], k)
	clear(k)
	return key, nil
}

// counterLimit is the first counter a direction using c may not use.
func counterLimit(c Cipher) uint64 {
	if c == CipherAES256GCM {
		return counterLimitAESGCM
	}
	return counterLimitChaCha
}

// newAEAD returns the transport AEAD for c keyed with key. Both have a
// 12-byte nonce and a 16-byte tag, which the frame layout relies on.
//
// Both keep their own copy of the key (ChaCha20-Poly1305) or its expanded
// schedule (AES), which this package cannot reach to wipe.
func newAEAD(c Cipher, key *[32]byte) (cipher.AEAD, error) {
	switch c {
	case CipherChaCha20Poly1305:
		return chacha20poly1305.New(key[:])
	case CipherAES256GCM:
		b, err := aes.NewCipher(key[:])
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	return nil, fmt.Errorf("cipher %v: %w", c, ErrNoCommonCipher)
}
