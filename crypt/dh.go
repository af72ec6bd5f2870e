package crypt

import (
	"crypto/ecdh"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/flynn/noise"
)

// dh25519 is Noise's "25519" function over crypto/ecdh. It remembers the
// ecdh.PrivateKey of the static key and of the ephemeral key it generates,
// so each Diffie-Hellman costs one scalar multiplication:
// curve25519.X25519, which flynn/noise uses, recomputes the public key on
// every call and so costs two. One value serves one handshake.
type dh25519 struct {
	keys []*ecdh.PrivateKey
}

func newDH(static *ecdh.PrivateKey) *dh25519 {
	return &dh25519{keys: []*ecdh.PrivateKey{static}}
}

// GenerateKeypair reads 32 bytes from rng as the private key, exactly as
// flynn/noise's own 25519 does, so test vectors stay reproducible.
func (d *dh25519) GenerateKeypair(rng io.Reader) (noise.DHKey, error) {
	var priv [32]byte
	if _, err := io.ReadFull(rng, priv[:]); err != nil {
		return noise.DHKey{}, fmt.Errorf("ephemeral key: %w", err)
	}
	k, err := ecdh.X25519().NewPrivateKey(priv[:])
	if err != nil {
		return noise.DHKey{}, err
	}
	d.keys = append(d.keys, k)
	return noise.DHKey{Private: priv[:], Public: k.PublicKey().Bytes()}, nil
}

// DH fails for a low-order public key (an all-zero shared secret).
func (d *dh25519) DH(priv, pub []byte) ([]byte, error) {
	var k *ecdh.PrivateKey
	for _, c := range d.keys {
		if subtle.ConstantTimeCompare(c.Bytes(), priv) == 1 {
			k = c
		}
	}
	if k == nil {
		var err error
		if k, err = ecdh.X25519().NewPrivateKey(priv); err != nil {
			return nil, err
		}
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return k.ECDH(p)
}

func (d *dh25519) DHLen() int     { return 32 }
func (d *dh25519) DHName() string { return "25519" }
