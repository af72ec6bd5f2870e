package engine

import (
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
)

// EventKind says what happened to a call.
type EventKind uint8

const (
	// EventNegotiating: a marker was sent or received; keys are pending.
	EventNegotiating EventKind = iota
	// EventEncrypted: the handshake completed; Cipher, SAS and PeerIdentity
	// are set.
	EventEncrypted
	// EventCleartext: the call goes on in clear; Reason says why.
	EventCleartext
	// EventFailed: the call was refused or broken by the engine; Reason
	// says why.
	EventFailed
	// EventEnded: the call ended (HANGUP, REJECT, timeout).
	EventEnded
	// EventDrop: a packet was dropped; Drop says why.
	EventDrop
	// EventWarning: something about the call suggests an attack; Warning
	// and Reason say what.
	EventWarning
)

var eventKindNames = [...]string{"negotiating", "encrypted", "cleartext", "failed", "ended", "drop", "warning"}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "unknown"
}

// Event is something the daemon may log or count. Events never carry keys
// or frame contents.
type Event struct {
	Kind         EventKind
	Time         time.Time
	Peer         netip.AddrPort
	LocalCall    uint16
	RemoteCall   uint16
	Outgoing     bool
	Cipher       crypt.Cipher
	SAS          crypt.SAS
	PeerIdentity crypt.PublicKey
	Reason       string
	Drop         DropReason
	Warning      Warning
	Err          error
}
