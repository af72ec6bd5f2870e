package crypt

import (
	"crypto/ecdh"
	"encoding/base64"
	"fmt"
	"io"
)

// PublicKey is an X25519 public key, the long-term identity of a daemon.
type PublicKey [32]byte

// Fingerprint returns the key in standard base64, as WireGuard prints keys;
// it is what a person compares or pins.
func (k PublicKey) Fingerprint() string {
	return base64.StdEncoding.EncodeToString(k[:])
}

// String returns the fingerprint.
func (k PublicKey) String() string { return k.Fingerprint() }

// ParsePublicKey parses a fingerprint as returned by Fingerprint.
func ParsePublicKey(s string) (PublicKey, error) {
	var k PublicKey
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return k, fmt.Errorf("parse public key: %w", err)
	}
	if len(b) != len(k) {
		return k, fmt.Errorf("parse public key: %d bytes, want %d: %w", len(b), len(k), ErrTooShort)
	}
	copy(k[:], b)
	return k, nil
}

// Identity is a daemon's static X25519 key pair. The zero value is not a
// valid identity; use GenerateIdentity or IdentityFromPrivate.
//
// An Identity is a handle: copies share one immutable key, so passing it to
// every handshake copies no private key material (the private key lives
// once, inside a crypto/ecdh key, for the daemon's lifetime).
type Identity struct {
	k *identityKey
}

type identityKey struct {
	pub PublicKey
	key *ecdh.PrivateKey
}

// GenerateIdentity makes a new identity from 32 bytes of rng (use
// crypto/rand.Reader).
func GenerateIdentity(rng io.Reader) (Identity, error) {
	var priv [32]byte
	defer clear(priv[:])
	if _, err := io.ReadFull(rng, priv[:]); err != nil {
		return Identity{}, fmt.Errorf("generate identity: %w", err)
	}
	return IdentityFromPrivate(priv[:])
}

// IdentityFromPrivate returns the identity whose 32-byte X25519 private key
// is priv (clamping is applied by X25519 itself, so any 32 bytes work). It
// keeps no reference to priv; the caller may wipe it.
func IdentityFromPrivate(priv []byte) (Identity, error) {
	if len(priv) != 32 {
		return Identity{}, fmt.Errorf("identity private key is %d bytes, want 32: %w", len(priv), ErrTooShort)
	}
	key, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		return Identity{}, fmt.Errorf("identity key: %w", err)
	}
	k := &identityKey{key: key}
	copy(k.pub[:], key.PublicKey().Bytes())
	return Identity{k: k}, nil
}

// Public returns the identity's public key.
func (id Identity) Public() PublicKey {
	if id.k == nil {
		return PublicKey{}
	}
	return id.k.pub
}

// Private returns a new copy of the 32-byte private key, for storing it;
// the caller owns (and should wipe) the copy.
func (id Identity) Private() []byte {
	if id.k == nil {
		return nil
	}
	return id.k.key.Bytes()
}

func (id Identity) valid() bool { return id.k != nil }
