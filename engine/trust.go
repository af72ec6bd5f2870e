package engine

import (
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Trust is what the engine asks about peers: the policy set for them (a
// configuration file's per-peer sections, with an optional pinned
// identity) and what is remembered of them (a known-peers store, for key
// continuity). A peer is named by its address and, where the call's NEW
// shows one, its IAX2 username or else its calling number.
//
// The engine calls it with its lock held: every method must be quick (in
// memory) and must not call back into the engine.
type Trust interface {
	// PeerPolicy returns the policy for calls with the peer and the
	// identity the peer must present (nil: any); ok is false when nothing
	// is set for the peer (the engine's own policy applies).
	PeerPolicy(peer netip.AddrPort, user string) (policy Policy, pinned *crypt.PublicKey, ok bool)
	// CheckIdentity says whether id is the identity remembered for the
	// peer, a first meeting, or a change.
	CheckIdentity(peer netip.AddrPort, user string, id crypt.PublicKey) IdentityCheck
	// EncryptedBefore reports whether calls with the peer were encrypted
	// before: if this one is not, a downgrade is suspected.
	EncryptedBefore(peer netip.AddrPort, user string) bool
	// NoteCall records how a call with the peer went: encrypted with
	// identity id, or in clear (id zero).
	NoteCall(peer netip.AddrPort, user string, id crypt.PublicKey, encrypted bool, at time.Time)
}

// IdentityCheck is what Trust knows of a peer's identity.
type IdentityCheck uint8

const (
	// IdentityNew: no identity is remembered for the peer.
	IdentityNew IdentityCheck = iota
	// IdentityKnown: the peer presents the identity remembered for it.
	IdentityKnown
	// IdentityChanged: the peer presents another identity than the one
	// remembered (or verified) for it.
	IdentityChanged
)

// WarnIdentityChanged: the peer presented another identity than the one
// remembered, verified or pinned for it.
const WarnIdentityChanged Warning = "identity_changed"

// peerUser names the peer of a call as Trust knows peers, from the call's
// NEW: for an incoming call its USERNAME IE, else its CALLING NUMBER; for
// an outgoing call only the USERNAME (the account the local application
// uses at that peer), since the calling number is then a local caller's.
func peerUser(f *iax.FullFrame, outgoing bool) string {
	ids := []iax.IEID{iax.IEUsername, iax.IECallingNumber}
	if outgoing {
		ids = ids[:1]
	}
	for _, id := range ids {
		if v, found, err := iax.FindIE(f.Payload, id); err == nil && found && len(v) > 0 {
			return string(v)
		}
	}
	return ""
}

// initCall sets what a new call takes from its NEW (nil for an adopted
// call): who the peer is and which policy applies.
func (e *Engine) initCall(c *iax.Call[*callState], f *iax.FullFrame) {
	s := c.Data
	s.policy = e.cfg.Policy
	if f != nil {
		s.user = peerUser(f, c.Outgoing)
	}
	if e.cfg.Trust == nil {
		return
	}
	if p, pinned, ok := e.cfg.Trust.PeerPolicy(c.Peer, s.user); ok {
		s.policy, s.pinned = p, pinned
	}
}

// checkIdentity runs when a call's peer identity is authenticated. It
// flags a changed identity (or one that is not the pinned one) and reports
// whether the call's policy refuses it.
func (e *Engine) checkIdentity(now time.Time, c *iax.Call[*callState], id crypt.PublicKey) (refuse bool, why string) {
	s := c.Data
	switch {
	case s.pinned != nil && *s.pinned != id:
		why = "the peer presents another identity than the one pinned for it (" + id.Fingerprint() + ")"
	case e.cfg.Trust != nil && e.cfg.Trust.CheckIdentity(c.Peer, s.user, id) == IdentityChanged:
		why = "the peer presents another identity than the one known for it (" + id.Fingerprint() + "): compare the SAS"
	default:
		return false, ""
	}
	s.warning = WarnIdentityChanged
	e.emit(Event{Kind: EventWarning, Time: now, Peer: c.Peer, LocalCall: c.LocalCall, RemoteCall: c.RemoteCall,
		Outgoing: c.Outgoing, Warning: s.warning, Reason: why})
	return s.policy == PolicyRequire, why
}

// noteOutcome tells Trust how the call went, once: when it is encrypted
// (the peer proved its keys) or when it goes on in clear. A call in clear
// with a peer that encrypted before is flagged.
func (e *Engine) noteOutcome(now time.Time, c *iax.Call[*callState], st Status) {
	s := c.Data
	if e.cfg.Trust == nil || s.noted {
		return
	}
	switch st {
	case StatusEncrypted:
		s.noted = true
		e.cfg.Trust.NoteCall(c.Peer, s.user, s.session.PeerIdentity, true, now)
	case StatusCleartext:
		s.noted = true
		if s.warning == WarnNone && e.cfg.Trust.EncryptedBefore(c.Peer, s.user) {
			s.warning = WarnDowngradeSuspected
		}
		e.cfg.Trust.NoteCall(c.Peer, s.user, crypt.PublicKey{}, false, now)
	}
}
