package engine

import (
	"bytes"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// trunkCalls sets up n encrypted calls from A to B (A's call numbers
// 1..n, B's 1001..1000+n), each past the caller's confirmation.
func trunkCalls(t testing.TB, l *link, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		a, b := uint16(i), uint16(1000+i)
		l.mustArrive("A", iaxFrame(fb{src: a}, iax.IAXNew, ie(iax.IECalledNumber, "100")))
		l.mustArrive("B", iaxFrame(fb{src: b, dst: a, ts: 1, oseq: 0, iseq: 1}, iax.IAXAccept, ie(iax.IEFormat, "\x00\x00\x00\x04")))
		l.mustArrive("A", iaxFrame(fb{src: a, dst: b, ts: 2, oseq: 1, iseq: 1}, iax.IAXAck))
		l.mustArrive("B", full(fb{src: b, dst: a, ts: 3, oseq: 1, iseq: 2}, iax.FrameControl, uint8(iax.ControlAnswer), nil))
	}
}

// trunkFrames builds what a PBX trunking n calls sends in one 20 ms tick:
// trunk frames of at most mtu bytes (Asterisk's trunkmtu), 160-byte G.711
// entries with per-entry timestamps.
func trunkFrames(n, mtu int, first, ts uint16) [][]byte {
	var frames [][]byte
	var entries []byte
	flush := func() {
		if len(entries) > 0 {
			tf := iax.TrunkFrame{CmdData: 1, Timestamp: uint32(ts), Entries: entries}
			frames = append(frames, tf.AppendTo(nil))
			entries = nil
		}
	}
	voice := bytes.Repeat([]byte{0xd5}, 160)
	for i := range n {
		if 8+len(entries)+6+len(voice) > mtu {
			flush()
		}
		entries = iax.AppendTrunkEntry(entries, true, iax.TrunkEntry{SrcCall: first + uint16(i), Timestamp: ts, HasTimestamp: true, Data: voice})
	}
	flush()
	return frames
}

// Trunks stay trunks: a trunk frame of encrypted calls leaves as one
// encrypted trunk frame and reaches the other PBX byte for byte.
func TestEncryptedTrunk(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	const calls = 100
	trunkCalls(t, l, calls)
	var clearPkts, clearBytes, wirePkts, wireBytes int
	const udpIP = 28
	for tick := range 50 {
		for _, f := range trunkFrames(calls, 1240, 1, uint16(40+20*tick)) {
			clearPkts++
			clearBytes += len(f) + udpIP
			r := a.eng.Outbound(l.now, addrB, f, make([]byte, 0, 2048))
			if r.Verdict != Forward || !crypt.IsEncryptedTrunk(r.Packet) {
				t.Fatalf("tick %d: verdict %v, packet %x…", tick, r.Verdict, head(r.Packet))
			}
			if inj := a.injected(); len(inj) != 0 {
				t.Fatalf("tick %d: %d packets injected beside the trunk", tick, len(inj))
			}
			wirePkts++
			wireBytes += len(r.Packet) + udpIP
			got := b.eng.Inbound(l.now, addrA, r.Packet, make([]byte, 0, 2048))
			if got.Verdict != Forward || !bytes.Equal(got.Packet, f) {
				t.Fatalf("tick %d: B delivered %x…, want the trunk frame as A's PBX sent it", tick, head(got.Packet))
			}
		}
	}
	pr, br := float64(wirePkts)/float64(clearPkts), float64(wireBytes)/float64(clearBytes)
	t.Logf("100 trunked calls: %.2fx the packets, %.3fx the bytes of the same load in clear", pr, br)
	if pr > 1.1 || br > 1.2 {
		t.Fatalf("%.2fx packets, %.3fx bytes: want at most 1.1x and 1.2x", pr, br)
	}
	// A replayed trunk frame opens nothing; a tampered entry loses only
	// its own call's entry.
	frames := trunkFrames(3, 1240, 1, 9000)
	r := a.eng.Outbound(l.now, addrB, frames[0], make([]byte, 0, 2048))
	wire := bytes.Clone(r.Packet)
	b.eng.Inbound(l.now, addrA, wire, make([]byte, 0, 2048))
	if got := b.eng.Inbound(l.now, addrA, wire, make([]byte, 0, 2048)); got.Verdict != Drop {
		t.Fatal("a replayed encrypted trunk frame was delivered")
	}
	r = a.eng.Outbound(l.now, addrB, frames[0], make([]byte, 0, 2048))
	wire = bytes.Clone(r.Packet)
	wire[len(wire)-1] ^= 1 // the last entry's tag
	got := b.eng.Inbound(l.now, addrA, wire, make([]byte, 0, 2048))
	tr, err := iax.ParseTrunk(got.Packet)
	if got.Verdict != Forward || err != nil {
		t.Fatalf("tampered trunk: %v %v", got.Verdict, err)
	}
	n := 0
	_ = tr.Range(func(iax.TrunkEntry) bool { n++; return true })
	if n != 2 || b.call(t, l.now, 1003).Drops[DropAuthentication] != 1 {
		t.Fatalf("%d entries delivered, call 3 drops %v; want 2 and one authentication drop", n, b.call(t, l.now, 1003).Drops)
	}
}

