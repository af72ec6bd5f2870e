package crypt

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// The caller's confirmation (docs/protocol.md, "Confirmation"): its static
// public key, the random value R it committed to in the offer, and a MAC
// proving it holds the static private key.
const (
	revealLen = 32
	macLen    = sha256.Size
	// ConfirmationLen is the size of the confirmation the caller puts in
	// its sealed frames until the callee acknowledges it.
	ConfirmationLen = keyLen + revealLen + macLen
)

// commitment is SHA-256("iaxcrypt/2 commit" || s || R). It hides s (R is
// 256 random bits), and binds the caller to both before it sees the answer.
func commitment(s *PublicKey, r *[revealLen]byte) [commitLen]byte {
	h := sha256.New()
	h.Write([]byte(commitLabel))
	h.Write(s[:])
	h.Write(r[:])
	var c [commitLen]byte
	h.Sum(c[:0])
	return c
}

// confirmMAC is HMAC-SHA256(k, h || s || R) with
// k = HKDF-SHA256(IKM = DH(s, e_callee), salt = h, info = "iaxcrypt/2 confirm").
// Like Noise's "se" token, the DH of the caller's static key with the
// callee's ephemeral key proves the caller holds the private key; keyed
// with the handshake hash too, the proof is for this session only.
func confirmMAC(dh []byte, h *[32]byte, s *PublicKey, r *[revealLen]byte) ([macLen]byte, error) {
	var mac [macLen]byte
	k, err := hkdf.Key(sha256.New, dh, h[:], confirmKeyLabel, sha256.Size)
	if err != nil {
		return mac, fmt.Errorf("derive confirmation key: %w", err)
	}
	m := hmac.New(sha256.New, k)
	clear(k)
	m.Write(h[:])
	m.Write(s[:])
	m.Write(r[:])
	m.Sum(mac[:0])
	return mac, nil
}

// deriveSAS is the first 4 bytes of HKDF-SHA256(IKM = h || s || R,
// info = "iaxcrypt/2 sas"). h is fixed by the answer; s and R by the offer's
// commitment, and R is unknown to anyone but the caller until its first
// sealed frame: nothing an answerer chooses can steer the SAS.
func deriveSAS(h *[32]byte, s *PublicKey, r *[revealLen]byte) (SAS, error) {
	var sas SAS
	var ikm [32 + keyLen + revealLen]byte
	defer clear(ikm[:])
	copy(ikm[:], h[:])
	copy(ikm[32:], s[:])
	copy(ikm[32+keyLen:], r[:])
	out, err := hkdf.Key(sha256.New, ikm[:], nil, sasLabel, len(sas))
	if err != nil {
		return sas, fmt.Errorf("derive SAS: %w", err)
	}
	copy(sas[:], out)
	return sas, nil
}

// confirmation is the caller's side: the blob it sends until the callee
// acknowledges it.
func makeConfirmation(id Identity, h *[32]byte, calleeEphemeral []byte, r *[revealLen]byte) ([ConfirmationLen]byte, error) {
	var blob [ConfirmationLen]byte
	dh, err := ecdhShared(id.k.key, calleeEphemeral)
	if err != nil {
		return blob, fmt.Errorf("confirmation DH: %w: %w", ErrHandshake, err)
	}
	defer clear(dh)
	mac, err := confirmMAC(dh, h, &id.k.pub, r)
	if err != nil {
		return blob, err
	}
	copy(blob[:], id.k.pub[:])
	copy(blob[keyLen:], r[:])
	copy(blob[keyLen+revealLen:], mac[:])
	return blob, nil
}

// checkConfirmation is the callee's check of a received blob against the
// offer's commitment and the proof. It returns the caller's static key and
// the SAS. Any failure is ErrConfirmation.
func (s *Session) checkConfirmation(blob []byte) (PublicKey, SAS, error) {
	var static PublicKey
	var r [revealLen]byte
	defer clear(r[:])
	copy(static[:], blob)
	copy(r[:], blob[keyLen:])
	c := commitment(&static, &r)
	if subtle.ConstantTimeCompare(c[:], s.commit[:]) != 1 {
		return PublicKey{}, SAS{}, ErrConfirmation
	}
	if s.dh == nil || s.dh.ephKey == nil {
		return PublicKey{}, SAS{}, ErrConfirmation
	}
	dh, err := ecdhShared(s.dh.ephKey, static[:]) // fails for a low-order key
	if err != nil {
		return PublicKey{}, SAS{}, ErrConfirmation
	}
	defer clear(dh)
	mac, err := confirmMAC(dh, &s.HandshakeHash, &static, &r)
	if err != nil || !hmac.Equal(mac[:], blob[keyLen+revealLen:ConfirmationLen]) {
		return PublicKey{}, SAS{}, ErrConfirmation
	}
	sas, err := deriveSAS(&s.HandshakeHash, &static, &r)
	if err != nil {
		return PublicKey{}, SAS{}, ErrConfirmation
	}
	return static, sas, nil
}
