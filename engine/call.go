package engine

import (
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Status is what a call's protection is, as `iaxcrypt status` shows it.
type Status uint8

const (
	// StatusNegotiating: a marker is out, keys are pending.
	StatusNegotiating Status = iota
	// StatusEncrypted: every frame of the call is sealed.
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
	// answer is the answer marker: sent (callee) or received (caller).
	answer []byte
	// acceptIEs are the other IEs of the ACCEPT that carried the answer;
	// a retransmitted ACCEPT must match them to be let through in clear.
	acceptIEs []byte

	session *crypt.Session
	// peerSwitched is set once a frame from the peer decrypted: from then
	// on cleartext frames for the call are refused.
	peerSwitched bool

	tx, rx, dropped uint64
	// endNoted is set once the ended event was emitted.
	endNoted bool
}

func (s *callState) encrypted() bool { return s.session != nil }

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
	Started      time.Time
	Ended        time.Time // zero while the call goes on
}

func infoOf(c *iax.Call[*callState]) CallInfo {
	s := c.Data
	ci := CallInfo{
		Peer: c.Peer, LocalCall: c.LocalCall, RemoteCall: c.RemoteCall, Outgoing: c.Outgoing,
		Status: s.status, Reason: s.reason,
		TxPackets: s.tx, RxPackets: s.rx, Dropped: s.dropped,
		Started: c.Started,
	}
	if s.session != nil {
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
	if len(e.ended) >= maxEndedKept {
		e.ended = append(e.ended[:0], e.ended[1:]...)
	}
	e.ended = append(e.ended, info)
	if !c.Data.endNoted {
		// Ended calls already had their event when HANGUP/REJECT passed.
		e.emit(Event{Kind: EventEnded, Time: c.LastSeen, Peer: c.Peer, LocalCall: c.LocalCall,
			RemoteCall: c.RemoteCall, Outgoing: c.Outgoing, Reason: why.String()})
	}
	c.Data.initiator = nil
	c.Data.session = nil
}

// Calls returns the tracked calls and the calls that ended within the
// retention time (60 s by default), oldest first.
func (e *Engine) Calls(now time.Time) []CallInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CallInfo
	for _, ci := range e.ended {
		if now.Sub(ci.Ended) < e.cfg.EndedRetention {
			out = append(out, ci)
		}
	}
	e.calls.Range(func(c *iax.Call[*callState]) bool {
		out = append(out, infoOf(c))
		return true
	})
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
	e.emit(ev)
}
