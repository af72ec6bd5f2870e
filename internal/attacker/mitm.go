package attacker

import (
	"fmt"
	"io"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

// mitm is a man in the middle made of two iaxcrypt engines with keys of
// their own (attack c). Engine 1 plays the callee's daemon toward the
// caller, engine 2 the caller's daemon toward the callee, and each one's
// "application" is the other:
//
//	caller ──► e1.Inbound ──► e2.Outbound ──► callee
//	caller ◄── e1.Outbound ◄── e2.Inbound ◄── callee
//
// Both hosts complete a handshake, with the attacker; they see different
// SAS values, which is what comparing the SAS is for.
type mitm struct {
	e1, e2     *engine.Engine
	buf1, buf2 []byte
	relayed    uint64
	drops      uint64
	lastExpire time.Time
}

func newMITM(rng io.Reader) (*mitm, error) {
	m := &mitm{buf1: make([]byte, 0, 4096), buf2: make([]byte, 0, 4096)}
	for _, e := range []**engine.Engine{&m.e1, &m.e2} {
		id, err := crypt.GenerateIdentity(rng)
		if err != nil {
			return nil, fmt.Errorf("attacker: mitm identity: %w", err)
		}
		if *e, err = engine.New(engine.Config{Identity: id, Policy: engine.PolicyOpportunistic, Rand: rng}); err != nil {
			return nil, fmt.Errorf("attacker: mitm engine: %w", err)
		}
	}
	return m, nil
}

// handle relays one datagram of the call through both engines.
func (m *mitm) handle(now time.Time, a *Attacker, p packet) [][]byte {
	c := &a.call
	var out [][]byte
	switch p.dir {
	case dirFromCaller:
		r := m.e1.Inbound(now, c.caller, p.d.Payload, m.buf1[:0])
		if r.Verdict == engine.Forward {
			r = m.e2.Outbound(now, c.callee, r.Packet, m.buf2[:0])
		}
		out = m.relay(a, r, datagram{Src: c.caller, Dst: c.callee})
	case dirFromCallee:
		r := m.e2.Inbound(now, c.callee, p.d.Payload, m.buf2[:0])
		if r.Verdict == engine.Forward {
			r = m.e1.Outbound(now, c.caller, r.Packet, m.buf1[:0])
		}
		out = m.relay(a, r, datagram{Src: c.callee, Dst: c.caller})
	default:
		return p.pass()
	}
	return append(out, m.injected(now, a)...)
}

func (m *mitm) relay(a *Attacker, r engine.Result, d datagram) [][]byte {
	if r.Verdict != engine.Forward {
		m.drops++
		a.c.Dropped++
		return nil
	}
	m.relayed++
	return a.build(d, r.Packet)
}

// injected sends on what the engines made themselves (HANGUPs of refused
// calls, split trunk frames): toward the network as from the other host,
// toward the "application" through the other engine.
func (m *mitm) injected(now time.Time, a *Attacker) [][]byte {
	c := &a.call
	var out [][]byte
	for _, p := range m.e1.TakeInjected(nil) {
		if p.Dir == engine.ToNetwork {
			out = append(out, a.build(datagram{Src: c.callee, Dst: p.Peer}, p.Data)...)
			continue
		}
		r := m.e2.Outbound(now, c.callee, p.Data, m.buf2[:0])
		out = append(out, m.relay(a, r, datagram{Src: c.caller, Dst: c.callee})...)
	}
	for _, p := range m.e2.TakeInjected(nil) {
		if p.Dir == engine.ToNetwork {
			out = append(out, a.build(datagram{Src: c.caller, Dst: p.Peer}, p.Data)...)
			continue
		}
		r := m.e1.Outbound(now, c.caller, p.Data, m.buf1[:0])
		out = append(out, m.relay(a, r, datagram{Src: c.callee, Dst: c.caller})...)
	}
	return out
}

// tick lets the engines expire calls, about once a second as the daemon
// does.
func (m *mitm) tick(now time.Time, a *Attacker) [][]byte {
	if now.Sub(m.lastExpire) < time.Second {
		return nil
	}
	m.lastExpire = now
	m.e1.Expire(now)
	m.e2.Expire(now)
	return m.injected(now, a)
}

func (m *mitm) counters(now time.Time) MITMCounters {
	mc := MITMCounters{
		Identity1: m.e1.Identity().Fingerprint(), Identity2: m.e2.Identity().Fingerprint(),
		Relayed: m.relayed, EngineDrops: m.drops,
	}
	if ci, ok := lastCall(m.e1, now); ok {
		mc.CallerState = ci.Status.String()
		if ci.Encrypted {
			mc.SASWithCaller = ci.SAS.String()
		}
	}
	if ci, ok := lastCall(m.e2, now); ok {
		mc.CalleeState = ci.Status.String()
		if ci.Encrypted {
			mc.SASWithCallee = ci.SAS.String()
		}
	}
	return mc
}

func lastCall(e *engine.Engine, now time.Time) (engine.CallInfo, bool) {
	calls := e.Calls(now)
	if len(calls) == 0 {
		return engine.CallInfo{}, false
	}
	return calls[len(calls)-1], true
}
