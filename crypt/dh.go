package crypt

import (
	"crypto/ecdh"
	"fmt"
	"io"

	"github.com/flynn/noise"
)

// dh25519 is Noise's "25519" function over crypto/ecdh for one handshake.
//
// It hands flynn/noise handles instead of private keys: the static key's
// "private key" is a one-byte slice of this struct, the ephemeral's is the
// struct's own array. DH recognises them by address, so
//   - the identity's private key is never copied for a handshake (it stays
//     inside its crypto/ecdh key), and
//   - the only copy of the ephemeral private key that this package can
//     reach is eph, which wipe zeroes (crypto/ecdh keeps its own copy in
//     ephKey, out of reach; wipe drops the reference).
//
// Each DH costs one scalar multiplication because the crypto/ecdh keys are
// parsed once (curve25519.X25519 would recompute the public key each call).
type dh25519 struct {
	static       *ecdh.PrivateKey // nil for the NX initiator, which has no static key in Noise
	staticHandle [1]byte
	eph          [32]byte
	ephKey       *ecdh.PrivateKey
}

// GenerateKeypair reads 32 bytes from rng as the ephemeral private key,
// exactly as flynn/noise's own 25519 does, so test vectors stay
// reproducible. Called again (a rebuilt handshake state), it returns the
// same key without reading.
func (d *dh25519) GenerateKeypair(rng io.Reader) (noise.DHKey, error) {
	if d.ephKey == nil {
		if _, err := io.ReadFull(rng, d.eph[:]); err != nil {
			return noise.DHKey{}, fmt.Errorf("ephemeral key: %w", err)
		}
		k, err := ecdh.X25519().NewPrivateKey(d.eph[:])
		if err != nil {
			return noise.DHKey{}, err
		}
		d.ephKey = k
	}
	return noise.DHKey{Private: d.eph[:], Public: d.ephKey.PublicKey().Bytes()}, nil
}

// staticKeypair is what flynn/noise gets as the responder's static key.
func (d *dh25519) staticKeypair(pub *PublicKey) noise.DHKey {
	return noise.DHKey{Private: d.staticHandle[:], Public: pub[:]}
}

// DH fails for a low-order public key (an all-zero shared secret) and for a
// private key that is not one of this handshake's handles.
func (d *dh25519) DH(priv, pub []byte) ([]byte, error) {
	var k *ecdh.PrivateKey
	switch {
	case len(priv) == len(d.staticHandle) && &priv[0] == &d.staticHandle[0]:
		k = d.static
	case len(priv) == len(d.eph) && &priv[0] == &d.eph[0]:
		k = d.ephKey
	}
	if k == nil {
		return nil, fmt.Errorf("dh: unknown or wiped private key: %w", ErrHandshake)
	}
	return ecdhShared(k, pub)
}

func (d *dh25519) DHLen() int     { return 32 }
func (d *dh25519) DHName() string { return "25519" }

// wipe zeroes the ephemeral private key and drops the crypto/ecdh copies.
func (d *dh25519) wipe() {
	clear(d.eph[:])
	d.ephKey = nil
	d.static = nil
}

// ecdhShared is X25519(k, pub); it fails for a low-order pub.
func ecdhShared(k *ecdh.PrivateKey, pub []byte) ([]byte, error) {
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return k.ECDH(p)
}
