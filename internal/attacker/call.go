package attacker

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// direction is a datagram's direction in the followed call.
type direction uint8

const (
	dirFromCaller direction = iota
	dirFromCallee
	dirOther // not between the call's two hosts
)

func (d direction) String() string {
	switch d {
	case dirFromCaller:
		return "to-callee"
	case dirFromCallee:
		return "to-caller"
	}
	return "other"
}

// packetKind is what a datagram is, as far as the attacker cares.
type packetKind uint8

const (
	kindFull   packetKind = iota + 1 // a cleartext full frame
	kindSealed                       // an encrypted frame
	kindOther                        // mini, video, trunk, meta
)

// packet is a datagram read from the TUN, classified.
type packet struct {
	pkt  []byte // the IP packet as read
	d    datagram
	kind packetKind
	full iax.FullFrame // when kind == kindFull
	dir  direction
}

func (p packet) pass() [][]byte { return [][]byte{bytes.Clone(p.pkt)} }

func (p packet) isIAX(sub iax.IAXSubclass) bool {
	s, ok := p.full.IAXSubclass()
	return ok && s == sub
}

// mark is where a side's cleartext full frames were: forged frames take
// their sequence numbers from it.
type mark struct {
	oseq, iseq uint8
	ts         uint32
	seen       bool
}

// observedCall is the call the attacker follows: the one of the last NEW.
type observedCall struct {
	caller, callee         netip.AddrPort
	callerCall, calleeCall uint16
	markerVersion          int
	started, accepted      time.Time
	acceptOSeq             uint8
	news, accepts          uint64
	sealed                 [2]uint64
	firstSealed            [2]time.Time
	last                   [2]mark
	clearAfterSwitch       uint64
}

func (c *observedCall) valid() bool { return c.caller.IsValid() }

// switched reports whether an encrypted frame of the call has been seen in
// either direction.
func (c *observedCall) switched() bool {
	return !c.firstSealed[dirFromCaller].IsZero() || !c.firstSealed[dirFromCallee].IsZero()
}

func (c *observedCall) dirOf(d datagram) direction {
	switch {
	case !c.valid():
		return dirOther
	case d.Src == c.caller && d.Dst == c.callee:
		return dirFromCaller
	case d.Src == c.callee && d.Dst == c.caller:
		return dirFromCallee
	}
	return dirOther
}

// elapsedMS is a timestamp for a forged frame: ms since the NEW.
func (c *observedCall) elapsedMS(now time.Time) uint32 {
	if c.started.IsZero() {
		return 0
	}
	return uint32(now.Sub(c.started).Milliseconds())
}

func (c *observedCall) counters() CallCounters {
	cc := CallCounters{
		CallerCall: c.callerCall, CalleeCall: c.calleeCall, MarkerVersion: c.markerVersion,
		News: c.news, Accepts: c.accepts,
		SealedFromCaller: c.sealed[dirFromCaller], SealedFromCallee: c.sealed[dirFromCallee],
		ClearAfterSwitch: c.clearAfterSwitch,
	}
	if c.valid() {
		cc.Caller, cc.Callee = c.caller.String(), c.callee.String()
	}
	return cc
}

// observe classifies a datagram and updates the followed call. kind is
// zero for datagrams that are not IAX2.
func (a *Attacker) observe(now time.Time, d datagram) packet {
	p := packet{d: d}
	c := &a.call
	if isSealedFrame(d.Payload) {
		p.kind = kindSealed
		p.dir = c.dirOf(d)
		if p.dir != dirOther {
			c.sealed[p.dir]++
			if c.firstSealed[p.dir].IsZero() {
				c.firstSealed[p.dir] = now
			}
		}
		return p
	}
	k, err := iax.Classify(d.Payload)
	if err != nil {
		return p
	}
	if k != iax.KindFull {
		p.kind = kindOther
		p.dir = c.dirOf(d)
		if p.dir != dirOther && c.switched() {
			c.clearAfterSwitch++
		}
		return p
	}
	f, err := iax.ParseFull(d.Payload)
	if err != nil {
		a.c.Malformed++
		p.kind = kindOther
		return p
	}
	p.kind, p.full = kindFull, f
	sub, isIAX := f.IAXSubclass()
	if isIAX && sub == iax.IAXNew && f.DstCall == 0 {
		if !(d.Src == c.caller && d.Dst == c.callee && f.SrcCall == c.callerCall) {
			*c = observedCall{caller: d.Src, callee: d.Dst, callerCall: f.SrcCall, started: now}
			a.c.CallsSeen++
		}
		c.news++
		if m, ok := markerOf(&f); ok && len(m) > 0 {
			c.markerVersion = int(m[0])
		}
	}
	p.dir = c.dirOf(d)
	if p.dir == dirOther {
		return p
	}
	if isIAX && sub == iax.IAXAccept && p.dir == dirFromCallee && f.DstCall == c.callerCall {
		c.calleeCall = f.SrcCall
		c.acceptOSeq = f.OSeq
		c.accepts++
		if c.accepted.IsZero() {
			c.accepted = now
		}
	} else if !(isIAX && sub == iax.IAXNew) && c.switched() {
		c.clearAfterSwitch++
	}
	c.last[p.dir] = mark{oseq: f.OSeq, iseq: f.ISeq, ts: f.Timestamp, seen: true}
	return p
}
