package iax

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// Direction says which side of the daemon a frame came from.
type Direction uint8

const (
	// FromApp frames were sent by the local IAX2 application.
	FromApp Direction = iota
	// FromPeer frames arrived from the network.
	FromPeer
)

func (d Direction) String() string {
	if d == FromApp {
		return "from-app"
	}
	return "from-peer"
}

// CallState is where a call is in its IAX2 life cycle, as seen on the wire.
type CallState uint8

const (
	// CallOffered: a NEW was seen and nothing answered it yet.
	CallOffered CallState = iota
	// CallAuthenticating: the callee asked for authentication (AUTHREQ).
	CallAuthenticating
	// CallAccepted: the callee sent ACCEPT.
	CallAccepted
	// CallAnswered: the call is up (control ANSWER).
	CallAnswered
	// CallEnded: HANGUP or REJECT was seen; the call lingers so that the
	// retransmissions and ACKs that follow still find it.
	CallEnded
)

var callStateNames = [...]string{"offered", "authenticating", "accepted", "answered", "ended"}

func (s CallState) String() string {
	if int(s) < len(callStateNames) {
		return callStateNames[s]
	}
	return "unknown"
}

// RemoveReason says why the tracker forgot a call.
type RemoveReason uint8

const (
	// RemovedEnded: the call ended and its linger time passed.
	RemovedEnded RemoveReason = iota
	// RemovedIdle: no frame for the idle timeout.
	RemovedIdle
	// RemovedHalfOpenTimeout: a NEW was never accepted or rejected in time.
	RemovedHalfOpenTimeout
	// RemovedEvicted: the table was full and this was the oldest call.
	RemovedEvicted
	// RemovedReplaced: a new NEW reused the call number of an ended call,
	// or the application reused the number of a call it had accepted (it
	// restarted and numbers its calls from 1 again).
	RemovedReplaced
)

var removeReasonNames = [...]string{"ended", "idle", "half-open timeout", "evicted", "replaced"}

func (r RemoveReason) String() string {
	if int(r) < len(removeReasonNames) {
		return removeReasonNames[r]
	}
	return "unknown"
}

// TrackerLimits bounds the tracker's memory and says when calls expire.
// Zero fields take the defaults below.
type TrackerLimits struct {
	MaxCalls        int           // all tracked calls, half-open included
	MaxHalfOpen     int           // calls with a NEW and no ACCEPT/REJECT yet, per direction
	MaxAdopted      int           // calls first seen at their ACCEPT
	HalfOpenTimeout time.Duration // how long a NEW may wait for ACCEPT/REJECT
	IdleTimeout     time.Duration // how long an accepted call may stay silent
	Linger          time.Duration // how long an ended call is kept for late frames
}

// Default limits. A NEW normally gets its ACCEPT within seconds, even with
// CALLTOKEN and AUTHREQ round trips; an IAX2 call in progress sends voice or
// at least PING/LAGRQ every few seconds, so two minutes of silence means the
// call is gone.
const (
	DefaultMaxCalls        = 65536
	DefaultMaxHalfOpen     = 4096
	DefaultMaxAdopted      = 1024
	DefaultHalfOpenTimeout = 60 * time.Second
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultLinger          = 15 * time.Second
)

