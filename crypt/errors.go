package crypt

import "errors"

// Errors returned by the package. Functions on the packet path (ParseHeader,
// Session.Seal, Session.Open, the trunk builder and reader) return these
// sentinels unwrapped so a flood of bad packets costs no allocation;
// handshake functions wrap them with context.
var (
	// ErrNotEncrypted means the packet is not an iaxcrypt encrypted frame
	// (or, for ReadTrunk, not an encrypted trunk frame).
	ErrNotEncrypted = errors.New("crypt: not an encrypted frame")
	// ErrTooShort means a packet or frame is shorter than its format allows.
	ErrTooShort = errors.New("crypt: too short")
	// ErrTooLong means a frame or trunk entry is longer than the format can
	// carry (a trunk entry's sealed length must fit 16 bits).
	ErrTooLong = errors.New("crypt: too long")
	// ErrVersion means a marker or encrypted frame carries a protocol
	// version this build does not speak (a newer one).
	ErrVersion = errors.New("crypt: unsupported protocol version")
	// ErrOldVersion means a marker or encrypted frame carries protocol
	// version 1: the peer runs an older iaxcrypt. The call goes on in clear
	// (or is refused under policy require); the peer should upgrade.
	ErrOldVersion = errors.New("crypt: peer runs iaxcrypt protocol 1, this daemon speaks 2")
	// ErrMarker means a marker information element is malformed or of the
	// wrong type.
	ErrMarker = errors.New("crypt: malformed marker")
	// ErrNoCommonCipher means the two sides share no cipher; the call stays
	// in clear.
	ErrNoCommonCipher = errors.New("crypt: no common cipher")
	// ErrCallNumber means a call number is out of range or does not match
	// the one bound into the handshake.
	ErrCallNumber = errors.New("crypt: call number mismatch")
	// ErrHandshake wraps a failure of the Noise handshake itself (a
	// tampered or forged message, a bad public key, a NEW whose IEs were
	// rewritten on the way).
	ErrHandshake = errors.New("crypt: handshake failed")
	// ErrContext means the ACCEPT's information elements differ between
	// what the callee's application sent and what the caller received:
	// someone on the path rewrote them. Finish wraps it with ErrHandshake.
	ErrContext = errors.New("crypt: call context (ACCEPT IEs) rewritten on the path")
	// ErrAuthentication means an encrypted frame failed AEAD authentication.
	ErrAuthentication = errors.New("crypt: authentication failed")
	// ErrReplayed means an authentic encrypted frame was already received or
	// is older than the replay window.
	ErrReplayed = errors.New("crypt: replayed or too old")
	// ErrFlags means an authentic encrypted frame carries a flag this side
	// does not know or that the peer's role may not send. The frame is
	// dropped; the session goes on.
	ErrFlags = errors.New("crypt: unknown or misdirected frame flags")
	// ErrConfirmation means the caller's confirmation (its identity key, the
	// revealed commitment and the proof that it holds the key) did not
	// check, or the caller sent frames without it before it was checked.
	// Only the holder of the session keys can cause it, so it means a man
	// in the middle or a broken peer: the session refuses every later frame
	// and the call must fail.
	ErrConfirmation = errors.New("crypt: caller confirmation failed")
	// ErrConfirming means a trunk entry was offered for a caller's session
	// whose confirmation the callee has not acknowledged yet: seal that
	// entry as its own frame with Session.Seal, which carries the
	// confirmation.
	ErrConfirming = errors.New("crypt: session still confirming, seal the entry as a frame")
	// ErrCounterExhausted means a sending direction used up its counter
	// space; the call must end (see "Rekeying" in docs/protocol.md).
	ErrCounterExhausted = errors.New("crypt: counter exhausted")
	// ErrWiped means the session or initiator was wiped and holds no keys.
	ErrWiped = errors.New("crypt: keys wiped")
)
