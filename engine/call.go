package engine

import (
	"net/netip"
	"slices"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Status is what a call's protection is, as `iaxcrypt status` shows it.
type Status uint8

const (
	// StatusNegotiating: a marker is out, keys are pending.
	StatusNegotiating Status = iota
	// StatusEncrypted: every frame of the call is sealed and the peer has
	// proven it holds the keys (the caller by its answer, the callee by
	// its first encrypted frame).
	StatusEncrypted
	// StatusCleartext: the call goes on in clear (peer without iaxcrypt,
	// or a handshake that did not complete on the callee's side).
	StatusCleartext
	// StatusFailed: the call was refused (require policy) or its
	// handshake failed after the peer had switched.
	StatusFailed
	// StatusEnded: the call is over.
	StatusEnded
)

var statusNames = [...]string{"negotiating", "encrypted", "cleartext", "failed", "ended"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// callState is the engine's part of a tracked call.
type callState struct {
	status Status
	reason string

	// Caller side: the handshake in progress and the offer marker put in
	// every copy of the NEW (retransmissions and CALLTOKEN re-sends carry
	// identical bytes).
	initiator *crypt.Initiator
	// offer is the offer marker: sent (caller) or received (callee).
	offer []byte
	// newIEs are the NEW's IEs that the handshake binds (callee, until it
	// answers).
	newIEs []byte
	// offerMade: the caller's side made an offer for this call.
	offerMade bool
	// badOffer is why an offer received for the call did not parse (the
	// first one that parses is kept, whatever came before it).
	badOffer error
	// answer is the answer marker: sent (callee) or received (caller).
	answer []byte
	// acceptIEs are the other IEs of the ACCEPT that carried the answer;
	// a retransmitted ACCEPT must match them to be let through in clear.
	acceptIEs []byte

	session *crypt.Session
	// peerSwitched is set once a frame from the peer decrypted: from then
	// on cleartext frames for the call are refused.
	peerSwitched bool
	// switchedAt is when this side switched (the caller at the ACCEPT it
	// received, the callee at the ACCEPT it sent); acceptSeq and acceptTS
	// are that ACCEPT's OSeq and timestamp. A cleartext frame from the peer
	// is taken after the switch only if it provably left before the peer
	// could switch, and only for switchGrace.
	switchedAt time.Time
	acceptSeq  uint8
	acceptTS   uint32

	warning Warning
	// user names the peer's side as Trust knows it; policy and pinned are
	// the call's policy and the identity the peer must present.
	user   string
	policy Policy
	pinned *crypt.PublicKey
	// noted: Trust was told how the call went.
	noted bool
	// codec is the call's voice codec as its ACCEPT chose it (0 if not
	// G.711); sasAudio the SAS payloads still to play to the application.
	codec    Codec
	sasAudio [][]byte

	tx, rx, dropped uint64
	drops           [numDropReasons]uint32
	// endNoted is set once the ended event was emitted.
	endNoted bool
}

func (s *callState) encrypted() bool { return s.session != nil }

// Warning flags a call whose course suggests an attack; it stays on the
// call until it ends.
type Warning string

const (
	// WarnNone: nothing suspicious.
	WarnNone Warning = ""
	// WarnDowngradeSuspected: encryption was negotiated by one side and
	// the other went on in clear (the marker or the answer was removed on
	// the way).
	WarnDowngradeSuspected Warning = "downgrade_suspected"
	// WarnOfferLost: the caller offered encryption but its entry was
	// pushed out of a full call table (a flood) before the call was
	// answered, so the call went on in clear.
	WarnOfferLost Warning = "offer_lost"
)

// CallInfo is a snapshot of one call for status displays.
type CallInfo struct {
	Peer         netip.AddrPort
	LocalCall    uint16
	RemoteCall   uint16
	Outgoing     bool
	Status       Status
	Reason       string
	Cipher       crypt.Cipher // zero unless encrypted
	SAS          crypt.SAS    // zero unless encrypted
	PeerIdentity crypt.PublicKey
	Encrypted    bool // Cipher, SAS and PeerIdentity are set
	TxPackets    uint64
	RxPackets    uint64
	Dropped      uint64
	// Drops counts the call's dropped packets by reason (DropReason
	// index).
	Drops   [numDropReasons]uint32
	Warning Warning
	Started time.Time
	Ended   time.Time // zero while the call goes on
}

func infoOf(c *iax.Call[*callState]) CallInfo {
	s := c.Data
	ci := CallInfo{
		Peer: c.Peer, LocalCall: c.LocalCall, RemoteCall: c.RemoteCall, Outgoing: c.Outgoing,
		Status: s.status, Reason: s.reason,
		TxPackets: s.tx, RxPackets: s.rx, Dropped: s.dropped, Drops: s.drops,
		Warning: s.warning, Started: c.Started,
	}
	// The callee shows keys, SAS and peer only once the caller proved it
	// holds the keys.
	if s.session != nil && s.session.Confirmed() {
		ci.Encrypted = true
		ci.Cipher = s.session.Cipher
		ci.SAS = s.session.SAS
		ci.PeerIdentity = s.session.PeerIdentity
	}
	if c.State == iax.CallEnded {
		ci.Ended = c.Ended
		if s.status != StatusFailed {
			ci.Status = StatusEnded
		}
	}
	return ci
}

// maxEndedKept bounds the list of ended calls kept for status.
const maxEndedKept = 4096

// forget is the tracker's OnRemove: it keeps a summary of the call for
// status and tells the daemon the call is gone.
func (e *Engine) forget(c *iax.Call[*callState], why iax.RemoveReason) {
	info := infoOf(c)
	if info.Ended.IsZero() {
		info.Ended = c.LastSeen
		if info.Status != StatusFailed {
			info.Status = StatusEnded
		}
		if info.Reason == "" {
			info.Reason = why.String()
		}
	}
	e.ended.push(info)
	if why == iax.RemovedEvicted && !c.Outgoing && c.Data.offer != nil {
		// The application may still accept this call: say then that its
		// offer was lost, instead of going on in clear silently.
		e.lostOffers.add(c.Peer, c.RemoteCall)
	}
	if !c.Data.endNoted {
		// Ended calls already had their event when HANGUP/REJECT passed.
		e.emit(Event{Kind: EventEnded, Time: c.LastSeen, Peer: c.Peer, LocalCall: c.LocalCall,
			RemoteCall: c.RemoteCall, Outgoing: c.Outgoing, Reason: why.String()})
	}
	e.dropKeys(c)
}

// Calls returns the tracked calls and the calls that ended within the
// retention time (60 s by default), oldest first.
func (e *Engine) Calls(now time.Time) []CallInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CallInfo
	e.ended.each(func(ci *CallInfo) {
		if now.Sub(ci.Ended) < e.cfg.EndedRetention {
			out = append(out, *ci)
		}
	})
	n := len(out)
	e.calls.Range(func(c *iax.Call[*callState]) bool {
		out = append(out, infoOf(c))
		return true
	})
	slices.SortStableFunc(out[n:], func(a, b CallInfo) int { return a.Started.Compare(b.Started) })
	return out
}

// Stats counts what the engine did.
type Stats struct {
	Calls         iax.TrackerStats
	Encrypted     uint64 // handshakes completed
	Cleartext     uint64 // calls that went on in clear
	Failed        uint64 // calls refused or broken
	SealedPackets uint64
	OpenedPackets uint64
	ClearPackets  uint64 // packets forwarded unchanged
	Dropped       [numDropReasons]uint64
}

// Stats returns a copy of the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Calls = e.calls.Stats()
	return s
}

func (e *Engine) setStatus(now time.Time, c *iax.Call[*callState], st Status, reason string, err error) {
	s := c.Data
	s.status, s.reason = st, reason
	ev := Event{Time: now, Peer: c.Peer, LocalCall: c.LocalCall, RemoteCall: c.RemoteCall,
		Outgoing: c.Outgoing, Reason: reason, Err: err}
	switch st {
	case StatusNegotiating:
		ev.Kind = EventNegotiating
	case StatusEncrypted:
		e.stats.Encrypted++
		e.calls.Protect(c)
		e.startSASAudio(c)
		ev.Kind = EventEncrypted
		ev.Cipher, ev.SAS, ev.PeerIdentity = s.session.Cipher, s.session.SAS, s.session.PeerIdentity
	case StatusCleartext:
		e.stats.Cleartext++
		ev.Kind = EventCleartext
	case StatusFailed:
		e.stats.Failed++
		ev.Kind = EventFailed
	case StatusEnded:
		ev.Kind = EventEnded
	}
	ev.Warning = s.warning
	e.noteOutcome(now, c, st)
	if s.warning != WarnNone {
		ev.Warning = s.warning
	}
	e.emit(ev)
}
