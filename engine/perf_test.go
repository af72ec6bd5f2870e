package engine

import (
	"testing"
)

// TestSealOpenPathDoesNotAllocate: a voice packet of an encrypted call goes
// through Outbound on one side and Inbound on the other without a single
// allocation.
func TestSealOpenPathDoesNotAllocate(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	establish(t, l)
	frame := mini(callA, 100, 160)
	out := make([]byte, 0, 2048)
	in := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(1000, func() {
		r := a.eng.Outbound(l.now, addrB, frame, out)
		if r.Verdict != Forward {
			t.Fatal("dropped")
		}
		if r2 := b.eng.Inbound(l.now, addrA, r.Packet, in); r2.Verdict != Forward {
			t.Fatal("dropped on the way in")
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per packet, want 0", allocs)
	}
}

func benchmarkEncryptedPath(b *testing.B, n int) {
	a, c := newHost(b, "A", addrA, PolicyOpportunistic), newHost(b, "B", addrB, PolicyOpportunistic)
	l := newLink(b, a, c)
	establish(b, l)
	frame := mini(callA, 100, n)
	out := make([]byte, 0, 2048)
	sealed := a.eng.Outbound(l.now, addrB, frame, out).Packet
	b.Run("Outbound", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			a.eng.Outbound(l.now, addrB, frame, out)
		}
	})
	b.Run("Inbound", func(b *testing.B) {
		// Each packet must be new to the replay window: seal a fresh batch.
		pkts := make([][]byte, 4096)
		for i := range pkts {
			pkts[i] = append([]byte(nil), a.eng.Outbound(l.now, addrB, frame, out).Packet...)
		}
		in := make([]byte, 0, 2048)
		b.ReportAllocs()
		b.SetBytes(int64(len(sealed)))
		i := 0
		for b.Loop() {
			if i == len(pkts) {
				b.StopTimer()
				for j := range pkts {
					pkts[j] = append(pkts[j][:0], a.eng.Outbound(l.now, addrB, frame, out).Packet...)
				}
				i = 0
				b.StartTimer()
			}
			c.eng.Inbound(l.now, addrA, pkts[i], in)
			i++
		}
	})
}

// BenchmarkMiniG711 is one 20 ms G.711 packet (164-byte mini frame) of an
// encrypted call through the engine.
func BenchmarkMiniG711(b *testing.B) { benchmarkEncryptedPath(b, 160) }

// BenchmarkCallSetup is a whole NEW → ACCEPT through both engines: one
// handshake, both sides.
func BenchmarkCallSetup(b *testing.B) {
	a, c := newHost(b, "A", addrA, PolicyOpportunistic), newHost(b, "B", addrB, PolicyOpportunistic)
	out := make([]byte, 0, 2048)
	in := make([]byte, 0, 2048)
	b.ReportAllocs()
	n := uint16(0)
	for b.Loop() {
		n = n%0x7ffe + 1
		nf := iaxFrame(fb{src: n}, 0x01, ie(0x02, "100"))
		r := a.eng.Outbound(t0, addrB, nf, out)
		c.eng.Inbound(t0, addrA, r.Packet, in)
		af := iaxFrame(fb{src: n, dst: n, ts: 5, iseq: 1}, 0x07)
		r = c.eng.Outbound(t0, addrA, af, out)
		a.eng.Inbound(t0, addrB, r.Packet, in)
		hang := iaxFrame(fb{src: n, dst: n, ts: 6, oseq: 1, iseq: 1}, 0x05)
		a.eng.Outbound(t0, addrB, hang, out)
		c.eng.Inbound(t0, addrA, hang, in)
	}
}
