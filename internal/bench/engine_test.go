package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// BenchmarkEngineVoice is the engines' cost per voice frame when many
// encrypted calls are up: a 160-byte G.711 mini frame of each call in
// turn, sealed by A's engine and opened by B's, as two daemons see a PBX's
// load. With one call everything is in the cache; with thousands each frame
// meets another call's table entry, keys and replay window. One op is one
// frame through both engines.
func BenchmarkEngineVoice(b *testing.B) {
	for _, calls := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) {
			p := newEnginePair(b, calls)
			for i := 0; i < 10000; i++ {
				p.step()
				if r := p.caller.Report(p.now); r.Setup.Answered == uint64(calls) {
					break
				}
			}
			now := time.Unix(0, p.now)
			var frames [][]byte
			for _, ci := range p.a.Calls(now) {
				if ci.Outgoing && ci.Encrypted {
					m := iax.MiniFrame{SrcCall: ci.LocalCall, Timestamp: 1000, Payload: make([]byte, 160)}
					frames = append(frames, m.AppendTo(nil))
				}
			}
			if len(frames) != calls {
				b.Fatalf("%d of %d calls encrypted", len(frames), calls)
			}
			out := make([]byte, 0, 2048)
			in := make([]byte, 0, 2048)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := p.a.Outbound(now, addrB, frames[i], out)
				if r.Verdict != engine.Forward {
					b.Fatalf("outbound: %v", r.Reason)
				}
				if r2 := p.b.Inbound(now, addrA, r.Packet, in); r2.Verdict != engine.Forward {
					b.Fatalf("inbound: %v", r2.Reason)
				}
				if i++; i == len(frames) {
					i = 0
				}
			}
		})
	}
}
