package attacker

import (
	"testing"
	"time"
)

// FuzzHandle feeds arbitrary packets to the attacker in every mode: it
// must never panic, and everything it sends must be a valid IPv4 packet
// (checked by the rig's checksum check) or a packet it passed unchanged.
func FuzzHandle(f *testing.F) {
	r := newRig(f, Settings{Mode: ModePass})
	r.establish()
	r.talk(2)
	for _, pkt := range r.wire {
		f.Add(uint8(0), pkt)
	}
	f.Add(uint8(3), []byte{0x45, 0, 0, 20})
	f.Fuzz(func(t *testing.T, mode uint8, pkt []byte) {
		a := New(Config{Seed: 1})
		s := Settings{Mode: modes[int(mode)%len(modes)], FlipEvery: 1, DupEvery: 1, ReplayEvery: 1, ReplayDistance: 1,
			InjectAfter: 1, FloodTarget: addrA.String(), FloodNews: 3, FloodAccepts: 3}
		if err := a.Set(s); err != nil {
			t.Fatal(err)
		}
		now := t0
		for i := 0; i < 3; i++ {
			a.Handle(now, pkt)
			now = now.Add(time.Second)
			a.Tick(now)
		}
		a.Counters(now)
	})
}

func BenchmarkHandleReplay(b *testing.B) {
	r := newRig(b, Settings{Mode: ModeReplay})
	r.establish()
	r.talk(1)
	pkt := r.wire[len(r.wire)-1]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.atk.Handle(r.now, pkt)
	}
}
