package crypt

import (
	"crypto/cipher"
	"encoding/binary"
	"slices"
)

const (
	// HeaderLen is the length of the encrypted frame's clear header, which
	// is also the AEAD's additional data.
	HeaderLen = 16
	// Overhead is what an encrypted frame adds to the frame it carries:
	// the header and the AEAD tag.
	Overhead = HeaderLen + tagLen
	// MinFrameLen is the shortest IAX2 frame an encrypted frame carries (a
	// mini frame's header).
	MinFrameLen = 4
	// MinPacketLen is the shortest valid encrypted frame.
	MinPacketLen = Overhead + MinFrameLen

	nonceLen = 12
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
// Open succeeds.
func ParseHeader(pkt []byte) (Header, error) {
	if !IsEncryptedFrame(pkt) {
		return Header{}, ErrNotEncrypted
	}
	if len(pkt) < 4 || pkt[3] != Version {
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

// Sealer encrypts one direction of a call. It is not safe for concurrent
// use; the Sealer and the Opener of one Session may be used concurrently.
type Sealer struct {
	aead    cipher.AEAD
	key     [32]byte // kept for test vectors
	counter uint64
	nonce   [nonceLen]byte // in the struct so passing it to the AEAD does not allocate
}

// directionAEAD derives one direction's transport key from Noise's split
// key and makes the AEAD for it.
func directionAEAD(c Cipher, splitKey [32]byte) (cipher.AEAD, [32]byte, error) {
	key, err := transportKey(c, splitKey)
	if err != nil {
		return nil, key, err
	}
	a, err := newAEAD(c, key)
	return a, key, err
}

func newSealer(c Cipher, splitKey [32]byte) (*Sealer, error) {
	a, key, err := directionAEAD(c, splitKey)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: a, key: key}, nil
}

// Counter returns the counter the next sealed frame will carry.
func (s *Sealer) Counter() uint64 { return s.counter }

// Seal appends to dst the encrypted frame carrying frame (a whole IAX2
// frame of at least MinFrameLen bytes) from senderCall to receiverCall. It
// does not allocate when cap(dst)-len(dst) >= len(frame)+Overhead. To seal
// in place, put the frame at buf[HeaderLen:] and pass dst = buf[:0].
func (s *Sealer) Seal(dst, frame []byte, senderCall, receiverCall uint16) ([]byte, error) {
	if len(frame) < MinFrameLen {
		return dst, ErrTooShort
	}
	if senderCall&0x8000 != 0 {
		return dst, ErrCallNumber
	}
	if s.counter == ^uint64(0) {
		return dst, ErrCounterExhausted
	}
	n := len(dst)
	dst = slices.Grow(dst, len(frame)+Overhead)[:n+HeaderLen]
	putHeader(dst[n:], Header{SenderCall: senderCall, ReceiverCall: receiverCall, Counter: s.counter})
	copy(s.nonce[4:], dst[n+8:n+HeaderLen])
	out := s.aead.Seal(dst, s.nonce[:], frame, dst[n:n+HeaderLen])
	s.counter++
	return out, nil
}

// Opener decrypts one direction of a call and rejects replays. It is not
// safe for concurrent use; the Sealer and the Opener of one Session may be
// used concurrently.
type Opener struct {
	aead   cipher.AEAD
	key    [32]byte // kept for test vectors
	nonce  [nonceLen]byte
	window ReplayWindow
}

func newOpener(c Cipher, splitKey [32]byte) (*Opener, error) {
	a, key, err := directionAEAD(c, splitKey)
	if err != nil {
		return nil, err
	}
	return &Opener{aead: a, key: key}, nil
}

// Open authenticates and decrypts the encrypted frame pkt, appends the IAX2
// frame it carries to dst, and returns it with the header. The counter goes
// through the replay window only after authentication (ErrReplayed). It
// does not allocate when dst has room for the frame; dst = pkt[HeaderLen:HeaderLen]
// decrypts in place. On error dst is returned unchanged, but the bytes after
// len(dst) may have been overwritten.
func (o *Opener) Open(dst, pkt []byte) ([]byte, Header, error) {
	h, err := ParseHeader(pkt)
	if err != nil {
		return dst, Header{}, err
	}
	copy(o.nonce[4:], pkt[8:HeaderLen])
	out, err := o.aead.Open(dst, o.nonce[:], pkt[HeaderLen:], pkt[:HeaderLen])
	if err != nil {
		return dst, Header{}, ErrAuthentication
	}
	if !o.window.Accept(h.Counter) {
		return dst, Header{}, ErrReplayed
	}
	return out, h, nil
}
