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

func TestTrackerHalfOpenCapEvictsOldest(t *testing.T) {
	var removed []uint16
	tr := NewTracker[int](TrackerLimits{MaxHalfOpen: 3, MaxCalls: 10})
	tr.OnRemove = func(c *Call[int], why RemoveReason) {
		if why != RemovedEvicted {
			t.Errorf("removed for %v, want evicted", why)
		}
		removed = append(removed, c.RemoteCall)
	}
	for n := uint16(1); n <= 5; n++ {
		tr.Observe(trT0.Add(time.Duration(n)*time.Second), FromPeer, trPeer, iaxFull(n, 0, 0, 0, IAXNew))
	}
	if len(removed) != 2 || removed[0] != 1 || removed[1] != 2 {
		t.Fatalf("evicted %v, want [1 2]", removed)
	}
	st := tr.Stats()
	if st.HalfOpen != 3 || st.EvictedHalfOpen != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Accepted calls are not half-open and not evicted by NEWs while the
	// total cap holds.
	tr.Observe(trT0, FromApp, trPeer, iaxFull(100, 5, 0, 1, IAXAccept))
	if st := tr.Stats(); st.HalfOpen != 2 || st.Calls != 3 {
		t.Fatalf("after ACCEPT: %+v", st)
	}
}

func TestTrackerTotalCapEvictsLeastRecentlySeen(t *testing.T) {
	tr := NewTracker[int](TrackerLimits{MaxHalfOpen: 2, MaxCalls: 2})
	open := func(n uint16, at time.Time) *Call[int] {
		c, _ := tr.Observe(at, FromApp, trPeer, iaxFull(n, 0, 0, 0, IAXNew))
		tr.Observe(at, FromPeer, trPeer, iaxFull(n+100, n, 0, 1, IAXAccept))
		return c
	}
	c1 := open(1, trT0)
	c2 := open(2, trT0.Add(time.Second))
	tr.Touch(c1, trT0.Add(2*time.Second)) // c2 is now the least recently seen
	open(3, trT0.Add(3*time.Second))
	if tr.Lookup(FromApp, trPeer, 2) != nil || tr.Lookup(FromApp, trPeer, 1) != c1 {
		t.Fatal("the total cap did not evict the least recently seen call")
	}
	if c2.elem != nil {
		t.Fatal("evicted call still linked")
	}
	if st := tr.Stats(); st.EvictedCalls != 1 || st.Calls != 2 {
		t.Fatalf("stats %+v", st)
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
