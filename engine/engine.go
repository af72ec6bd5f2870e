// Package engine is iaxcrypt's per-packet logic: it follows IAX2 calls,
// runs the opportunistic handshake inside NEW and ACCEPT, and seals and opens
// the frames of encrypted calls. It does no I/O and reads no clock: the
// daemon passes packets and the current time in and sends what comes out.
package engine

import (
	"net/netip"
	"sync"
	"time"
)

// Verdict says what the caller must do with the result of a packet.
type Verdict uint8

const (
	// Forward means: send Result.Packet on (to the network for Outbound,
	// to the application for Inbound).
	Forward Verdict = iota
	// Drop means: send nothing; Result.Reason says why.
	Drop
)

// Result is the outcome of one packet through the engine.
type Result struct {
	Verdict Verdict
	// Packet is what to send when Verdict is Forward. It aliases the out
	// buffer passed to Outbound or Inbound, or the input packet itself.
	Packet []byte
	// Reason says why a packet was dropped.
	Reason DropReason
}

// Direction tells where an injected packet goes.
type Direction uint8

const (
	// ToNetwork packets go to the peer, from the daemon's socket.
	ToNetwork Direction = iota
	// ToApp packets go to the local application, as if from the peer.
	ToApp
)

// Packet is a frame the engine made itself (for example the REJECT and
// HANGUP of a call refused by policy), to be sent by the daemon.
type Packet struct {
	Dir  Direction
	Peer netip.AddrPort
	Data []byte
}

// Engine is safe for concurrent use.
type Engine struct {
	mu       sync.Mutex
	injected []Packet
}

// Outbound handles a datagram the local application sent to peer. out is
// scratch space for the result; give it at least len(frame)+Overhead bytes of
// capacity to avoid allocation.
func (e *Engine) Outbound(now time.Time, peer netip.AddrPort, frame, out []byte) Result {
	return Result{Verdict: Forward, Packet: frame}
}

// Inbound handles a datagram that arrived from peer on the daemon's socket.
func (e *Engine) Inbound(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	return Result{Verdict: Forward, Packet: pkt}
}

// TakeInjected appends the packets the engine made since the last call to
// dst and forgets them.
func (e *Engine) TakeInjected(dst []Packet) []Packet {
	e.mu.Lock()
	defer e.mu.Unlock()
	dst = append(dst, e.injected...)
	e.injected = e.injected[:0]
	return dst
}

// Overhead is the most an encrypted frame adds to the frame it carries.
const Overhead = 32
