package bench

import (
	"crypto/rand"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/internal/load"
)

// enginePair is two engines back to back with a caller and a callee
// (package load) at their application sides, in simulated time: the
// in-process counterpart of two daemons, for the engines' memory.
type enginePair struct {
	a, b           *engine.Engine
	caller, callee *load.Host
	now            int64
	outA, outB     load.Outbox
	buf            []byte
}

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:4569") // A's daemon, as B sees it
	addrB = netip.MustParseAddrPort("10.0.0.2:4569") // B's daemon, as A sees it
)

func newEnginePair(tb testing.TB, calls int) *enginePair {
	tb.Helper()
	eng := func() *engine.Engine {
		id, err := crypt.GenerateIdentity(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		e, err := engine.New(engine.Config{Identity: id})
		if err != nil {
			tb.Fatal(err)
		}
		return e
	}
	p := &enginePair{a: eng(), b: eng(), now: 1e15, buf: make([]byte, 4096)}
	var err error
	p.caller, err = load.NewHost(load.Config{Role: load.Caller, Target: addrB, Calls: calls, Silent: true,
		Hold: time.Hour, SetupRate: 1e6}, p.now)
	if err != nil {
		tb.Fatal(err)
	}
	p.callee, err = load.NewHost(load.Config{Role: load.Callee, Silent: true}, p.now)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// step advances 1 ms and carries every datagram both ways until quiet.
func (p *enginePair) step() {
	p.now += int64(time.Millisecond)
	t := time.Unix(0, p.now)
	p.caller.Tick(p.now, &p.outA)
	p.callee.Tick(p.now, &p.outB)
	for len(p.outA.Datagrams)+len(p.outB.Datagrams) > 0 {
		for _, d := range p.outA.Datagrams {
			if r := p.a.Outbound(t, addrB, d.Buf, p.buf[:0]); r.Verdict == engine.Forward {
				if r2 := p.b.Inbound(t, addrA, r.Packet, make([]byte, 0, len(r.Packet))); r2.Verdict == engine.Forward {
					p.callee.Handle(p.now, addrA, r2.Packet, &p.outB)
				}
			}
		}
		p.outA.Reset()
		for _, d := range p.outB.Datagrams {
			if r := p.b.Outbound(t, addrA, d.Buf, p.buf[:0]); r.Verdict == engine.Forward {
				if r2 := p.a.Inbound(t, addrB, r.Packet, make([]byte, 0, len(r.Packet))); r2.Verdict == engine.Forward {
					p.caller.Handle(p.now, addrB, r2.Packet, &p.outA)
				}
			}
		}
		p.outB.Reset()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// callTableBytes sets up calls encrypted calls through two engines and
// returns the heap the engines hold per call and side, and how many calls
// were up.
func callTableBytes(tb testing.TB, calls int) (float64, int) {
	p, _ := upPair(tb, calls)
	up := int(p.caller.Report(p.now).Setup.Answered)
	enc := 0
	for _, ci := range p.a.Calls(time.Unix(0, p.now)) {
		if ci.Encrypted {
			enc++
		}
	}
	if enc != calls {
		tb.Fatalf("%d of %d calls encrypted on A", enc, calls)
	}
	// What the engines hold: the heap with them minus the heap without.
	a, b := p.a, p.b
	p.caller, p.callee, p.a, p.b = nil, nil, nil, nil
	with := heapInUse()
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	a, b = nil, nil
	without := heapInUse()
	return float64(with-without) / float64(2*calls), up
}

// TestCallTableMemory keeps the per-call memory of the engine in view:
// 2,000 encrypted calls, each side's heap per call. The target is
// below 2 KiB; this fails only far above it (a leak, a buffer per call),
// BenchmarkCallTableMemory reports the figure.
func TestCallTableMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sets up 2,000 encrypted calls")
	}
	per, up := callTableBytes(t, 2000)
	t.Logf("%d calls up: %.0f bytes per call and side", up, per)
	if per > 16<<10 {
		t.Fatalf("%.0f bytes per tracked call", per)
	}
}

// BenchmarkCallTableMemory reports the engine's heap per tracked,
// encrypted call at 10,000 calls (bytes/call).
func BenchmarkCallTableMemory(b *testing.B) {
	var per float64
	for b.Loop() {
		per, _ = callTableBytes(b, 10000)
	}
	b.ReportMetric(per, "bytes/call")
}
