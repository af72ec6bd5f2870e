// Package trust answers the engine's questions about peers (engine.Trust)
// from the configuration's per-peer sections, which a reload swaps whole,
// and from the known-peers store. Every method is quick and in memory: the
// engine calls them with its lock held.
package trust

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/iaxcrypt/iaxcrypt/config"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

// Rules are the policies in force: the daemon's, and the per-peer
// sections that override it.
type Rules struct {
	Policy engine.Policy
	Peers  config.Peers
}

// Trust implements engine.Trust. It is safe for concurrent use.
type Trust struct {
	store *knownpeers.Store
	rules atomic.Pointer[Rules]
}

var _ engine.Trust = (*Trust)(nil)

// New returns a Trust over the store (nil: nothing is remembered) and the
// rules.
func New(store *knownpeers.Store, r Rules) *Trust {
	t := &Trust{store: store}
	t.SetRules(r)
	return t
}

// SetRules replaces the rules at once (a configuration reload). Calls in
// progress keep the policy they started with; new calls take the new
// rules.
func (t *Trust) SetRules(r Rules) {
	r.Peers = append(config.Peers(nil), r.Peers...)
	t.rules.Store(&r)
}

// Rules returns the rules in force.
func (t *Trust) Rules() Rules { return *t.rules.Load() }

func (t *Trust) section(peer netip.AddrPort, user string) (*Rules, *config.Peer) {
	r := t.rules.Load()
	return r, r.Peers.Lookup(peer.Addr(), user)
}

// PeerPolicy returns the policy of the first section that matches the
// peer (require when it pins an identity and sets no policy), else the
// daemon's policy, which a reload may have changed.
func (t *Trust) PeerPolicy(peer netip.AddrPort, user string) (engine.Policy, *crypt.PublicKey, bool) {
	r, p := t.section(peer, user)
	if p == nil {
		return r.Policy, nil, true
	}
	return p.EffectivePolicy(r.Policy), p.Identity, true
}

// CheckIdentity: the identity pinned for the peer is known by definition;
// otherwise the store decides.
func (t *Trust) CheckIdentity(peer netip.AddrPort, user string, id crypt.PublicKey) engine.IdentityCheck {
	if _, p := t.section(peer, user); p != nil && p.Identity != nil && *p.Identity == id {
		return engine.IdentityKnown
	}
	if t.store == nil {
		return engine.IdentityNew
	}
	return t.store.CheckIdentity(knownpeers.MakeKey(peer.Addr(), user), id)
}

// EncryptedBefore asks the store.
func (t *Trust) EncryptedBefore(peer netip.AddrPort, user string) bool {
	return t.store != nil && t.store.EncryptedBefore(knownpeers.MakeKey(peer.Addr(), user))
}

// NoteCall records the call in the store; an identity the configuration
// pins for the peer replaces a remembered one.
func (t *Trust) NoteCall(peer netip.AddrPort, user string, id crypt.PublicKey, encrypted bool, at time.Time) {
	if t.store == nil {
		return
	}
	_, p := t.section(peer, user)
	pinned := encrypted && p != nil && p.Identity != nil && *p.Identity == id
	t.store.NoteCall(knownpeers.MakeKey(peer.Addr(), user), id, encrypted, pinned, at)
}
