package load

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

var (
	callerAddr = netip.MustParseAddrPort("10.0.0.1:4571")
	calleeAddr = netip.MustParseAddrPort("10.0.0.2:4571")
)

// impairment is what the simulated network does to datagrams.
type impairment struct {
	delay            time.Duration
	loss, dup, reord float64 // probabilities
	reorderDelay     time.Duration
	dropFirst        func(b []byte) bool // drops a datagram once when true
	dropAll          func(b []byte) bool
}

// simNet delivers datagrams between two Hosts in simulated time.
type simNet struct {
	t       testing.TB
	now     int64
	a, b    *Host // a is the caller at callerAddr, b the callee at calleeAddr
	imp     impairment
	rng     *rand.Rand
	q       datagramQueue
	seq     int
	wire    []wireRecord // every datagram sent, when record is set
	record  bool
	outA    Outbox
	outB    Outbox
	dropped map[string]bool
}

type wireRecord struct {
	at       int64
	from, to netip.AddrPort
	data     []byte
}

type inflight struct {
	at   int64
	seq  int
	to   netip.AddrPort
	from netip.AddrPort
	data []byte
}

type datagramQueue []inflight

func (q datagramQueue) Len() int { return len(q) }
func (q datagramQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q datagramQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *datagramQueue) Push(x any)   { *q = append(*q, x.(inflight)) }
func (q *datagramQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

const simStart = int64(1_000_000_000_000)

func newSim(t testing.TB, caller, callee Config, imp impairment) *simNet {
	t.Helper()
	caller.Role, callee.Role = Caller, Callee
	caller.Target = calleeAddr
	a, err := NewHost(caller, simStart)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewHost(callee, simStart)
	if err != nil {
		t.Fatal(err)
	}
	return &simNet{t: t, now: simStart, a: a, b: b, imp: imp, rng: rand.New(rand.NewPCG(7, 9)), dropped: map[string]bool{}}
}

func (s *simNet) send(from netip.AddrPort, out *Outbox) {
	for _, d := range out.Datagrams {
		data := append([]byte(nil), d.Buf...)
		if s.record {
			s.wire = append(s.wire, wireRecord{at: s.now, from: from, to: d.Addr, data: data})
		}
		if s.imp.dropAll != nil && s.imp.dropAll(data) {
			continue
		}
		if s.imp.dropFirst != nil && s.imp.dropFirst(data) && !s.dropped[string(data)] {
			s.dropped[string(data)] = true
			continue
		}
		if s.imp.loss > 0 && s.rng.Float64() < s.imp.loss {
			continue
		}
		at := s.now + int64(s.imp.delay)
		if s.imp.reord > 0 && s.rng.Float64() < s.imp.reord {
			at += int64(s.imp.reorderDelay)
		}
		s.push(at, from, d.Addr, data)
		if s.imp.dup > 0 && s.rng.Float64() < s.imp.dup {
			s.push(at+int64(time.Millisecond), from, d.Addr, data)
		}
	}
	out.Reset()
}

func (s *simNet) push(at int64, from, to netip.AddrPort, data []byte) {
	s.seq++
	heap.Push(&s.q, inflight{at: at, seq: s.seq, from: from, to: to, data: data})
}

// step advances time by d: both hosts tick, then receive what is due.
func (s *simNet) step(d time.Duration) {
	s.now += int64(d)
	s.a.Tick(s.now, &s.outA)
	s.send(callerAddr, &s.outA)
	s.b.Tick(s.now, &s.outB)
	s.send(calleeAddr, &s.outB)
	for s.q.Len() > 0 && s.q[0].at <= s.now {
		p := heap.Pop(&s.q).(inflight)
		switch p.to {
		case calleeAddr:
			s.b.Handle(s.now, p.from, p.data, &s.outB)
			s.send(calleeAddr, &s.outB)
		case callerAddr:
			s.a.Handle(s.now, p.from, p.data, &s.outA)
			s.send(callerAddr, &s.outA)
		default:
			s.t.Fatalf("datagram to %v", p.to)
		}
	}
}

// runUntilDone steps 1 ms at a time until the caller is done, and lets the
// callee drain for a second more.
func (s *simNet) runUntilDone(limit time.Duration) {
	s.t.Helper()
	end := s.now + int64(limit)
	for !s.a.Done(s.now) {
		if s.now > end {
			s.t.Fatalf("caller not done after %v: %+v", limit, s.a.Report(s.now).Setup)
		}
		s.step(time.Millisecond)
	}
	for range 1000 {
		s.step(time.Millisecond)
	}
}

func (s *simNet) reports() (*Report, *Report, *PathReport) {
	s.t.Helper()
	ra, rb := s.a.Report(s.now), s.b.Report(s.now)
	p, err := Merge(ra, rb)
	if err != nil {
		s.t.Fatal(err)
	}
	return ra, rb, p
}
