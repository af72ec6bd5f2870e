package iax

import (
	"net/netip"
	"testing"
	"time"
)

var (
	trPeer  = netip.MustParseAddrPort("192.0.2.7:4569")
	trPeer2 = netip.MustParseAddrPort("192.0.2.8:4569")
	trT0    = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
)

func iaxFull(src, dst uint16, oseq, iseq uint8, sub IAXSubclass) *FullFrame {
	return &FullFrame{SrcCall: src, DstCall: dst, OSeq: oseq, ISeq: iseq, Type: FrameIAX, Subclass: uint8(sub)}
}

// step is one frame seen by the tracker in a table test.
type step struct {
	dir      Direction
	peer     netip.AddrPort
	f        *FullFrame
	wantCall bool      // a call is returned
	created  bool      // and it is new
	state    CallState // its state afterwards
}

func TestTrackerCallFlows(t *testing.T) {
	ctl := func(src, dst uint16, sub ControlSubclass) *FullFrame {
		return &FullFrame{SrcCall: src, DstCall: dst, Type: FrameControl, Subclass: uint8(sub)}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"outgoing call answered and hung up", []step{
			{FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew), true, true, CallOffered},
			{FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew), true, false, CallOffered}, // retransmission
			{FromPeer, trPeer, iaxFull(9, 1, 0, 1, IAXAccept), true, false, CallAccepted},
			{FromApp, trPeer, iaxFull(1, 9, 1, 1, IAXAck), true, false, CallAccepted},
			{FromPeer, trPeer, ctl(9, 1, ControlAnswer), true, false, CallAnswered},
			{FromApp, trPeer, iaxFull(1, 9, 2, 2, IAXHangup), true, false, CallEnded},
			{FromPeer, trPeer, iaxFull(9, 1, 2, 3, IAXAck), true, false, CallEnded},
		}},
		{"incoming call with CALLTOKEN and AUTHREQ", []step{
			{FromPeer, trPeer, iaxFull(5, 0, 0, 0, IAXNew), true, true, CallOffered},
			{FromApp, trPeer, iaxFull(0, 5, 0, 1, IAXCallToken), true, false, CallOffered},
			{FromPeer, trPeer, iaxFull(5, 0, 0, 0, IAXNew), true, false, CallOffered}, // re-sent with the token
			{FromApp, trPeer, iaxFull(7, 5, 0, 1, IAXAuthReq), true, false, CallAuthenticating},
			{FromPeer, trPeer, iaxFull(5, 7, 1, 1, IAXAuthRep), true, false, CallAuthenticating},
			{FromApp, trPeer, iaxFull(7, 5, 1, 2, IAXAccept), true, false, CallAccepted},
		}},
		{"rejected call", []step{
			{FromApp, trPeer, iaxFull(3, 0, 0, 0, IAXNew), true, true, CallOffered},
			{FromPeer, trPeer, iaxFull(4, 3, 0, 1, IAXReject), true, false, CallEnded},
		}},
		{"registration and poke are not calls", []step{
			{FromApp, trPeer, iaxFull(11, 0, 0, 0, IAXRegReq), false, false, 0},
			{FromPeer, trPeer, iaxFull(12, 11, 0, 1, IAXRegAck), false, false, 0},
			{FromPeer, trPeer, iaxFull(13, 0, 0, 0, IAXPoke), false, false, 0},
		}},
		{"same call number from two peers are two calls", []step{
			{FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew), true, true, CallOffered},
			{FromApp, trPeer2, iaxFull(1, 0, 0, 0, IAXNew), true, true, CallOffered},
		}},
		{"a NEW reusing an ended call's number starts a new call", []step{
			{FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew), true, true, CallOffered},
			{FromPeer, trPeer, iaxFull(2, 1, 0, 1, IAXReject), true, false, CallEnded},
			{FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew), true, true, CallOffered},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker[int](TrackerLimits{})
			for i, s := range tc.steps {
				c, created := tr.Observe(trT0, s.dir, s.peer, s.f)
				if (c != nil) != s.wantCall || created != s.created {
					t.Fatalf("step %d: call %v created %v, want call %v created %v", i, c != nil, created, s.wantCall, s.created)
				}
				if c != nil && c.State != s.state {
					t.Fatalf("step %d: state %v, want %v", i, c.State, s.state)
				}
			}
		})
	}
}

