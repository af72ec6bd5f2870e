package crypt

import "errors"

// Errors returned by the package. Functions on the packet path (ParseHeader,
// Seal, Open) return these sentinels unwrapped so a flood of bad packets
// costs no allocation; handshake functions wrap them with context.
var (
	// ErrNotEncrypted means the packet is not an iaxcrypt encrypted frame.
	ErrNotEncrypted = errors.New("crypt: not an encrypted frame")
	// ErrTooShort means a packet or frame is shorter than its format allows.
	ErrTooShort = errors.New("crypt: too short")
	// ErrVersion means a marker or encrypted frame carries a protocol
	// version this build does not speak.
	ErrVersion = errors.New("crypt: unsupported protocol version")
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
	// tampered or forged message, a bad public key).
	ErrHandshake = errors.New("crypt: handshake failed")
	// ErrAuthentication means an encrypted frame failed AEAD authentication.
	ErrAuthentication = errors.New("crypt: authentication failed")
	// ErrReplayed means an authentic encrypted frame was already received or
	// is older than the replay window.
	ErrReplayed = errors.New("crypt: replayed or too old")
	// ErrCounterExhausted means a sending direction used up its counter
	// space; the call must be re-keyed or ended.
	ErrCounterExhausted = errors.New("crypt: counter exhausted")
)
