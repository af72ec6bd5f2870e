package engine

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// The tests wire two engines back to back: host A (the caller, 10.0.0.1)
// and host B (the callee, 10.0.0.2). An application frame enters its
// host's engine with Outbound, crosses the "network", and leaves the other
// engine through Inbound. A nil engine stands for a host without iaxcrypt.

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:4569")
	addrB = netip.MustParseAddrPort("10.0.0.2:4569")
	t0    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

type host struct {
	name   string
	eng    *Engine
	addr   netip.AddrPort
	events []Event
}

func newHost(t testing.TB, name string, addr netip.AddrPort, policy Policy) *host {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &host{name: name, addr: addr}
	h.eng, err = New(Config{Identity: id, Policy: policy, OnEvent: func(ev Event) { h.events = append(h.events, ev) }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// link is the path between A and B. wire records every datagram that
// crossed the network, in order, for the no-cleartext assertions.
type link struct {
	t    testing.TB
	a, b *host
	now  time.Time
	wire []wirePacket
}

type wirePacket struct {
	from string
	data []byte
}

func newLink(t testing.TB, a, b *host) *link { return &link{t: t, a: a, b: b, now: t0} }

func (l *link) tick(d time.Duration) { l.now = l.now.Add(d) }

func (l *link) hosts(from string) (src, dst *host) {
	if from == "A" {
		return l.a, l.b
	}
	return l.b, l.a
}

// send passes an application frame from one host's application to the
// other's; it returns the frame the other application receives (nil if
// dropped on the way) and the datagram on the wire (nil if none).
func (l *link) send(from string, frame []byte) (delivered, onWire []byte) {
	l.t.Helper()
	onWire = l.out(from, frame)
	if onWire == nil {
		return nil, nil
	}
	return l.in(from, onWire), onWire
}

// out runs the sending host's Outbound only.
func (l *link) out(from string, frame []byte) []byte {
	l.t.Helper()
	src, dst := l.hosts(from)
	wire := bytes.Clone(frame)
	if src.eng != nil {
		r := src.eng.Outbound(l.now, dst.addr, frame, make([]byte, 0, 2048))
		if r.Verdict == Drop {
			return nil
		}
		wire = bytes.Clone(r.Packet)
	}
	l.wire = append(l.wire, wirePacket{from: from, data: wire})
	return wire
}

// in runs the receiving host's Inbound on a datagram sent by from.
func (l *link) in(from string, wire []byte) []byte {
	l.t.Helper()
	src, dst := l.hosts(from)
	if dst.eng == nil {
		return bytes.Clone(wire)
	}
	r := dst.eng.Inbound(l.now, src.addr, wire, make([]byte, 0, 2048))
	if r.Verdict == Drop {
		return nil
	}
	return bytes.Clone(r.Packet)
}

// mustArrive sends frame and fails unless it arrives byte-identical.
func (l *link) mustArrive(from string, frame []byte) []byte {
	l.t.Helper()
	got, wire := l.send(from, frame)
	if !bytes.Equal(got, frame) {
		l.t.Fatalf("frame from %s arrived as\n%x\nwant\n%x\n(on the wire: %x)", from, got, frame, wire)
	}
	return wire
}

// injected drains the engine's injected packets.
func (h *host) injected() []Packet { return h.eng.TakeInjected(nil) }

func (h *host) call(t testing.TB, now time.Time, local uint16) CallInfo {
	t.Helper()
	for _, ci := range h.eng.Calls(now) {
		if ci.LocalCall == local {
			return ci
		}
	}
	t.Fatalf("%s: no call with local number %d in %+v", h.name, local, h.eng.Calls(now))
	return CallInfo{}
}

// Frame builders. Call numbers: A's application uses 0x0101, B's 0x0202.
const (
	callA = 0x0101
	callB = 0x0202
)

type fb struct {
	src, dst   uint16
	ts         uint32
	oseq, iseq uint8
}

func full(h fb, typ iax.FrameType, sub uint8, payload []byte) []byte {
	f := iax.FullFrame{SrcCall: h.src, DstCall: h.dst, Timestamp: h.ts, OSeq: h.oseq, ISeq: h.iseq,
		Type: typ, Subclass: sub, Payload: payload}
	return f.AppendTo(nil)
}

func iaxFrame(h fb, sub iax.IAXSubclass, ies ...[]byte) []byte {
	return full(h, iax.FrameIAX, uint8(sub), bytes.Join(ies, nil))
}

func ie(id iax.IEID, data string) []byte {
	b, err := iax.AppendIE(nil, id, []byte(data))
	if err != nil {
		panic(err)
	}
	return b
}

func newFrame(oseq uint8, ies ...[]byte) []byte {
	base := [][]byte{ie(iax.IEVersion, "\x00\x02"), ie(iax.IECalledNumber, "100"), ie(iax.IECallingNumber, "200"),
		ie(iax.IECallingName, "Alice"), ie(iax.IEFormat, "\x00\x00\x00\x04"), ie(iax.IECapability, "\x00\x00\x00\x0c")}
	return iaxFrame(fb{src: callA, oseq: oseq}, iax.IAXNew, append(base, ies...)...)
}

func acceptFrame(ts uint32, oseq, iseq uint8) []byte {
	return iaxFrame(fb{src: callB, dst: callA, ts: ts, oseq: oseq, iseq: iseq}, iax.IAXAccept, ie(iax.IEFormat, "\x00\x00\x00\x04"))
}

func mini(src, ts uint16, n int) []byte {
	m := iax.MiniFrame{SrcCall: src, Timestamp: ts, Payload: bytes.Repeat([]byte{0xd5}, n)}
	return m.AppendTo(nil)
}

func video(src, ts uint16, n int) []byte {
	v := iax.VideoFrame{SrcCall: src, Timestamp: ts, Payload: bytes.Repeat([]byte{0x42}, n)}
	return v.AppendTo(nil)
}

func withRetransmit(frame []byte) []byte {
	b := bytes.Clone(frame)
	b[2] |= 0x80
	return b
}

// establish runs NEW → ACCEPT → ACK and returns once both sides report the
// call encrypted.
func establish(t testing.TB, l *link) {
	t.Helper()
	l.mustArrive("A", newFrame(0))
	l.mustArrive("B", acceptFrame(5, 0, 1))
	l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 6, oseq: 1, iseq: 1}, iax.IAXAck))
}