func TestTrackerMiniFramesFindTheirCall(t *testing.T) {
	tr := NewTracker[int](TrackerLimits{})
	c, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(0x101, 0, 0, 0, IAXNew))
	tr.Observe(trT0, FromPeer, trPeer, iaxFull(0x202, 0x101, 0, 1, IAXAccept))
	for _, tc := range []struct {
		dir  Direction
		peer netip.AddrPort
		src  uint16
		want bool
	}{
		{FromApp, trPeer, 0x101, true},
		{FromPeer, trPeer, 0x202, true},
		{FromPeer, trPeer, 0x101, false}, // the peer's frames carry its own number
		{FromApp, trPeer2, 0x101, false}, // another peer
		{FromApp, trPeer, 0, false},
	} {
		got := tr.Lookup(tc.dir, tc.peer, tc.src)
		if (got == c) != tc.want {
			t.Errorf("Lookup(%v, %v, %#x) = %v, want found=%v", tc.dir, tc.peer, tc.src, got, tc.want)
		}
	}
}

func TestTrackerHalfOpenBudgetPerDirection(t *testing.T) {
	tr := NewTracker[int](TrackerLimits{MaxHalfOpen: 3})
	var removed []RemoveReason
	tr.OnRemove = func(_ *Call[int], why RemoveReason) { removed = append(removed, why) }
	out, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
	// A flood of NEWs from the network evicts only half-open calls from
	// the network, never the one the application is placing.
	for n := uint16(1); n <= 50; n++ {
		tr.Observe(trT0, FromPeer, trPeer2, iaxFull(n, 0, 0, 0, IAXNew))
	}
	if tr.Lookup(FromApp, trPeer, 1) != out {
		t.Fatal("a flood of incoming NEWs evicted an outgoing call")
	}
	st := tr.Stats()
	if st.HalfOpen != 4 || st.EvictedHalfOpen != 47 || len(removed) != 47 {
		t.Fatalf("stats %+v, removed %d", st, len(removed))
	}
	for _, why := range removed {
		if why != RemovedEvicted {
			t.Fatalf("removed for %v", why)
		}
	}
}

func TestTrackerEvictionIsRandom(t *testing.T) {
	// Oldest-first eviction lets an attacker evict a given call by timing;
	// random eviction leaves the first call alive in some runs.
	survived := 0
	for range 200 {
		tr := NewTracker[int](TrackerLimits{MaxHalfOpen: 4})
		first, _ := tr.Observe(trT0, FromPeer, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
		for n := uint16(2); n <= 5; n++ {
			tr.Observe(trT0, FromPeer, trPeer2, iaxFull(n, 0, 0, 0, IAXNew))
		}
		if tr.Lookup(FromPeer, trPeer, 1) == first {
			survived++
		}
	}
	// Each run evicts one of four at random: the first survives 3 in 4.
	if survived < 100 || survived > 190 {
		t.Fatalf("first call survived %d of 200 runs, want about 150", survived)
	}
}

func TestTrackerProtectedCallsAreNeverEvicted(t *testing.T) {
	tr := NewTracker[int](TrackerLimits{MaxCalls: 4, MaxHalfOpen: 4, MaxAdopted: 2})
	c, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
	tr.Observe(trT0, FromPeer, trPeer, iaxFull(9, 1, 0, 1, IAXAccept))
	tr.Protect(c)
	// Unsolicited ACCEPTs and NEWs from many sources fill the table.
	for n := uint16(10); n < 2000; n++ {
		peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(n >> 8), byte(n)}), 4569)
		tr.Adopt(trT0, FromPeer, peer, iaxFull(n, n, 0, 1, IAXAccept))
		tr.Observe(trT0, FromPeer, peer, iaxFull(n+5000, 0, 0, 0, IAXNew))
	}
	if tr.Lookup(FromApp, trPeer, 1) != c || tr.Lookup(FromPeer, trPeer, 9) != c {
		t.Fatal("a protected call was evicted")
	}
	if st := tr.Stats(); st.Calls != 4 {
		t.Fatalf("table holds %d calls, cap 4", st.Calls)
	}
	// A table full of protected calls refuses new ones instead.
	full := NewTracker[int](TrackerLimits{MaxCalls: 1})
	p, _ := full.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
	full.Protect(p)
	if c, _ := full.Observe(trT0, FromPeer, trPeer2, iaxFull(5, 0, 0, 0, IAXNew)); c != nil {
		t.Fatal("a new call displaced a protected one")
	}
	if st := full.Stats(); st.Refused != 1 {
		t.Fatalf("refused %d, want 1", st.Refused)
	}
}

