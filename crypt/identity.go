package crypt

import (
	"crypto/ecdh"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/flynn/noise"
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
type Identity struct {
	priv [32]byte
	pub  PublicKey
	key  *ecdh.PrivateKey // immutable; shared by copies of the Identity
}

// GenerateIdentity makes a new identity from 32 bytes of rng (use
// crypto/rand.Reader).
func GenerateIdentity(rng io.Reader) (Identity, error) {
	var priv [32]byte
	if _, err := io.ReadFull(rng, priv[:]); err != nil {
		return Identity{}, fmt.Errorf("generate identity: %w", err)
	}
	return IdentityFromPrivate(priv[:])
}

// IdentityFromPrivate returns the identity whose 32-byte X25519 private key
// is priv (clamping is applied by X25519 itself, so any 32 bytes work).
func IdentityFromPrivate(priv []byte) (Identity, error) {
	var id Identity
	if len(priv) != len(id.priv) {
		return Identity{}, fmt.Errorf("identity private key is %d bytes, want 32: %w", len(priv), ErrTooShort)
	}
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		return Identity{}, fmt.Errorf("identity key: %w", err)
	}
	id.key = k
	copy(id.priv[:], priv)
	copy(id.pub[:], k.PublicKey().Bytes())
	return id, nil
}

// Public returns the identity's public key.
func (id Identity) Public() PublicKey { return id.pub }

// Private returns a copy of the 32-byte private key, for storing it.
func (id Identity) Private() []byte {
	p := id.priv
	return p[:]
}

func (id Identity) valid() bool { return id.key != nil }

func (id Identity) dhKey() noise.DHKey {
	return noise.DHKey{Private: id.Private(), Public: append([]byte(nil), id.pub[:]...)}
}
