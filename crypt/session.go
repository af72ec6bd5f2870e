package crypt

import (
	"crypto/subtle"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/flynn/noise"
)

// Session is the result of a completed handshake, on either side: the keys
// of both directions and the confirmation state.
//
// Seal and Open may run concurrently with each other (one goroutine each);
// neither is safe for concurrent use with itself, and Wipe must not run
// concurrently with either.
type Session struct {
	// The fields Seal and Open read for every frame come first, so that a
	// frame of one of thousands of calls touches as few cache lines as
	// possible; what only the handshake, status and Wipe need follows.

	// Initiator is true on the caller's side.
	Initiator bool
	// confirmCleared: the caller zeroed confirm (owned by Seal).
	confirmCleared bool
	// confirmed: SAS and PeerIdentity are valid (the caller from Finish,
	// the callee once the confirmation checked).
	confirmed atomic.Bool
	// peerConfirmed (caller): the callee acknowledged the confirmation.
	peerConfirmed atomic.Bool
	// failed (callee): a confirmation did not check; every later frame is
	// refused.
	failed atomic.Bool

	send sealer
	recv opener

	// Cipher is the negotiated transport cipher.
	Cipher Cipher
	// PeerIdentity is the peer daemon's static key, authenticated by the
	// handshake (but not yet trusted: compare it with a pinned key or have
	// people compare the SAS). The caller knows it from Finish; the callee
	// only once Confirmed reports true.
	PeerIdentity PublicKey
	// SAS is the short authentication string, the same on both sides of an
	// unattacked call. Valid only once Confirmed reports true (on the
	// caller, from Finish on).
	SAS SAS
	// HandshakeHash is the Noise handshake hash, a channel binding.
	HandshakeHash [32]byte

	// confirm is, on the caller, the blob it sends (zeroed by Seal once the
	// callee acknowledged it); on the callee, the blob that checked, to
	// compare repeats with.
	confirm [ConfirmationLen]byte
	// commit and dh (callee): the offer's commitment and the ephemeral key
	// for the confirmation's DH, dropped once it checked.
	commit [commitLen]byte
	dh     *dh25519
}

// newSession derives the transport keys. cs1 carries initiator→responder,
// cs2 responder→initiator (Noise Split).
func newSession(c Cipher, hs *noise.HandshakeState, cs1, cs2 *noise.CipherState, initiator bool) (*Session, error) {
	s := &Session{Cipher: c, Initiator: initiator}
	h := hs.ChannelBinding()
	if len(h) != len(s.HandshakeHash) {
		return nil, fmt.Errorf("handshake hash of %d bytes: %w", len(h), ErrHandshake)
	}
	copy(s.HandshakeHash[:], h)
	send, recv := cs1, cs2
	if !initiator {
		send, recv = cs2, cs1
	}
	sk, rk := send.UnsafeKey(), recv.UnsafeKey()
	defer clear(sk[:])
	defer clear(rk[:])
	var err error
	if s.send.aead, s.send.key, err = directionKeys(c, &sk); err != nil {
		return nil, err
	}
	if s.recv.aead, s.recv.key, err = directionKeys(c, &rk); err != nil {
		s.Wipe()
		return nil, err
	}
	s.send.limit = counterLimit(c)
	return s, nil
}

// Confirmed reports whether SAS and PeerIdentity are valid: on the caller
// from Finish on, on the callee once a frame carrying the caller's
// confirmation opened and the confirmation checked.
func (s *Session) Confirmed() bool { return s.confirmed.Load() }

// Confirming reports whether the caller still puts its confirmation in
// every frame it seals (MaxOverhead instead of Overhead), because no frame
// from the callee acknowledging it has opened yet. Always false on the
// callee.
func (s *Session) Confirming() bool { return s.Initiator && !s.peerConfirmed.Load() }

// Counter returns the counter the next sealed frame or trunk entry will
// carry.
func (s *Session) Counter() uint64 { return s.send.counter }

// Seal appends to dst the encrypted frame carrying frame (a whole IAX2
// frame of at least MinFrameLen bytes) from localCall (this side's call
// number) to remoteCall. It adds the flags byte, and on the caller the
// confirmation, itself. It does not allocate when
// cap(dst)-len(dst) >= len(frame)+MaxOverhead. To seal in place, the frame
// may sit anywhere in dst's spare capacity (for example at
// buf[MaxOverhead-tagLen:] or buf[Overhead-tagLen:] with dst = buf[:0]):
// it is moved into place before the header is written.
func (s *Session) Seal(dst, frame []byte, localCall, remoteCall uint16) ([]byte, error) {
	if len(frame) < MinFrameLen {
		return dst, ErrTooShort
	}
	if localCall&0x8000 != 0 {
		return dst, ErrCallNumber
	}
	if s.failed.Load() {
		return dst, ErrConfirmation
	}
	flags, blob := s.outFlags()
	ctr, err := s.send.next()
	if err != nil {
		return dst, err
	}
	n := len(dst)
	pre := HeaderLen + flagsLen + len(blob)
	dst = slices.Grow(dst, pre+len(frame)+tagLen)
	buf := dst[:n+pre+len(frame)]
	copy(buf[n+pre:], frame) // first: frame may overlap where the header goes
	putHeader(buf[n:], Header{SenderCall: localCall, ReceiverCall: remoteCall, Counter: ctr})
	buf[n+HeaderLen] = flags
	copy(buf[n+HeaderLen+flagsLen:], blob)
	return s.send.aead.Seal(buf[:n+HeaderLen], s.send.nonce[:], buf[n+HeaderLen:], buf[n:n+HeaderLen]), nil
}