func TestTrackerExpiry(t *testing.T) {
	lim := TrackerLimits{HalfOpenTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, Linger: 5 * time.Second}
	tests := []struct {
		name  string
		setup func(tr *Tracker[int])
		after time.Duration
		gone  bool
		why   RemoveReason
	}{
		{"half-open before timeout", func(tr *Tracker[int]) { tr.Observe(trT0, FromPeer, trPeer, iaxFull(1, 0, 0, 0, IAXNew)) }, 9 * time.Second, false, 0},
		{"half-open after timeout", func(tr *Tracker[int]) { tr.Observe(trT0, FromPeer, trPeer, iaxFull(1, 0, 0, 0, IAXNew)) }, 10 * time.Second, true, RemovedHalfOpenTimeout},
		{"silent call", func(tr *Tracker[int]) {
			tr.Observe(trT0, FromPeer, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
			tr.Observe(trT0, FromApp, trPeer, iaxFull(2, 1, 0, 1, IAXAccept))
		}, 30 * time.Second, true, RemovedIdle},
		{"ended call lingers", func(tr *Tracker[int]) {
			tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
			tr.Observe(trT0, FromPeer, trPeer, iaxFull(2, 1, 0, 1, IAXReject))
		}, 4 * time.Second, false, 0},
		{"ended call goes after linger", func(tr *Tracker[int]) {
			tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
			tr.Observe(trT0, FromPeer, trPeer, iaxFull(2, 1, 0, 1, IAXReject))
		}, 5 * time.Second, true, RemovedEnded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker[int](lim)
			var got []RemoveReason
			tr.OnRemove = func(_ *Call[int], why RemoveReason) { got = append(got, why) }
			tc.setup(tr)
			tr.Expire(trT0.Add(tc.after))
			if tc.gone != (len(got) == 1) || (tc.gone && got[0] != tc.why) {
				t.Fatalf("removed %v, want gone=%v for %v", got, tc.gone, tc.why)
			}
			if tc.gone && tr.Stats().Calls != 0 {
				t.Fatal("call still counted")
			}
		})
	}
}

func TestTrackerNextOSeq(t *testing.T) {
	tr := NewTracker[int](TrackerLimits{})
	c, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
	if c.LastFromApp.NextOSeq != 1 {
		t.Fatalf("after NEW oseq 0: next %d, want 1", c.LastFromApp.NextOSeq)
	}
	tr.Observe(trT0, FromPeer, trPeer, iaxFull(2, 1, 0, 1, IAXAccept))
	tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 2, 1, 1, IAXAck))
	if c.LastFromApp.NextOSeq != 1 {
		t.Fatalf("after an ACK with oseq 1: next %d, want 1 (ACKs do not count)", c.LastFromApp.NextOSeq)
	}
}

func TestTrackerAdopt(t *testing.T) {
	tr := NewTracker[int](TrackerLimits{})
	c := tr.Adopt(trT0, FromApp, trPeer, iaxFull(7, 5, 0, 1, IAXAccept))
	if c == nil || c.LocalCall != 7 || c.RemoteCall != 5 || c.Outgoing {
		t.Fatalf("adopted %+v", c)
	}
	if tr.Lookup(FromPeer, trPeer, 5) != c || tr.Lookup(FromApp, trPeer, 7) != c {
		t.Fatal("adopted call not found by either number")
	}
	if tr.Adopt(trT0, FromApp, trPeer, iaxFull(7, 5, 0, 1, IAXAccept)) != nil {
		t.Fatal("adopted a call twice")
	}
}

