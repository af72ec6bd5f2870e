package attacker

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// The rig puts an Attacker between two real engines, as cmd/iaxattack sits
// between two daemons, without root: host A's engine (the caller's daemon)
// and host B's engine (the callee's daemon) exchange IPv4 packets, every
// one of which goes through Attacker.Handle; what the attacker lets
// through, rewrites or makes up is delivered to the engine its destination
// address names, and what that engine forwards is what its application
// would get.

var (
	addrA = netip.MustParseAddrPort("10.77.1.1:4569")
	addrB = netip.MustParseAddrPort("10.77.2.1:4569")
	t0    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

// Call numbers of the two applications.
const (
	callA = 0x0101
	callB = 0x0202
)

type rig struct {
	t    testing.TB
	now  time.Time
	a, b *engine.Engine
	atk  *Attacker
	// toApp is what each engine forwarded to its application.
	toApp map[netip.AddrPort][][]byte
	// wire is every packet the attacker sent on, in order.
	wire [][]byte
	// elsewhere counts packets for neither host (the flood's, answers).
	elsewhere int
}

func newRig(t testing.TB, s Settings) *rig {
	t.Helper()
	r := &rig{t: t, now: t0, toApp: map[netip.AddrPort][][]byte{}}
	r.a, r.b = newEngine(t), newEngine(t)
	r.atk = New(Config{Seed: 1})
	if err := r.atk.Set(s); err != nil {
		t.Fatal(err)
	}
	return r
}

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (r *rig) engineAt(addr netip.AddrPort) *engine.Engine {
	switch addr {
	case addrA:
		return r.a
	case addrB:
		return r.b
	}
	return nil
}

// send passes an application frame of host from (addrA or addrB) through
// its engine, the attacker and the other engine; it returns the number of
// packets the attacker sent on.
func (r *rig) send(from netip.AddrPort, frame []byte) int {
	r.t.Helper()
	to := addrB
	if from == addrB {
		to = addrA
	}
	res := r.engineAt(from).Outbound(r.now, to, frame, make([]byte, 0, 2048))
	if res.Verdict != engine.Forward {
		r.t.Fatalf("%v's engine dropped its application's frame %x: %v", from, frame, res.Reason)
	}
	return r.onWire(from, to, res.Packet)
}

// onWire puts a datagram on the wire between the hosts: through the
// attacker, then delivered.
func (r *rig) onWire(from, to netip.AddrPort, payload []byte) int {
	r.t.Helper()
	pkt, err := BuildUDP(from, to, payload)
	if err != nil {
		r.t.Fatal(err)
	}
	out := r.atk.Handle(r.now, pkt)
	r.deliver(out)
	return len(out)
}

// tick advances the clock and delivers what the attacker sends by then.
func (r *rig) tick(d time.Duration) int {
	r.now = r.now.Add(d)
	out := r.atk.Tick(r.now)
	r.deliver(out)
	return len(out)
}

func (r *rig) deliver(pkts [][]byte) {
	r.t.Helper()
	for _, pkt := range pkts {
		checkChecksums(r.t, pkt)
		r.wire = append(r.wire, pkt)
		d, err := parseDatagram(pkt)
		if err != nil {
			r.t.Fatalf("attacker sent a packet that does not parse: %v: %x", err, pkt)
		}
		e := r.engineAt(d.Dst)
		if e == nil {
			r.elsewhere++
			continue
		}
		res := e.Inbound(r.now, d.Src, d.Payload, make([]byte, 0, 2048))
		if res.Verdict == engine.Forward {
			r.toApp[d.Dst] = append(r.toApp[d.Dst], bytes.Clone(res.Packet))
		}
	}
}

// establish runs NEW, ACCEPT and ACK between the applications.
func (r *rig) establish() {
	r.t.Helper()
	r.send(addrA, newFrame())
	r.send(addrB, acceptFrame())
	r.send(addrA, fullFrame(callA, callB, 6, 1, 1, iax.FrameIAX, uint8(iax.IAXAck), nil))
}

// talk sends n voice mini frames each way.
func (r *rig) talk(n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		r.send(addrA, miniFrame(callA, uint16(100+20*i)))
		r.send(addrB, miniFrame(callB, uint16(100+20*i)))
		r.now = r.now.Add(20 * time.Millisecond)
	}
}

// callNumbered returns the engine's call whose local call number is local.
func (r *rig) callNumbered(e *engine.Engine, local uint16) engine.CallInfo {
	r.t.Helper()
	for _, ci := range e.Calls(r.now) {
		if ci.LocalCall == local {
			return ci
		}
	}
	r.t.Fatalf("engine lists no call %d", local)
	return engine.CallInfo{}
}

func (r *rig) call(e *engine.Engine) engine.CallInfo {
	r.t.Helper()
	calls := e.Calls(r.now)
	if len(calls) == 0 {
		r.t.Fatal("engine lists no call")
	}
	return calls[len(calls)-1]
}

// Frames of the two applications.

func fullFrame(src, dst uint16, ts uint32, oseq, iseq uint8, typ iax.FrameType, sub uint8, payload []byte) []byte {
	f := iax.FullFrame{SrcCall: src, DstCall: dst, Timestamp: ts, OSeq: oseq, ISeq: iseq, Type: typ, Subclass: sub, Payload: payload}
	return f.AppendTo(nil)
}

func ies(pairs ...any) []byte {
	var b []byte
	for i := 0; i < len(pairs); i += 2 {
		b, _ = iax.AppendIE(b, pairs[i].(iax.IEID), []byte(pairs[i+1].(string)))
	}
	return b
}

func newFrame() []byte {
	return fullFrame(callA, 0, 3, 0, 0, iax.FrameIAX, uint8(iax.IAXNew),
		ies(iax.IEVersion, "\x00\x02", iax.IECalledNumber, "100", iax.IECallingName, "Alice", iax.IEFormat, "\x00\x00\x00\x40"))
}

func acceptFrame() []byte {
	return fullFrame(callB, callA, 5, 0, 1, iax.FrameIAX, uint8(iax.IAXAccept), ies(iax.IEFormat, "\x00\x00\x00\x40"))
}

func miniFrame(src, ts uint16) []byte {
	m := iax.MiniFrame{SrcCall: src, Timestamp: ts, Payload: bytes.Repeat([]byte{byte(ts)}, 160)}
	return m.AppendTo(nil)
}

// checkChecksums verifies an IPv4 packet's header checksum and its UDP
// checksum over the pseudo-header, computed here independently of the
// code under test (RFC 1071, RFC 768).
func checkChecksums(t testing.TB, pkt []byte) {
	t.Helper()
	if len(pkt) < 28 || pkt[0]>>4 != 4 {
		t.Fatalf("not an IPv4 packet: %x", pkt)
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	if total != len(pkt) {
		t.Fatalf("IPv4 total length %d, packet %d bytes", total, len(pkt))
	}
	if s := onesSum(pkt[:ihl]); s != 0xffff {
		t.Fatalf("IPv4 header checksum wrong (sum %#04x): %x", s, pkt[:ihl])
	}
	udp := pkt[ihl:]
	if int(binary.BigEndian.Uint16(udp[4:])) != len(udp) {
		t.Fatalf("UDP length %d, datagram %d bytes", binary.BigEndian.Uint16(udp[4:]), len(udp))
	}
	pseudo := append(append([]byte{}, pkt[12:20]...), 0, 17, udp[4], udp[5])
	if s := onesSum(append(pseudo, udp...)); s != 0xffff {
		t.Fatalf("UDP checksum wrong (sum %#04x)", s)
	}
}

func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
