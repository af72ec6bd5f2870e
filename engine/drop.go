package engine

// DropReason names why the engine dropped a packet; each has a counter in
// Stats.
type DropReason uint8

const (
	// DropNone: the packet was not dropped.
	DropNone DropReason = iota
	// DropMalformed: a frame that does not parse and claims to belong to an
	// encrypted call (passing it would leak it in clear).
	DropMalformed
	// DropUnknownCall: media or call signalling from the application for a
	// call the engine does not track (for example after a daemon restart);
	// it may belong to a call that was encrypted, so it is not sent in clear.
	DropUnknownCall
	// DropUnknownEncrypted: an encrypted frame for a call the engine does
	// not track.
	DropUnknownEncrypted
	// DropNoKeys: an encrypted frame for a call whose ACCEPT has not
	// arrived yet (it was lost or reordered); the sender retransmits.
	DropNoKeys
	// DropCallNumber: an encrypted frame whose receiver call number is not
	// the call's.
	DropCallNumber
	// DropAuthentication: an encrypted frame that failed authentication.
	DropAuthentication
	// DropReplay: an encrypted frame seen before, or older than the replay
	// window.
	DropReplay
	// DropCleartextAfterSwitch: a cleartext frame for an encrypted call
	// after the peer's first encrypted frame arrived.
	DropCleartextAfterSwitch
	// DropAcceptMismatch: a retransmitted ACCEPT that differs from the one
	// that set the call's keys.
	DropAcceptMismatch
	// DropSealFailed: the frame could not be encrypted (counter exhausted).
	DropSealFailed
	// DropPolicy: refused by the require policy.
	DropPolicy
	// DropInnerMismatch: a frame inside an encrypted frame that names
	// another call than its envelope, or that no call may carry encrypted
	// (a NEW, a trunk or another envelope).
	DropInnerMismatch
	// DropUnknownTrunkEntry: a trunk entry from the application whose call
	// the engine does not know, while calls with that peer are encrypted:
	// it may belong to one of them, so it is not sent in clear.
	DropUnknownTrunkEntry
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	"none", "malformed", "unknown-call", "unknown-encrypted-call", "no-keys-yet",
	"call-number-mismatch", "authentication", "replay", "cleartext-after-switch",
	"accept-mismatch", "seal-failed", "policy", "inner-frame-mismatch", "unknown-trunk-entry",
}

func (r DropReason) String() string {
	if r < numDropReasons {
		return dropReasonNames[r]
	}
	return "unknown"
}