// Asterisk answers the first NEW with a CALLTOKEN from a placeholder call
// number (1) and shows its real number first in the AUTHREQ (see
// ../shared/captures/asterisk22): both daemons must learn the real one.
func TestTrackerLearnsRealCallNumberAfterCallToken(t *testing.T) {
	for _, side := range []struct {
		name          string
		caller, calle Direction
	}{{"caller's daemon", FromApp, FromPeer}, {"callee's daemon", FromPeer, FromApp}} {
		t.Run(side.name, func(t *testing.T) {
			tr := NewTracker[int](TrackerLimits{})
			c, _ := tr.Observe(trT0, side.caller, trPeer, iaxFull(5, 0, 0, 0, IAXNew))
			tr.Observe(trT0, side.calle, trPeer, iaxFull(1, 5, 0, 1, IAXCallToken))
			tr.Observe(trT0, side.caller, trPeer, iaxFull(5, 0, 0, 0, IAXNew))
			got, _ := tr.Observe(trT0, side.calle, trPeer, iaxFull(15338, 5, 0, 1, IAXAuthReq))
			tr.Observe(trT0, side.caller, trPeer, iaxFull(5, 15338, 1, 1, IAXAuthRep))
			tr.Observe(trT0, side.calle, trPeer, iaxFull(15338, 5, 1, 2, IAXAccept))
			if got != c || c.State != CallAccepted {
				t.Fatalf("AUTHREQ found %p, call %p in state %v", got, c, c.State)
			}
			callee := c.RemoteCall
			if side.calle == FromApp {
				callee = c.LocalCall
			}
			if callee != 15338 {
				t.Fatalf("callee call number %d, want 15338 (1 is the CALLTOKEN placeholder)", callee)
			}
			if tr.Lookup(side.calle, trPeer, 15338) != c || tr.Lookup(side.calle, trPeer, 1) != nil {
				t.Fatal("lookup by the real number fails, or the placeholder still finds the call")
			}
		})
	}
}

func TestTrackerCallNumberReuse(t *testing.T) {
	t.Run("new call with the numbers of an ended one", func(t *testing.T) {
		tr := NewTracker[int](TrackerLimits{})
		old, _ := tr.Observe(trT0, FromPeer, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
		tr.Observe(trT0, FromApp, trPeer, iaxFull(2, 1, 0, 1, IAXAccept))
		tr.Observe(trT0, FromPeer, trPeer, iaxFull(1, 2, 1, 1, IAXHangup))
		c, created := tr.Observe(trT0.Add(time.Second), FromPeer, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
		if !created || c == old {
			t.Fatal("NEW after HANGUP did not start a new call")
		}
		if got, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(2, 1, 0, 1, IAXAccept)); got != c || c.LocalCall != 2 {
			t.Fatalf("ACCEPT of the new call found %p (new %p), local %d", got, c, c.LocalCall)
		}
	})
	t.Run("peer reuses its number with another of ours", func(t *testing.T) {
		tr := NewTracker[int](TrackerLimits{})
		old, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
		tr.Observe(trT0, FromPeer, trPeer, iaxFull(9, 1, 0, 1, IAXAccept))
		tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 9, 1, 1, IAXHangup))
		c, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(2, 0, 0, 0, IAXNew))
		// The peer's reply names our new call: it is not the ended one,
		// although the peer's number 9 is the ended call's.
		if got, _ := tr.Observe(trT0, FromPeer, trPeer, iaxFull(9, 2, 0, 1, IAXAccept)); got != c || got == old {
			t.Fatalf("ACCEPT found %p, want the new call %p", got, c)
		}
		if tr.Lookup(FromPeer, trPeer, 9) != c {
			t.Fatal("mini frames from 9 do not find the new call")
		}
	})
	t.Run("restarted application numbers from 1 again", func(t *testing.T) {
		tr := NewTracker[int](TrackerLimits{})
		old, _ := tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
		tr.Observe(trT0, FromPeer, trPeer, iaxFull(9, 1, 0, 1, IAXAccept))
		c, created := tr.Observe(trT0, FromApp, trPeer, iaxFull(1, 0, 0, 0, IAXNew))
		if !created || c == old {
			t.Fatal("the application's NEW for a number it had accepted is not a new call")
		}
	})
}
