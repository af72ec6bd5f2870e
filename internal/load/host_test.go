package load

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// describe names a datagram for call-flow assertions.
func describe(b []byte) string {
	k, err := iax.Classify(b)
	if err != nil {
		return "junk"
	}
	switch k {
	case iax.KindMini:
		return "mini"
	case iax.KindTrunk:
		return "trunk"
	case iax.KindFull:
		f, _ := iax.ParseFull(b)
		r := ""
		if f.Retransmit {
			r = "(R)"
		}
		if sub, ok := f.IAXSubclass(); ok {
			return sub.String() + r
		}
		if sub, ok := f.ControlSubclass(); ok {
			return "CONTROL " + sub.String() + r
		}
		return f.Type.String() + r
	}
	return k.String()
}

// The wire of one clean call: the call flow of RFC 5456 with sequence
// numbers that check, voice every 20 ms, full voice first, and HANGUP.
func TestCallFlowOnTheWire(t *testing.T) {
	s := newSim(t, Config{Calls: 1, Hold: time.Second}, Config{}, impairment{delay: time.Millisecond})
	s.record = true
	s.runUntilDone(time.Minute)

	var flow []string
	minis := map[string]int{}
	seq := map[string]uint8{} // next oseq expected per sender
	for _, w := range s.wire {
		d := describe(w.data)
		if d == "mini" {
			minis[w.from.String()]++
		} else if len(flow) == 0 || flow[len(flow)-1] != d || !strings.HasPrefix(d, "VOICE") {
			flow = append(flow, fmt.Sprintf("%s>%s", side(w.from), d))
		}
		if f, err := iax.ParseFull(w.data); err == nil && isCounted(&f) {
			if f.OSeq != seq[w.from.String()] {
				t.Errorf("%s sent %s with oseq %d, want %d", side(w.from), d, f.OSeq, seq[w.from.String()])
			}
			seq[w.from.String()]++
		}
	}
	// The callee's voice starts with its ANSWER; the caller's with the
	// ANSWER it receives. Each full frame gets its ACK.
	want := []string{"A>NEW", "B>ACCEPT", "B>CONTROL ANSWER", "B>VOICE", "A>ACK", "A>ACK", "A>VOICE", "A>ACK", "B>ACK", "A>HANGUP", "B>ACK"}
	if strings.Join(flow, " ") != strings.Join(want, " ") {
		t.Errorf("call flow\n got %v\nwant %v", flow, want)
	}
	// One second at 20 ms: 50 frames, the first full.
	if minis[callerAddr.String()] != 49 || minis[calleeAddr.String()] < 49 {
		t.Errorf("mini frames: caller %d, callee %d; want 49 and at least 49", minis[callerAddr.String()], minis[calleeAddr.String()])
	}
	ra, rb, p := s.reports()
	if ra.Setup.Answered != 1 || ra.Setup.Failed != 0 || ra.Setup.Unfinished != 0 || rb.Setup.Answered != 1 {
		t.Fatalf("setup %+v / %+v", ra.Setup, rb.Setup)
	}
	if p.CallerTo.Sent != 50 || p.CallerTo.Received != 50 || p.CalleeTo.Lost != 0 || p.Both.Duplicates != 0 {
		t.Errorf("path %+v", p)
	}
	if l := p.Both.Latency; l.P50Ms < 0.97 || l.P50Ms > 1.03 || l.MaxMs > 1.03 {
		t.Errorf("latency %+v, want 1 ms", l)
	}
}

func side(a interface{ String() string }) string {
	if a.String() == callerAddr.String() {
		return "A"
	}
	return "B"
}

// A lost NEW is sent again after Retry with the R bit; the call then
// comes up, its set-up time showing the retry.
func TestNewRetransmitted(t *testing.T) {
	s := newSim(t, Config{Calls: 1, Hold: 200 * time.Millisecond, Retry: 500 * time.Millisecond}, Config{},
		impairment{delay: time.Millisecond, dropFirst: func(b []byte) bool { return describe(b) == "NEW" }})
	s.record = true
	s.runUntilDone(time.Minute)
	var news []string
	for _, w := range s.wire {
		if d := describe(w.data); strings.HasPrefix(d, "NEW") {
			news = append(news, fmt.Sprintf("%s@%dms", d, (w.at-simStart)/1e6))
		}
	}
	if strings.Join(news, " ") != "NEW@1ms NEW(R)@501ms" {
		t.Errorf("NEWs sent: %v", news)
	}
	ra, _, p := s.reports()
	if ra.Setup.Answered != 1 || ra.Setup.P50Ms < 480 || ra.Setup.P50Ms > 520 || ra.Sent.Retransmits != 1 {
		t.Errorf("setup %+v, %d retransmissions", ra.Setup, ra.Sent.Retransmits)
	}
	if p.Both.Lost != 0 {
		t.Errorf("lost %d frames", p.Both.Lost)
	}
}