func (l TrackerLimits) withDefaults() TrackerLimits {
	if l.MaxCalls <= 0 {
		l.MaxCalls = DefaultMaxCalls
	}
	if l.MaxHalfOpen <= 0 {
		l.MaxHalfOpen = DefaultMaxHalfOpen
	}
	if l.MaxHalfOpen > l.MaxCalls {
		l.MaxHalfOpen = l.MaxCalls
	}
	if l.MaxAdopted <= 0 {
		l.MaxAdopted = DefaultMaxAdopted
	}
	if l.MaxAdopted > l.MaxCalls {
		l.MaxAdopted = l.MaxCalls
	}
	if l.HalfOpenTimeout <= 0 {
		l.HalfOpenTimeout = DefaultHalfOpenTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.Linger <= 0 {
		l.Linger = DefaultLinger
	}
	return l
}

// Call is one IAX2 call between the local application and a peer. Data holds
// whatever the tracker's user attaches to the call.
type Call[T any] struct {
	Peer       netip.AddrPort
	LocalCall  uint16 // the application's call number; 0 until known
	RemoteCall uint16 // the peer's call number; 0 until known
	Outgoing   bool   // the local application sent the NEW
	State      CallState
	Started    time.Time
	LastSeen   time.Time
	Ended      time.Time

	// The last full frame seen in each direction, so that frames the
	// daemon makes up (a HANGUP on policy refusal) carry plausible sequence
	// numbers and timestamps.
	LastFromApp  FrameMark
	LastFromPeer FrameMark

	// Opaque is set when the applications encrypt the call themselves
	// (Asterisk's encryption=aes128: an AUTHREQ with an ENCRYPTION IE).
	// Their later full frames are AES-encrypted past the call numbers, so
	// the tracker follows such a call by its numbers only and reads
	// nothing else of its frames.
	Opaque bool

	Data T

	class     callClass
	idx       int // index in the tracker's slice of its class; -1 once removed
	protected bool
}

// callClass is the budget a call counts against.
type callClass uint8

const (
	classHalfOpenOut callClass = iota // NEW from the application, not answered yet
	classHalfOpenIn                   // NEW from the network, not answered yet
	classAdopted                      // first seen at its ACCEPT
	classOpen                         // answered (ACCEPT, REJECT or ANSWER seen)
	numClasses
)

// Protected reports whether the call is kept when the table is full.
func (c *Call[T]) Protected() bool { return c.protected }

// FrameMark is the sequence state carried by a full frame.
type FrameMark struct {
	Seen      bool
	OSeq      uint8
	ISeq      uint8
	Timestamp uint32
	// NextOSeq is the OSeq the sender's next counted frame will carry:
	// OSeq+1, except after frames that do not advance the sequence (ACK,
	// INVAL, VNAK, TXCNT, TXACC).
	NextOSeq uint8
}

type callKey struct {
	peer netip.AddrPort
	call uint16
}

// TrackerStats counts what the tracker did.
type TrackerStats struct {
	Calls           int    // calls tracked now
	HalfOpen        int    // of which half-open
	Created         uint64 // calls ever created
	EvictedHalfOpen uint64 // half-open calls evicted because MaxHalfOpen was reached
	EvictedCalls    uint64 // calls evicted because MaxCalls or MaxAdopted was reached
	Refused         uint64 // calls not tracked: the table was full of protected calls
	ExpiredIdle     uint64
	ExpiredHalfOpen uint64
	Ended           uint64
	UntrackedFrames uint64 // full frames that belong to no call (registration, POKE, unknown)
}

// Tracker follows IAX2 calls by peer address and call numbers, so that
// frames in either direction, mini frames included (which carry only the
// sender's call number), find their call. It keeps no goroutine and reads no
// clock: time is passed in. It is not safe for concurrent use.
//
// Its memory is bounded by budgets, so that a flood of frames from spoofed
// sources cannot grow it or push out the calls that matter: half-open calls
// count per direction (a flood of NEWs from the network cannot evict the
// calls the local application is placing), calls first seen at their
// ACCEPT have their own budget, and protected calls (those whose handshake
// completed, see Protect) are never evicted. Within a budget the victim is
// chosen at random, so an attacker cannot aim at a given call by timing.
type Tracker[T any] struct {
	limits   TrackerLimits
	byLocal  map[callKey]*Call[T]
	byRemote map[callKey]*Call[T]
	classes  [numClasses][]*Call[T]
	stats    TrackerStats
	// NewData, if set, gives the Data of every call the tracker creates.
	NewData func() T
	// OnRemove, if set, is called for every call the tracker forgets.
	OnRemove func(c *Call[T], why RemoveReason)
}

// NewTracker returns an empty tracker with the given limits.
func NewTracker[T any](limits TrackerLimits) *Tracker[T] {
	return &Tracker[T]{
		limits:   limits.withDefaults(),
		byLocal:  make(map[callKey]*Call[T]),
		byRemote: make(map[callKey]*Call[T]),
	}
}

// Limits returns the limits in force, defaults filled in.
func (t *Tracker[T]) Limits() TrackerLimits { return t.limits }

func (t *Tracker[T]) total() int {
	n := 0
	for _, cl := range t.classes {
		n += len(cl)
	}
	return n
}

// Stats returns the tracker's counters.
func (t *Tracker[T]) Stats() TrackerStats {
	s := t.stats
	s.Calls = t.total()
	s.HalfOpen = len(t.classes[classHalfOpenIn]) + len(t.classes[classHalfOpenOut])
	return s
}

// Lookup finds the call of a frame by the frame's source call number: the
// local call number for frames from the application, the remote one for
// frames from the peer. It works for full, mini and video frames alike.
func (t *Tracker[T]) Lookup(dir Direction, peer netip.AddrPort, srcCall uint16) *Call[T] {
	if srcCall == 0 {
		return nil
	}
	if dir == FromApp {
		return t.byLocal[callKey{peer, srcCall}]
	}
	return t.byRemote[callKey{peer, srcCall}]
}

// LookupByDst finds a call by the frame's destination call number, which
// is the receiver's own number: the remote call number for frames from the
// application, the local one for frames from the peer.
func (t *Tracker[T]) LookupByDst(dir Direction, peer netip.AddrPort, dstCall uint16) *Call[T] {
	if dstCall == 0 {
		return nil
	}
	if dir == FromApp {
		return t.byRemote[callKey{peer, dstCall}]
	}
	return t.byLocal[callKey{peer, dstCall}]
}

// LookupFull finds the call of a full frame without changing anything: by
// its source call number when the call's own number agrees with the
// frame's destination, else by the destination. A full frame names both
// calls, so a stale entry that only shares the source number (an ended
// call whose number the peer reused) is not taken for the frame's call.
func (t *Tracker[T]) LookupFull(dir Direction, peer netip.AddrPort, f *FullFrame) *Call[T] {
	dst := f.DstCall
	if c := t.Lookup(dir, peer, f.SrcCall); c != nil && (dst == 0 || ownCall(c, dir) == dst) {
		return c
	}
	return t.LookupByDst(dir, peer, dst)
}

// ownCall is the receiver's call number of a frame in direction dir.
func ownCall[T any](c *Call[T], dir Direction) uint16 {
	if dir == FromApp {
		return c.RemoteCall
	}
	return c.LocalCall
}

// Touch marks the call as active now (for mini and video frames, which do
// not go through Observe).
func (t *Tracker[T]) Touch(c *Call[T], now time.Time) { c.LastSeen = now }

// Protect keeps the call when the table is full: it is never chosen for
// eviction. The engine protects calls whose handshake completed, which an
// attacker cannot make without a real peer daemon.
func (t *Tracker[T]) Protect(c *Call[T]) { c.protected = true }

// Observe follows a full frame. It returns the frame's call, creating one
// for a NEW, and created is true when the call is new (a retransmitted or
// re-sent NEW returns the existing call). It returns nil for frames that
// belong to no call: registrations, POKE, and frames of unknown calls.
func (t *Tracker[T]) Observe(now time.Time, dir Direction, peer netip.AddrPort, f *FullFrame) (c *Call[T], created bool) {
	if sub, isIAX := f.IAXSubclass(); isIAX && sub == IAXNew {
		return t.observeNew(now, dir, peer, f)
	}
	c = t.LookupFull(dir, peer, f)
	if c == nil {
		t.stats.UntrackedFrames++
		return nil, false
	}
	t.ObserveCall(now, c, dir, f)
	return c, false
}

// ObserveCall follows a full frame already known to belong to c (a frame
// that arrived inside c's encrypted envelope): it learns the sender's call
// number if it was unknown and updates the call's state. It never creates
// a call and never touches another.
func (t *Tracker[T]) ObserveCall(now time.Time, c *Call[T], dir Direction, f *FullFrame) {
	if c.idx < 0 {
		return
	}
	if c.Opaque {
		t.Touch(c, now)
		return
	}
	sub, isIAX := f.IAXSubclass()
	if !(isIAX && sub == IAXCallToken) {
		// A CALLTOKEN challenge is sent before the callee has a call
		// number, from a placeholder (Asterisk uses 1): the real number
		// first appears in the AUTHREQ or ACCEPT.
		t.learnCallNumber(c, dir, f.SrcCall)
	}
	t.mark(c, dir, f)
	t.Touch(c, now)
	switch {
	case isIAX && sub == IAXAuthReq && c.State == CallOffered:
		c.State = CallAuthenticating
		if appEncrypted(f) {
			// Its next frames cannot be read: follow it like an answered
			// call, by its numbers and the idle timeout.
			c.Opaque = true
			t.promote(c)
		}
	case isIAX && sub == IAXAccept && c.State < CallAccepted:
		c.State = CallAccepted
		t.promote(c)
	case f.Type == FrameControl && f.Subclass == uint8(ControlAnswer) && c.State < CallAnswered:
		c.State = CallAnswered
		t.promote(c)
	case isIAX && (sub == IAXHangup || sub == IAXReject):
		t.end(c, now)
	}
}

// observeNew finds or creates the call of a NEW frame.
func (t *Tracker[T]) observeNew(now time.Time, dir Direction, peer netip.AddrPort, f *FullFrame) (*Call[T], bool) {
	if f.SrcCall == 0 {
		t.stats.UntrackedFrames++
		return nil, false
	}
	if c := t.Lookup(dir, peer, f.SrcCall); c != nil && c.Opaque && c.State != CallEnded {
		t.Touch(c, now)
		return c, false
	} else if c != nil {
		// A NEW after the call ended is a new call at once. So is a NEW
		// from the application for a call it had accepted: it restarted
		// and numbers its calls from 1 again. A retransmission of the old
		// NEW that crossed the ACCEPT carries the R bit; a first NEW does
		// not.
		reused := c.State == CallEnded || (dir == FromApp && c.State >= CallAccepted && !f.Retransmit)
		if !reused {
			// A retransmission, or the NEW re-sent with a CALLTOKEN.
			t.mark(c, dir, f)
			t.Touch(c, now)
			return c, false
		}
		t.remove(c, RemovedReplaced)
	}
	class := classHalfOpenOut
	if dir == FromPeer {
		class = classHalfOpenIn
	}
	if len(t.classes[class]) >= t.limits.MaxHalfOpen {
		if !t.evictFrom(class) {
			t.stats.Refused++
			return nil, false
		}
		t.stats.EvictedHalfOpen++
	}
	if !t.makeRoom() {
		t.stats.Refused++
		return nil, false
	}
	c := &Call[T]{Peer: peer, Outgoing: dir == FromApp, State: CallOffered, Started: now, LastSeen: now}
	if dir == FromApp {
		c.LocalCall = f.SrcCall
		t.byLocal[callKey{peer, f.SrcCall}] = c
	} else {
		c.RemoteCall = f.SrcCall
		t.byRemote[callKey{peer, f.SrcCall}] = c
	}
	t.insert(c, class)
	t.mark(c, dir, f)
	return c, true
}

func (t *Tracker[T]) insert(c *Call[T], class callClass) {
	if t.NewData != nil {
		c.Data = t.NewData()
	}
	c.class = class
	c.idx = len(t.classes[class])
	t.classes[class] = append(t.classes[class], c)
	t.stats.Created++
}

// unlink takes c out of its class's slice (swap with the last).
func (t *Tracker[T]) unlink(c *Call[T]) {
	cl := t.classes[c.class]
	last := cl[len(cl)-1]
	cl[c.idx], last.idx = last, c.idx
	cl[len(cl)-1] = nil
	t.classes[c.class] = cl[:len(cl)-1]
	c.idx = -1
}

// evictFrom removes a random unprotected call of the class. It reports
// false if every call of the class is protected.
func (t *Tracker[T]) evictFrom(class callClass) bool {
	cl := t.classes[class]
	if len(cl) == 0 {
		return false
	}
	// A few random probes find an unprotected call at once unless almost
	// all are protected; then a scan from a random start.
	for range 8 {
		if c := cl[rand.IntN(len(cl))]; !c.protected {
			t.remove(c, RemovedEvicted)
			return true
		}
	}
	start := rand.IntN(len(cl))
	for i := range cl {
		if c := cl[(start+i)%len(cl)]; !c.protected {
			t.remove(c, RemovedEvicted)
			return true
		}
	}
	return false
}

// makeRoom evicts a call if the table holds MaxCalls: a random unprotected
// one, from calls first seen at their ACCEPT first, then answered calls,
// then half-open calls from the network, then from the application. It
// reports false if no call can go (all are protected).
func (t *Tracker[T]) makeRoom() bool {
	if t.total() < t.limits.MaxCalls {
		return true
	}
	for _, class := range []callClass{classAdopted, classOpen, classHalfOpenIn, classHalfOpenOut} {
		if t.evictFrom(class) {
			t.stats.EvictedCalls++
			return true
		}
	}
	return false
}

// learnCallNumber records the call number the other side chose, which
// first appears as the source call of its first reply.
func (t *Tracker[T]) learnCallNumber(c *Call[T], dir Direction, src uint16) {
	if src == 0 {
		return
	}
	if dir == FromApp && c.LocalCall == 0 {
		c.LocalCall = src
		t.byLocal[callKey{c.Peer, src}] = c
	}
	if dir == FromPeer && c.RemoteCall == 0 {
		c.RemoteCall = src
		t.byRemote[callKey{c.Peer, src}] = c
	}
}

func (t *Tracker[T]) mark(c *Call[T], dir Direction, f *FullFrame) {
	m := FrameMark{Seen: true, OSeq: f.OSeq, ISeq: f.ISeq, Timestamp: f.Timestamp, NextOSeq: f.OSeq + 1}
	if sub, ok := f.IAXSubclass(); ok {
		switch sub {
		case IAXAck, IAXInval, IAXVNAK, IAXTxCnt, IAXTxAcc:
			m.NextOSeq = f.OSeq
		}
	}
	if dir == FromApp {
		c.LastFromApp = m
	} else {
		c.LastFromPeer = m
	}
}

// promote moves an answered call out of the half-open budget.
func (t *Tracker[T]) promote(c *Call[T]) {
	if c.class != classHalfOpenIn && c.class != classHalfOpenOut {
		return
	}
	t.unlink(c)
	c.class = classOpen
	c.idx = len(t.classes[classOpen])
	t.classes[classOpen] = append(t.classes[classOpen], c)
}

func (t *Tracker[T]) end(c *Call[T], now time.Time) {
	if c.State == CallEnded {
		return
	}
	c.State = CallEnded
	c.Ended = now
	t.stats.Ended++
	t.promote(c) // a rejected NEW no longer counts as half-open
}

// End marks a call as ended now, as a HANGUP would (for calls the
// tracker's user refuses itself).
func (t *Tracker[T]) End(c *Call[T], now time.Time) { t.end(c, now) }

// Adopt starts tracking a call first seen at its ACCEPT, whose NEW went by
// unseen (the daemon started in between, or the half-open entry was
// evicted). It returns nil if the frame's call numbers are not both set,
// either is already tracked, or the adopted budget is full of protected
// calls.
func (t *Tracker[T]) Adopt(now time.Time, dir Direction, peer netip.AddrPort, f *FullFrame) *Call[T] {
	if f.SrcCall == 0 || f.DstCall == 0 {
		return nil
	}
	c := &Call[T]{Peer: peer, Outgoing: dir == FromPeer, State: CallAccepted, Started: now, LastSeen: now}
	if dir == FromApp {
		c.LocalCall, c.RemoteCall = f.SrcCall, f.DstCall
	} else {
		c.LocalCall, c.RemoteCall = f.DstCall, f.SrcCall
	}
	lk, rk := callKey{peer, c.LocalCall}, callKey{peer, c.RemoteCall}
	if t.byLocal[lk] != nil || t.byRemote[rk] != nil {
		return nil
	}
	if len(t.classes[classAdopted]) >= t.limits.MaxAdopted && !t.evictFrom(classAdopted) {
		t.stats.Refused++
		return nil
	}
	if !t.makeRoom() {
		t.stats.Refused++
		return nil
	}
	t.byLocal[lk], t.byRemote[rk] = c, c
	t.insert(c, classAdopted)
	t.mark(c, dir, f)
	return c
}

// Expire forgets calls whose time is up: half-open calls past the half-open
// timeout, silent calls past the idle timeout, ended calls past the linger.
func (t *Tracker[T]) Expire(now time.Time) {
	for class := range t.classes {
		// Backwards: removal moves the last call into the hole.
		for i := len(t.classes[class]) - 1; i >= 0; i-- {
			if i >= len(t.classes[class]) {
				continue
			}
			c := t.classes[class][i]
			switch {
			case c.State == CallEnded:
				if now.Sub(c.Ended) >= t.limits.Linger {
					t.remove(c, RemovedEnded)
				}
			case callClass(class) == classHalfOpenIn || callClass(class) == classHalfOpenOut:
				if now.Sub(c.Started) >= t.limits.HalfOpenTimeout {
					t.stats.ExpiredHalfOpen++
					t.remove(c, RemovedHalfOpenTimeout)
				}
			case now.Sub(c.LastSeen) >= t.limits.IdleTimeout:
				t.stats.ExpiredIdle++
				t.remove(c, RemovedIdle)
			}
		}
	}
}

// Range calls fn for every tracked call until fn returns false. The order
// is unspecified.
func (t *Tracker[T]) Range(fn func(c *Call[T]) bool) {
	for _, cl := range t.classes {
		for _, c := range cl {
			if !fn(c) {
				return
			}
		}
	}
}

// Remove forgets a call at once.
func (t *Tracker[T]) Remove(c *Call[T], why RemoveReason) { t.remove(c, why) }

func (t *Tracker[T]) remove(c *Call[T], why RemoveReason) {
	if c.idx < 0 {
		return
	}
	t.unlink(c)
	if c.LocalCall != 0 && t.byLocal[callKey{c.Peer, c.LocalCall}] == c {
		delete(t.byLocal, callKey{c.Peer, c.LocalCall})
	}
	if c.RemoteCall != 0 && t.byRemote[callKey{c.Peer, c.RemoteCall}] == c {
		delete(t.byRemote, callKey{c.Peer, c.RemoteCall})
	}
	if t.OnRemove != nil {
		t.OnRemove(c, why)
	}
}

// appEncrypted reports whether an AUTHREQ asks for the applications' own
// encryption: an ENCRYPTION IE with a method set. From then on chan_iax2
// encrypts every full and mini frame of the call past its call numbers.
func appEncrypted(f *FullFrame) bool {
	v, found, err := FindIE(f.Payload, IEEncryption)
	if err != nil || !found || len(v) != 2 {
		return false
	}
	return v[0]|v[1] != 0
}