// A trunk frame that mixes encrypted calls, calls in clear and an unknown
// call: the encrypted entries leave sealed together, the clear ones in a
// cleartext trunk of their own, the unknown one not at all.
func TestMixedTrunk(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	trunkCalls(t, l, 2)
	// Call 50 goes on in clear (B's daemon does not answer it).
	l.out("A", iaxFrame(fb{src: 50}, iax.IAXNew, ie(iax.IECalledNumber, "100")))
	l.in("B", iaxFrame(fb{src: 1050, dst: 50, ts: 1, oseq: 0, iseq: 1}, iax.IAXAccept))
	voice := bytes.Repeat([]byte{0x55}, 160)
	var entries []byte
	for _, call := range []uint16{1, 50, 2, 0x0777} {
		entries = iax.AppendTrunkEntry(entries, false, iax.TrunkEntry{SrcCall: call, Data: voice})
	}
	tf := iax.TrunkFrame{CmdData: 0, Timestamp: 777, Entries: entries}
	r := a.eng.Outbound(l.now, addrB, tf.AppendTo(nil), make([]byte, 0, 2048))
	inj := a.injected()
	if r.Verdict != Forward || !crypt.IsEncryptedTrunk(r.Packet) || len(inj) != 1 {
		t.Fatalf("verdict %v, %d injected", r.Verdict, len(inj))
	}
	clear, err := iax.ParseTrunk(inj[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	var clearCalls []uint16
	_ = clear.Range(func(e iax.TrunkEntry) bool { clearCalls = append(clearCalls, e.SrcCall); return true })
	if len(clearCalls) != 1 || clearCalls[0] != 50 {
		t.Fatalf("cleartext trunk carries %v, want [50]", clearCalls)
	}
	if n := a.eng.Stats().Dropped[DropUnknownTrunkEntry]; n != 1 {
		t.Fatalf("unknown entries dropped %d, want 1", n)
	}
}

// BenchmarkTrunkOverhead reports the wire cost of 100 trunked encrypted
// calls against the same load in clear (issue 6's targets: 1.1x packets,
// 1.2x bytes), and the engine's time per trunk frame both ways.
func BenchmarkTrunkOverhead(b *testing.B) {
	ha, hb := newHost(b, "A", addrA, PolicyOpportunistic), newHost(b, "B", addrB, PolicyOpportunistic)
	l := newLink(b, ha, hb)
	trunkCalls(b, l, 100)
	frames := trunkFrames(100, 1240, 1, 40)
	out, in := make([]byte, 0, 2048), make([]byte, 0, 2048)
	var clearBytes, wireBytes, clearPkts, wirePkts int
	var inj []Packet
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f := frames[i%len(frames)]
		r := ha.eng.Outbound(l.now, addrB, f, out)
		clearPkts++
		clearBytes += len(f) + 28
		if r.Verdict == Forward {
			wirePkts++
			wireBytes += len(r.Packet) + 28
		}
		inj = ha.eng.TakeInjected(inj[:0])
		for _, p := range inj {
			wirePkts++
			wireBytes += len(p.Data) + 28
		}
		hb.eng.Inbound(l.now, addrA, r.Packet, in)
	}
	b.ReportMetric(float64(wirePkts)/float64(clearPkts), "packets-ratio")
	b.ReportMetric(float64(wireBytes)/float64(clearBytes), "bytes-ratio")
}
