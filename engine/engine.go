// Package engine is iaxcrypt's per-packet logic: it follows IAX2 calls,
// runs the opportunistic handshake inside NEW and ACCEPT, and seals and opens
// the frames of encrypted calls. It does no I/O and reads no clock: the
// daemon passes packets and the current time in, and sends what comes out.
//
// The flow of a call, as docs/protocol.md describes it:
//
//	app NEW ─► Outbound: offer marker added ─► network
//	network NEW+offer ─► Inbound: marker removed, offer kept (no DH) ─► app
//	app ACCEPT ─► Outbound: handshake answered, marker added; call encrypted
//	network ACCEPT+answer ─► Inbound: handshake finished; call encrypted
//	every later frame, both ways ─► sealed / opened
package engine

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Overhead is the most an encrypted frame adds to the frame it carries
// (the caller's first frames also carry its confirmation).
const Overhead = crypt.MaxOverhead

// MarkerOverhead is what the marker IE adds to a NEW or ACCEPT frame at
// most (IE header plus the larger, answer, message).
const MarkerOverhead = 2 + 255

// Policy says what the engine does with calls.
type Policy uint8

const (
	// PolicyOpportunistic encrypts calls whose peer answers the marker and
	// lets the others go on in clear.
	PolicyOpportunistic Policy = iota
	// PolicyRequire refuses calls that do not negotiate encryption, visibly
	// to the application (a REJECT with a cause) and to the peer (HANGUP).
	PolicyRequire
	// PolicyOff relays every frame unchanged, as a baseline.
	PolicyOff
)

var policyNames = [...]string{"opportunistic", "require", "off"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return "unknown"
}

// ParsePolicy reads a policy name as given on the command line.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown policy %q: use opportunistic, require or off", s)
}

// Config sets up an Engine.
type Config struct {
	// Identity is this host's long-term key.
	Identity crypt.Identity
	Policy   Policy
	// Ciphers in order of preference; empty means ChaCha20-Poly1305 then
	// AES-256-GCM.
	Ciphers []crypt.Cipher
	// Rand feeds the ephemeral keys; nil means crypto/rand.
	Rand io.Reader
	// Limits bounds the call table.
	Limits iax.TrackerLimits
	// EndedRetention is how long Calls keeps listing ended calls; zero
	// means 60 s.
	EndedRetention time.Duration
	// SASAudio, if set, renders the SAS as voice: the engine plays it to
	// the local application in place of the peer's first voice frames of
	// each encrypted call whose codec is G.711 (µ-law or A-law).
	SASAudio SASAudioFunc
	// Trust, if set, gives per-peer policies and remembers peers'
	// identities (see Trust).
	Trust Trust
	// OnEvent, if set, is called for every event, with the engine's lock
	// held: it must be quick and must not call back into the engine.
	OnEvent func(Event)
}

// Engine is safe for concurrent use; one lock guards its state.
type Engine struct {
	mu    sync.Mutex
	cfg   Config
	calls *iax.Tracker[*callState]
	ended endedRing
	// keyedCalls counts, per peer, the calls that have keys: a trunk entry
	// of an unknown call to such a peer is not sent in clear.
	keyedCalls map[netip.AddrPort]int
	// lostOffers remembers incoming calls with an offer that a full table
	// pushed out before the application answered.
	lostOffers keySet
	// trunk builds encrypted trunk frames (reused for every one).
	trunk    crypt.TrunkBuilder
	injected []Packet
	stats    Stats
}

