package crypt

import (
	"crypto/cipher"
	"encoding/binary"
)

const (
	// HeaderLen is the length of the encrypted frame's clear header, which
	// is also the AEAD's additional data.
	HeaderLen = 16
	// flagsLen is the flags byte at the start of every plaintext.
	flagsLen = 1
	// Overhead is what an encrypted frame adds to the frame it carries once
	// the call is confirmed: the header, the flags byte and the AEAD tag.
	Overhead = HeaderLen + flagsLen + tagLen
	// MaxOverhead is what an encrypted frame adds while the caller still
	// sends its confirmation (until the callee acknowledges it).
	MaxOverhead = Overhead + ConfirmationLen
	// MinFrameLen is the shortest IAX2 frame an encrypted frame carries (a
	// mini frame's header).
	MinFrameLen = 4
	// MinPacketLen is the shortest valid encrypted frame.
	MinPacketLen = Overhead + MinFrameLen

	nonceLen = 12
)

// Plaintext flags, the first byte of every sealed frame and trunk entry.
const (
	// flagConfirmation (caller → callee): the caller's confirmation
	// (ConfirmationLen bytes) follows the flags byte, before the frame.
	flagConfirmation = 0x01
	// flagConfirmed (callee → caller): the callee checked the caller's
	// confirmation; the caller may stop sending it.
	flagConfirmed = 0x02
	knownFlags    = flagConfirmation | flagConfirmed
)

// Counter limits: the first counter a direction may not use. 2^64-1 is
// never used (the replay window refuses it). AES-256-GCM stops at 2^29
// frames so that, with frames up to 1,500 bytes, an attacker's advantage
// against its confidentiality stays below 2^-57 (draft-irtf-cfrg-aead-limits);
// ChaCha20-Poly1305 has no such limit below 2^64. See "Rekeying" in
// docs/protocol.md.
const (
	counterLimitChaCha = ^uint64(0)
	counterLimitAESGCM = 1 << 29
)

// Header is the clear part of an encrypted frame.
type Header struct {
	// SenderCall is the sender's IAX2 call number (15 bits).
	SenderCall uint16
	// ReceiverCall is the receiver's IAX2 call number.
	ReceiverCall uint16
	// Counter is the sender's per-direction frame counter, also the nonce.
	Counter uint64
}

// IsEncryptedFrame reports whether b starts like an encrypted frame: a meta
// frame (first 16 bits zero) with command MetaCommand. It does not check the
// version or the length; ParseHeader does.
func IsEncryptedFrame(b []byte) bool {
	return len(b) >= 3 && b[0] == 0 && b[1] == 0 && b[2] == MetaCommand
}

// ParseHeader returns the header of an encrypted frame so the engine can
// find the call before opening it. The fields are not authenticated until
// Open succeeds. A protocol 1 frame gives ErrOldVersion.
func ParseHeader(pkt []byte) (Header, error) {
	if !IsEncryptedFrame(pkt) {
		return Header{}, ErrNotEncrypted
	}
	if len(pkt) < 4 {
		return Header{}, ErrVersion
	}
	switch pkt[3] {
	case Version:
	case versionOne:
		return Header{}, ErrOldVersion
	default:
		return Header{}, ErrVersion
	}
	if len(pkt) < MinPacketLen {
		return Header{}, ErrTooShort
	}
	h := Header{
		SenderCall:   binary.BigEndian.Uint16(pkt[4:]),
		ReceiverCall: binary.BigEndian.Uint16(pkt[6:]),
		Counter:      binary.BigEndian.Uint64(pkt[8:]),
	}
	if h.SenderCall&0x8000 != 0 {
		return Header{}, ErrCallNumber
	}
	return h, nil
}

// putHeader writes the header into b[:HeaderLen].
func putHeader(b []byte, h Header) {
	b[0], b[1], b[2], b[3] = 0, 0, MetaCommand, Version
	binary.BigEndian.PutUint16(b[4:], h.SenderCall)
	binary.BigEndian.PutUint16(b[6:], h.ReceiverCall)
	binary.BigEndian.PutUint64(b[8:], h.Counter)
}

// sealer is one sending direction: key, counter, and scratch space kept in
// the struct so that passing it to the AEAD interface does not allocate.
type sealer struct {
	aead    cipher.AEAD
	counter uint64
	limit   uint64
	nonce   [nonceLen]byte
	ad      [trunkADLen]byte
	key     [32]byte // kept for test vectors; wiped with the session
}

// next reserves the next counter and puts it in the nonce.
func (s *sealer) next() (uint64, error) {
	if s.aead == nil {
		return 0, ErrWiped
	}
	if s.counter >= s.limit {
		return 0, ErrCounterExhausted
	}
	c := s.counter
	s.counter++
	binary.BigEndian.PutUint64(s.nonce[4:], c)
	return c, nil
}

// opener is one receiving direction, with its replay window.
type opener struct {
	aead   cipher.AEAD
	nonce  [nonceLen]byte
	ad     [trunkADLen]byte
	window ReplayWindow
	key    [32]byte
}

// directionKeys derives one direction's transport key from Noise's split
// key and makes the AEAD for it.
func directionKeys(c Cipher, splitKey *[32]byte) (cipher.AEAD, [32]byte, error) {
	key, err := transportKey(c, splitKey)
	if err != nil {
		return nil, key, err
	}
	a, err := newAEAD(c, &key)
	return a, key, err
}