// outFlags returns the flags byte and confirmation for the next sealed
// frame.
func (s *Session) outFlags() (byte, []byte) {
	if !s.Initiator {
		if s.confirmed.Load() {
			return flagConfirmed, nil
		}
		return 0, nil
	}
	if !s.peerConfirmed.Load() {
		return flagConfirmation, s.confirm[:]
	}
	if !s.confirmCleared {
		clear(s.confirm[:]) // R is no longer needed
		s.confirmCleared = true
	}
	return 0, nil
}

// Open authenticates and decrypts the encrypted frame pkt, appends the IAX2
// frame it carries to dst, and returns it. The counter goes through the
// replay window only after authentication (ErrReplayed). confirmedNow is
// true exactly once per session: on the callee when the caller's
// confirmation checked (SAS and PeerIdentity are now set), on the caller
// when the callee's first acknowledgement arrived. A confirmation that does
// not check, or a caller's frame without one before it checked, gives
// ErrConfirmation and the session refuses everything afterwards: the call
// must fail. It does not allocate when dst has room for the plaintext
// (len(pkt)-HeaderLen-tagLen bytes); dst = pkt[HeaderLen:HeaderLen]
// decrypts in place. On error dst is returned unchanged, but the bytes after
// len(dst) may have been overwritten.
func (s *Session) Open(dst, pkt []byte) (frame []byte, confirmedNow bool, err error) {
	h, err := ParseHeader(pkt)
	if err != nil {
		return dst, false, err
	}
	if s.recv.aead == nil {
		return dst, false, ErrWiped
	}
	if s.failed.Load() {
		return dst, false, ErrConfirmation
	}
	n := len(dst)
	copy(s.recv.nonce[4:], pkt[8:HeaderLen])
	out, err := s.recv.aead.Open(dst, s.recv.nonce[:], pkt[HeaderLen:], pkt[:HeaderLen])
	if err != nil {
		return dst, false, ErrAuthentication
	}
	if !s.recv.window.Accept(h.Counter) {
		return dst, false, ErrReplayed
	}
	body, confirmedNow, err := s.inFlags(out[n:], true)
	if err != nil {
		return dst, false, err
	}
	if len(body) < MinFrameLen {
		return dst, false, ErrTooShort
	}
	m := copy(out[n:], body)
	return out[:n+m], confirmedNow, nil
}

// inFlags checks the flags byte at the start of an authentic plaintext,
// handles the confirmation, and returns the rest.
func (s *Session) inFlags(pt []byte, frame bool) ([]byte, bool, error) {
	if len(pt) < flagsLen {
		return nil, false, ErrTooShort
	}
	f, body := pt[0], pt[flagsLen:]
	if f&^knownFlags != 0 {
		return nil, false, ErrFlags
	}
	if s.Initiator {
		if f&flagConfirmation != 0 {
			return nil, false, ErrFlags
		}
		now := f&flagConfirmed != 0 && s.peerConfirmed.CompareAndSwap(false, true)
		return body, now, nil
	}
	if f&flagConfirmed != 0 || (f&flagConfirmation != 0 && !frame) {
		return nil, false, ErrFlags
	}
	if f&flagConfirmation == 0 {
		if !s.confirmed.Load() {
			return nil, false, s.fail()
		}
		return body, false, nil
	}
	if len(body) < ConfirmationLen {
		return nil, false, s.fail()
	}
	blob, body := body[:ConfirmationLen], body[ConfirmationLen:]
	if s.confirmed.Load() {
		if subtle.ConstantTimeCompare(blob, s.confirm[:]) != 1 {
			return nil, false, s.fail()
		}
		return body, false, nil
	}
	peer, sas, err := s.checkConfirmation(blob)
	if err != nil {
		return nil, false, s.fail()
	}
	s.PeerIdentity, s.SAS = peer, sas
	copy(s.confirm[:], blob)
	s.dh.wipe()
	s.dh = nil
	s.confirmed.Store(true)
	return body, true, nil
}

// fail latches the callee's session into refusing everything.
func (s *Session) fail() error {
	s.failed.Store(true)
	if s.dh != nil {
		s.dh.wipe()
		s.dh = nil
	}
	return ErrConfirmation
}

// Wipe zeroes every key this package holds for the session: both transport
// keys, the callee's ephemeral private key (if the confirmation never
// came), the confirmation (it holds R) and the commitment, and drops the
// AEAD objects; Seal and Open then fail with ErrWiped. SAS, PeerIdentity and
// HandshakeHash stay (they are public, and status shows them after the
// call).
//
// What it cannot wipe: the key copy inside each AEAD object
// (golang.org/x/crypto's ChaCha20-Poly1305 keeps the key, crypto/aes its
// expanded schedule), the private key copy inside crypto/ecdh keys, and
// flynn/noise's chaining key and handshake cipher keys, none of which those
// packages expose; they become garbage when the session is dropped and are
// overwritten whenever the memory is reused, not before.
func (s *Session) Wipe() {
	clear(s.send.key[:])
	clear(s.recv.key[:])
	s.send.aead, s.recv.aead = nil, nil
	clear(s.confirm[:])
	clear(s.commit[:])
	if s.dh != nil {
		s.dh.wipe()
		s.dh = nil
	}
}