// New returns an engine for the configuration.
func New(cfg Config) (*Engine, error) {
	if cfg.Policy > PolicyOff {
		return nil, fmt.Errorf("engine: invalid policy %d", cfg.Policy)
	}
	if len(cfg.Ciphers) == 0 {
		cfg.Ciphers = []crypt.Cipher{crypt.CipherChaCha20Poly1305, crypt.CipherAES256GCM}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.EndedRetention <= 0 {
		cfg.EndedRetention = 60 * time.Second
	}
	e := &Engine{cfg: cfg, calls: iax.NewTracker[*callState](cfg.Limits), keyedCalls: make(map[netip.AddrPort]int)}
	e.calls.NewData = func() *callState { return &callState{policy: cfg.Policy} }
	e.calls.OnRemove = e.forget
	return e, nil
}

// Policy returns the engine's policy.
func (e *Engine) Policy() Policy { return e.cfg.Policy }

// Identity returns the engine's public identity key.
func (e *Engine) Identity() crypt.PublicKey { return e.cfg.Identity.Public() }

// Result is the outcome of one packet through the engine.
type Result struct {
	Verdict Verdict
	// Packet is what to send when Verdict is Forward. It aliases the out
	// buffer passed to Outbound or Inbound, or the input packet itself.
	Packet []byte
	// Reason says why a packet was dropped.
	Reason DropReason
}

// Verdict says what the caller must do with a Result.
type Verdict uint8

const (
	// Forward means: send Result.Packet on (to the network for Outbound,
	// to the application for Inbound).
	Forward Verdict = iota
	// Drop means: send nothing; Result.Reason says why.
	Drop
	// Absorbed means: send nothing, and nothing was lost: the packet's
	// content left in packets the engine injected (a trunk frame split
	// into sealed frames).
	Absorbed
)

// Direction tells where an injected packet goes.
type Direction uint8

const (
	// ToNetwork packets go to the peer, from the daemon's socket.
	ToNetwork Direction = iota
	// ToApp packets go to the local application, as if from the peer.
	ToApp
)

// Packet is a frame the engine made itself (the HANGUP of a call refused by
// policy, the pieces of a split trunk frame), for the daemon to send.
type Packet struct {
	Dir  Direction
	Peer netip.AddrPort
	Data []byte
}

// TakeInjected appends the packets the engine made since the last call to
// dst and forgets them. The daemon calls it after each batch.
func (e *Engine) TakeInjected(dst []Packet) []Packet {
	e.mu.Lock()
	defer e.mu.Unlock()
	dst = append(dst, e.injected...)
	clear(e.injected)
	e.injected = e.injected[:0]
	return dst
}

func (e *Engine) inject(dir Direction, peer netip.AddrPort, data []byte) {
	e.injected = append(e.injected, Packet{Dir: dir, Peer: peer, Data: data})
}

// Expire forgets calls whose time is up. The daemon calls it about once a
// second.
func (e *Engine) Expire(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls.Expire(now)
	e.ended.dropOldestWhile(func(ci *CallInfo) bool { return now.Sub(ci.Ended) >= e.cfg.EndedRetention })
}

func (e *Engine) emit(ev Event) {
	if e.cfg.OnEvent != nil {
		e.cfg.OnEvent(ev)
	}
}

func (e *Engine) drop(now time.Time, peer netip.AddrPort, c *iax.Call[*callState], why DropReason) Result {
	e.stats.Dropped[why]++
	ev := Event{Kind: EventDrop, Time: now, Peer: peer, Drop: why}
	if c != nil {
		c.Data.dropped++
		c.Data.drops[why]++
		ev.LocalCall, ev.RemoteCall, ev.Outgoing = c.LocalCall, c.RemoteCall, c.Outgoing
	}
	e.emit(ev)
	return Result{Verdict: Drop, Reason: why}
}

func forward(b []byte) Result { return Result{Verdict: Forward, Packet: b} }

// absorbed is the result for a packet whose content left in other packets
// (a trunk frame whose entries all left sealed): nothing to send, nothing
// lost.
func absorbed() Result { return Result{Verdict: Absorbed} }

// setSession gives the call its keys.
func (e *Engine) setSession(c *iax.Call[*callState], sess *crypt.Session) {
	if c.Data.session == nil {
		e.keyedCalls[c.Peer]++
	}
	c.Data.session = sess
}

// dropKeys forgets the call's handshake and keys.
func (e *Engine) dropKeys(c *iax.Call[*callState]) {
	s := c.Data
	if s.initiator != nil {
		s.initiator.Wipe()
		s.initiator = nil
	}
	if s.session != nil {
		if e.keyedCalls[c.Peer]--; e.keyedCalls[c.Peer] <= 0 {
			delete(e.keyedCalls, c.Peer)
		}
		s.session.Wipe()
		s.session = nil
	}
}