// markerOf returns the marker IE in a full frame on the wire.
func markerOf(t testing.TB, wire []byte) []byte {
	t.Helper()
	f, err := iax.ParseFull(wire)
	if err != nil {
		t.Fatalf("parse %x: %v", wire, err)
	}
	m, found, err := iax.FindIE(f.Payload, crypt.MarkerIE)
	if err != nil || !found {
		t.Fatalf("no marker in %x (err %v)", wire, err)
	}
	return m
}

func hasMarker(wire []byte) bool {
	f, err := iax.ParseFull(wire)
	if err != nil {
		return false
	}
	_, found, _ := iax.FindIE(f.Payload, crypt.MarkerIE)
	return found
}

// assertNoCleartextAfter fails if any datagram on the wire after index
// from (per sender) is neither an encrypted frame nor a NEW/ACCEPT
// carrying a marker (retransmissions of the handshake frames).
func assertNoCleartextAfter(t testing.TB, l *link, sender string, from int) {
	t.Helper()
	for i, p := range l.wire[from:] {
		if p.from != sender {
			continue
		}
		if isSealed(p.data) || hasMarker(p.data) {
			continue
		}
		t.Errorf("datagram %d from %s left in clear after the switch: %x", from+i, sender, p.data)
	}
}

// isSealed reports whether a datagram on the wire is an encrypted frame or
// an encrypted trunk frame.
func isSealed(b []byte) bool { return crypt.IsEncryptedFrame(b) || crypt.IsEncryptedTrunk(b) }
