package attacker

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Config sets up an Attacker.
type Config struct {
	// Rand feeds the man in the middle's keys and the flood's offer; nil
	// means crypto/rand.
	Rand io.Reader
	// Seed seeds the flood's spoofed sources; 0 takes one from Rand.
	Seed uint64
}

// Attacker is the core of the attack program. It is safe for concurrent
// use: the TUN reader calls Handle, a timer calls Tick, the control socket
// calls Set and Counters.
type Attacker struct {
	mu  sync.Mutex
	cfg Config
	set settings
	c   Counters

	call  observedCall
	timer []timer

	replay   [2]replayState
	flip     [2]int
	flipNext int
	inject   injectState
	flood    *flood
	mitm     *mitm
}

// timer is work that falls due at a time: a delayed frame, a round of
// injections.
type timer struct {
	due time.Time
	fn  func(now time.Time) [][]byte
}

// New returns an attacker in ModePass.
func New(cfg Config) *Attacker {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	a := &Attacker{cfg: cfg}
	if err := a.Set(Settings{Mode: ModePass}); err != nil {
		panic(err) // the defaults are valid; a failure here is a bug in this package
	}
	return a
}

// Set switches to a mode (with its parameters) and resets the counters.
// The call being followed is kept, so a mode can be switched mid-call;
// frames held back by the previous mode are released at the next Tick.
func (a *Attacker) Set(s Settings) error {
	parsed, err := s.withDefaults().validate()
	if err != nil {
		return err
	}
	var fl *flood
	var mi *mitm
	switch parsed.Mode {
	case ModeFlood:
		if fl, err = newFlood(parsed, a.cfg); err != nil {
			return err
		}
	case ModeMITM:
		if mi, err = newMITM(a.cfg.Rand); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for dir := range a.replay {
		if held := a.replay[dir].held; held != nil {
			a.after(time.Time{}, func(time.Time) [][]byte { return [][]byte{held} })
		}
	}
	a.set = parsed
	a.c = Counters{Mode: parsed.Mode}
	a.replay = [2]replayState{}
	a.flip = [2]int{}
	a.flipNext = 0
	a.inject = injectState{}
	a.flood, a.mitm = fl, mi
	return nil
}

// Counters returns a snapshot of what the attacker did since the last Set.
func (a *Attacker) Counters(now time.Time) Counters {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.c.clone()
	c.Call = a.call.counters()
	if a.mitm != nil {
		m := a.mitm.counters(now)
		c.MITM = &m
	}
	if a.flood != nil {
		c.FloodDone = a.flood.done()
		c.FloodDurationMS = a.flood.duration().Milliseconds()
	}
	return c
}

// Handle takes one IPv4 packet read from the TUN and returns the packets to
// write back into it, in order: none (dropped), the packet itself, a
// rewritten one, or several.
func (a *Attacker) Handle(now time.Time, pkt []byte) [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.c.Packets++
	d, err := parseDatagram(pkt)
	if err != nil {
		a.c.NotIAX++
		return [][]byte{bytes.Clone(pkt)}
	}
	if a.set.spoof.Contains(d.Dst.Addr()) {
		// An answer to one of the flood's spoofed sources.
		a.c.RepliesToSpoofed++
		a.c.Dropped++
		return nil
	}
	p := a.observe(now, d)
	if p.kind == 0 {
		a.c.NotIAX++
		return [][]byte{bytes.Clone(pkt)}
	}
	p.pkt = pkt
	switch a.set.Mode {
	case ModeStripNew:
		return a.strip(p, iax.IAXNew, &a.c.StrippedNew)
	case ModeStripAccept:
		return a.strip(p, iax.IAXAccept, &a.c.StrippedAccept)
	case ModeMITM:
		return a.mitm.handle(now, a, p)
	case ModeReplay:
		return a.handleReplay(now, p)
	case ModeBitFlip:
		return a.handleBitFlip(p)
	case ModeInject:
		a.maybeScheduleInject(now)
	case ModeWithholdInject:
		return a.handleWithhold(now, p)
	case ModeFlood:
		return a.flood.handle(now, a, p)
	}
	return p.pass()
}

// Tick returns the packets that fell due by now: frames held back, forged
// frames, the flood's next packets.
func (a *Attacker) Tick(now time.Time) [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][]byte
	kept := a.timer[:0]
	var due []timer
	for _, t := range a.timer {
		if t.due.After(now) {
			kept = append(kept, t)
		} else {
			due = append(due, t)
		}
	}
	clear(a.timer[len(kept):])
	a.timer = kept
	for _, t := range due {
		out = append(out, t.fn(now)...)
	}
	if a.set.Mode == ModeReplay {
		out = append(out, a.releaseStaleHeld(now)...)
	}
	if a.flood != nil {
		out = append(out, a.flood.tick(now, a)...)
	}
	if a.mitm != nil {
		out = append(out, a.mitm.tick(now, a)...)
	}
	return out
}

// after runs fn at due (at the next Tick for a zero time).
func (a *Attacker) after(due time.Time, fn func(now time.Time) [][]byte) {
	a.timer = append(a.timer, timer{due: due, fn: fn})
}

// build makes a packet and counts a failure instead of returning it.
func (a *Attacker) build(d datagram, payload []byte) [][]byte {
	b, err := BuildUDP(d.Src, d.Dst, payload)
	if err != nil {
		a.fail(err)
		return nil
	}
	return [][]byte{b}
}

func (a *Attacker) fail(err error) {
	a.c.Errors++
	a.c.LastError = err.Error()
}

// strip removes the marker from frames of one IAX subclass.
func (a *Attacker) strip(p packet, sub iax.IAXSubclass, n *uint64) [][]byte {
	if p.kind != kindFull || !p.isIAX(sub) {
		return p.pass()
	}
	stripped, found, err := StripMarker(p.d.Payload)
	if err != nil {
		a.fail(fmt.Errorf("strip %v: %w", sub, err))
		return p.pass()
	}
	if !found {
		return p.pass()
	}
	*n++
	return a.build(p.d, stripped)
}

// sealedDir reports whether p is an encrypted frame of the followed call
// and its direction.
func (p packet) sealedDir() (direction, bool) {
	return p.dir, p.kind == kindSealed && p.dir != dirOther
}

// isSealedFrame is crypt.IsEncryptedFrame with the minimum length.
func isSealedFrame(b []byte) bool {
	return crypt.IsEncryptedFrame(b) && len(b) >= crypt.MinPacketLen
}
