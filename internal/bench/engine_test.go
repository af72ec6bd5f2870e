package bench

import (
	"fmt"
	"net/netip"
	"sync"
	"syscall"
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
			p, now := upPair(b, calls)
			frames := voiceFrames(b, p.a, now, calls)
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

// BenchmarkEngineVoiceBothWays is BenchmarkEngineVoice with both
// directions at once, as in a daemon: one goroutine carries A's frames to
// B (A.Outbound, B.Inbound) while another carries B's frames to A, so each
// engine serves its two directions from two goroutines, as a daemon's TUN
// and socket readers do. It reports the process's CPU time per frame
// (cpu-ns/frame), which on a shared machine moves less than wall time, and
// what the same frames cost one goroutine doing both directions in turn.
func BenchmarkEngineVoiceBothWays(b *testing.B) {
	for _, calls := range []int{1000} {
		for _, parallel := range []bool{false, true} {
			b.Run(fmt.Sprintf("calls=%d/parallel=%v", calls, parallel), func(b *testing.B) {
				p, now := upPair(b, calls)
				fa, fb := voiceFrames(b, p.a, now, calls), voiceFrames(b, p.b, now, calls)
				carry := func(from, to *engine.Engine, toAddr, fromAddr netip.AddrPort, frames [][]byte, n int) {
					out := make([]byte, 0, 2048)
					in := make([]byte, 0, 2048)
					for i := range n {
						r := from.Outbound(now, toAddr, frames[i%len(frames)], out)
						if r.Verdict != engine.Forward {
							panic(fmt.Sprintf("outbound: %v", r.Reason))
						}
						if r2 := to.Inbound(now, fromAddr, r.Packet, in); r2.Verdict != engine.Forward {
							panic(fmt.Sprintf("inbound: %v", r2.Reason))
						}
					}
				}
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				if parallel {
					var wg sync.WaitGroup
					wg.Add(2)
					go func() { defer wg.Done(); carry(p.a, p.b, addrB, addrA, fa, b.N) }()
					go func() { defer wg.Done(); carry(p.b, p.a, addrA, addrB, fb, b.N) }()
					wg.Wait()
				} else {
					carry(p.a, p.b, addrB, addrA, fa, b.N)
					carry(p.b, p.a, addrA, addrB, fb, b.N)
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(2*b.N), "cpu-ns/frame")
			})
		}
	}
}

// upPair is an engine pair with calls encrypted calls up, and the time
// they are up at.
func upPair(tb testing.TB, calls int) (*enginePair, time.Time) {
	tb.Helper()
	p := newEnginePair(tb, calls)
	for i := 0; i < 10000; i++ {
		p.step()
		if r := p.caller.Report(p.now); r.Setup.Answered == uint64(calls) {
			break
		}
	}
	return p, time.Unix(0, p.now)
}

// voiceFrames returns a G.711 mini frame of each of e's encrypted calls,
// as e's application would send it.
func voiceFrames(tb testing.TB, e *engine.Engine, now time.Time, calls int) [][]byte {
	tb.Helper()
	var frames [][]byte
	for _, ci := range e.Calls(now) {
		if ci.Encrypted {
			m := iax.MiniFrame{SrcCall: ci.LocalCall, Timestamp: 1000, Payload: make([]byte, 160)}
			frames = append(frames, m.AppendTo(nil))
		}
	}
	if len(frames) != calls {
		tb.Fatalf("%d of %d calls encrypted", len(frames), calls)
	}
	return frames
}

// cpuTime is the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