// A NEW nobody answers is retried MaxRetries times, ten times later each
// time up to RetryMax, and the call then fails, saying why.
func TestUnansweredCallFails(t *testing.T) {
	s := newSim(t, Config{Calls: 1, Retry: 100 * time.Millisecond, RetryMax: time.Second, PerCall: true}, Config{},
		impairment{dropAll: func(b []byte) bool { return true }})
	s.record = true
	s.runUntilDone(time.Minute)
	var at []int64
	for _, w := range s.wire {
		at = append(at, (w.at-simStart)/1e6)
	}
	if fmt.Sprint(at) != "[1 101 1101 2101 3101]" {
		t.Errorf("NEW sent at %v ms", at)
	}
	ra, _, _ := s.reports()
	if ra.Setup.Failed != 1 || ra.Setup.Answered != 0 || len(ra.PerCall) != 1 || ra.PerCall[0].Reason != "no acknowledgement of NEW" {
		t.Fatalf("setup %+v, calls %+v", ra.Setup, ra.PerCall)
	}
}

// The 16-bit timestamp of mini frames wraps every 65.536 s: a full voice
// frame goes out at each wrap, and the receiver keeps counting.
func TestFullVoiceFrameAtTimestampWrap(t *testing.T) {
	s := newSim(t, Config{Calls: 1, Hold: 3 * time.Second}, Config{}, impairment{delay: time.Millisecond})
	s.a.tsOffset = 65536*time.Millisecond.Nanoseconds() - int64(2*time.Second) // wrap 2 s into the call
	s.record = true
	s.runUntilDone(time.Minute)
	var fullVoice []uint32
	for _, w := range s.wire {
		if w.from != callerAddr {
			continue
		}
		if f, err := iax.ParseFull(w.data); err == nil && f.Type == iax.FrameVoice && !f.Retransmit {
			fullVoice = append(fullVoice, f.Timestamp)
		}
	}
	if len(fullVoice) != 2 || fullVoice[0]>>16 != 0 || fullVoice[1]>>16 != 1 || fullVoice[1]&0xffff >= 20 {
		t.Fatalf("full voice frames at timestamps %v, want one at the start and one right after 65536", fullVoice)
	}
	_, _, p := s.reports()
	if p.CallerTo.Lost != 0 || p.CallerTo.Received != 150 {
		t.Fatalf("caller to callee %+v", p.CallerTo)
	}
}

// Trunk mode: voice leaves in meta trunk frames with timestamps, none
// longer than the trunk MTU, each holding entries of several calls.
func TestTrunkFrames(t *testing.T) {
	s := newSim(t, Config{Calls: 40, Hold: time.Second, Trunk: true, SetupRate: 10000},
		Config{Trunk: true}, impairment{delay: time.Millisecond})
	s.record = true
	s.runUntilDone(time.Minute)
	frames, entries, maxLen := 0, 0, 0
	for _, w := range s.wire {
		switch describe(w.data) {
		case "mini":
			t.Fatal("a mini frame in trunk mode")
		case "trunk":
			tf, err := iax.ParseTrunk(w.data)
			if err != nil || !tf.HasTimestamps() {
				t.Fatalf("trunk frame %x: %v", w.data[:8], err)
			}
			frames++
			maxLen = max(maxLen, len(w.data))
			if err := tf.Range(func(e iax.TrunkEntry) bool { entries++; return len(e.Data) == DefaultPayloadSize }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if maxLen > DefaultTrunkMTU || maxLen < DefaultTrunkMTU-200 {
		t.Errorf("longest trunk frame %d bytes, want close to but at most %d", maxLen, DefaultTrunkMTU)
	}
	ra, rb, p := s.reports()
	if uint64(entries) != ra.Sent.Voice+rb.Sent.Voice-80 || entries/frames < 3 {
		t.Errorf("%d entries in %d trunk frames; %d+%d voice frames sent", entries, frames, ra.Sent.Voice, rb.Sent.Voice)
	}
	if p.Both.Lost != 0 || p.Both.Received != p.Both.Sent || p.CallerTo.Received != 2000 || p.Both.Latency.MaxMs > 1.1 {
		t.Errorf("path %+v", p.Both)
	}
}

// An echoing callee sends back what it gets; the caller measures both
// ways.
func TestEchoCallee(t *testing.T) {
	s := newSim(t, Config{Calls: 5, Hold: time.Second}, Config{Echo: true},
		impairment{delay: 2 * time.Millisecond})
	s.runUntilDone(time.Minute)
	ra, rb, _ := s.reports()
	if ra.Received.Frames != 250 || rb.Received.Frames != 250 || rb.Sent.Voice != 250 {
		t.Fatalf("caller got %d, callee got %d and echoed %d", ra.Received.Frames, rb.Received.Frames, rb.Sent.Voice)
	}
	if f := ra.Received.EchoForward; f == nil || f.P50Ms < 1.9 || f.P50Ms > 2.1 || ra.Received.Latency.P50Ms < 1.9 || ra.Received.Latency.P50Ms > 2.1 {
		t.Fatalf("latency back %+v, forward %+v", ra.Received.Latency, f)
	}
}

// Loss, duplication and reordering on the path are counted as such, the
// totals add up, and every call still sets up and ends (retransmissions).
func TestImpairedPathAccounting(t *testing.T) {
	s := newSim(t, Config{Calls: 50, Hold: 5 * time.Second, Retry: 200 * time.Millisecond, PerCall: true}, Config{PerCall: true},
		impairment{delay: time.Millisecond, loss: 0.02, dup: 0.02, reord: 0.02, reorderDelay: 50 * time.Millisecond})
	s.runUntilDone(5 * time.Minute)
	ra, rb, p := s.reports()
	if ra.Setup.Answered != 50 || ra.Setup.Failed != 0 || ra.Setup.Unfinished != 0 {
		t.Fatalf("setup %+v", ra.Setup)
	}
	for _, d := range []Direction{p.CallerTo, p.CalleeTo} {
		if d.Received+d.Lost != d.Sent {
			t.Errorf("received %d + lost %d != sent %d", d.Received, d.Lost, d.Sent)
		}
		if d.LossPct < 1 || d.LossPct > 3 || d.Duplicates == 0 || d.Reordered == 0 || d.Corrupt != 0 || d.Misrouted != 0 {
			t.Errorf("direction %+v", d)
		}
	}
	// Per call, what one side sent is what the other received or lost.
	sent := map[uint32]uint64{}
	for _, c := range ra.PerCall {
		sent[c.Index] = c.Sent
	}
	for _, c := range rb.PerCall {
		if c.Received > sent[c.Index] || c.Expected > sent[c.Index] {
			t.Errorf("call %d: callee received %d of %d expected, caller sent %d", c.Index, c.Received, c.Expected, sent[c.Index])
		}
	}
}

// A soak replaces ended calls until RunFor, reusing call numbers.
func TestSoakReplacesCalls(t *testing.T) {
	s := newSim(t, Config{Calls: 10, Hold: time.Second, RunFor: 10 * time.Second, Linger: 500 * time.Millisecond, PerCall: true},
		Config{Linger: 500 * time.Millisecond}, impairment{delay: time.Millisecond})
	s.a.maxLocal, s.b.maxLocal = 30, 30
	s.runUntilDone(time.Minute)
	ra, rb, p := s.reports()
	if ra.Setup.Attempted < 80 || ra.Setup.Failed != 0 || rb.Setup.Answered != ra.Setup.Answered || p.Both.Lost != 0 {
		t.Fatalf("caller %+v, callee %+v, lost %d", ra.Setup, rb.Setup, p.Both.Lost)
	}
	locals := map[uint16]int{}
	for _, c := range ra.PerCall {
		locals[c.Local]++
	}
	if len(locals) >= len(ra.PerCall) {
		t.Errorf("%d calls used %d call numbers: none reused", len(ra.PerCall), len(locals))
	}
}

// Damaged and misrouted payloads are counted, never taken for voice.
func TestCorruptAndMisroutedCounted(t *testing.T) {
	s := newSim(t, Config{Calls: 2, Hold: 200 * time.Millisecond}, Config{}, impairment{delay: time.Millisecond})
	flip := 0
	s.imp.dropFirst = func(b []byte) bool {
		if describe(b) == "mini" && flip < 3 {
			flip++
			b[len(b)-1] ^= 1 // damaged in flight; still delivered
		}
		return false
	}
	s.runUntilDone(time.Minute)
	_, _, p := s.reports()
	if p.Both.Corrupt != 3 || p.Both.Lost != 3 {
		t.Fatalf("corrupt %d lost %d, want 3 and 3", p.Both.Corrupt, p.Both.Lost)
	}
	// A payload of another call arriving on this one is misrouted.
	h := s.b
	var c *call
	for _, x := range h.calls {
		if x != nil {
			c = x
			break
		}
	}
	pl := make([]byte, 160)
	PutPayload(pl, Payload{Index: c.index + 100})
	h.voiceIn(s.now, c, pl, &Outbox{})
	if c.misrouted != 1 {
		t.Fatal("misrouted payload not counted")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Role: Caller, Calls: 1},
		{Role: Caller, Target: calleeAddr, Calls: 0},
		{Role: Caller, Target: calleeAddr, Calls: MaxCalls + 1},
		{Role: Callee, PayloadSize: 10},
		{Role: Callee, Trunk: true, TrunkMTU: 100},
	} {
		if _, err := NewHost(c, 0); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
}

// Junk and frames of unknown calls are counted, never a panic.
func TestHostIgnoresJunk(t *testing.T) {
	h, err := NewHost(Config{Role: Callee}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out Outbox
	for _, b := range [][]byte{nil, {1}, {0, 0, 1, 0}, bytes.Repeat([]byte{0xff}, 12), {0x80, 1, 0, 5, 0, 0, 0, 0, 0, 0, 6, 4}, {0, 5, 0, 0, 1, 2}} {
		h.Handle(1, callerAddr, b, &out)
	}
	r := h.Report(1)
	if r.Foreign+r.UnknownCall != 6 || len(out.Datagrams) != 0 {
		t.Fatalf("foreign %d unknown %d, sent %d", r.Foreign, r.UnknownCall, len(out.Datagrams))
	}
}

func FuzzHostHandle(f *testing.F) {
	f.Add([]byte{0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 1})
	f.Add([]byte{0, 0, 1, 1, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, role := range []Role{Caller, Callee} {
			h, err := NewHost(Config{Role: role, Target: calleeAddr, Calls: 1, Trunk: true}, 0)
			if err != nil {
				t.Fatal(err)
			}
			var out Outbox
			h.Tick(1e6, &out)
			h.Handle(2e6, calleeAddr, b, &out)
			h.Handle(3e6, calleeAddr, b, &out)
			h.Tick(5e9, &out)
			h.Report(6e9)
		}
	})
}

// BenchmarkVoice is the Hosts' cost per voice frame: 1,000 calls up, each
// iteration 20 ms of voice both ways, sent by one Host and taken by the
// other.
func BenchmarkVoice(b *testing.B) {
	s := newSim(b, Config{Calls: 1000, Hold: time.Hour}, Config{}, impairment{})
	for range 1100 { // calls placed over a second: voice phases spread

		s.step(time.Millisecond)
	}
	frames := func() uint64 { return s.a.totals.txVoice + s.b.totals.txVoice }
	before := frames()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for range 20 { // 1 ms ticks, as Run does
			s.now += int64(time.Millisecond)
			s.a.Tick(s.now, &s.outA)
			s.b.Tick(s.now, &s.outB)
			for _, d := range s.outA.Datagrams {
				s.b.Handle(s.now, callerAddr, d.Buf, &s.outB)
			}
			for _, d := range s.outB.Datagrams {
				s.a.Handle(s.now, calleeAddr, d.Buf, &s.outA)
			}
			s.outA.Reset()
			s.outB.Reset()
		}
	}
	n := frames() - before
	if n < uint64(b.N)*2000 {
		b.Fatalf("%d voice frames in %d iterations: calls dropped", n, b.N)
	}
	b.ReportMetric(float64(b.Elapsed())/float64(n), "ns/frame")
}

// A call accepted and never answered fails after answerTimeout instead of
// keeping the caller from finishing.
func TestAcceptedButNeverAnswered(t *testing.T) {
	s := newSim(t, Config{Calls: 1, PerCall: true}, Config{}, impairment{delay: time.Millisecond,
		dropAll: func(b []byte) bool { return strings.HasPrefix(describe(b), "CONTROL ANSWER") }})
	s.runUntilDone(2 * time.Minute)
	ra, _, _ := s.reports()
	if ra.Setup.Failed != 1 || len(ra.PerCall) != 1 || ra.PerCall[0].Reason != "accepted but never answered" {
		t.Fatalf("setup %+v, calls %+v", ra.Setup, ra.PerCall)
	}
}
