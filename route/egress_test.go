package route

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// Routing messages as XNU sends them (rt_msghdr version 5 and its
// sockaddrs; rtmsg_darwin_test.go checks the route messages against
// golang.org/x/net/route).
func defaultRouteMsgBytes(t testing.TB, typ int, dst, gw string, mask []byte) []byte {
	t.Helper()
	d, err := inetSockaddr(netip.MustParseAddr(dst))
	if err != nil {
		t.Fatal(err)
	}
	g, err := inetSockaddr(netip.MustParseAddr(gw))
	if err != nil {
		t.Fatal(err)
	}
	addrs := rtaDst | rtaGateway
	sas := [][]byte{d, g}
	if mask != nil {
		addrs |= rtaNetmask
		sas = append(sas, mask)
	}
	return rtMsg(typ, rtfUp|rtfGateway|rtfStatic, 4, 9, addrs, sas...)
}

// ifMsgBytes is an if_msghdr or ifa_msghdr of the given type: the
// follower reads only its length, version and type.
func ifMsgBytes(typ int, n int) []byte {
	b := make([]byte, n)
	hostEndian.PutUint16(b, uint16(n))
	b[offVersion], b[offType] = rtmVersion, byte(typ)
	return b
}

func TestMayMoveDefault(t *testing.T) {
	zero4, _ := inetSockaddr(netip.IPv4Unspecified())
	mask8, _ := inetSockaddr(netip.MustParseAddr("255.0.0.0"))
	peerAdd, _ := hostRouteMsg(rtmAdd, 3, netip.MustParseAddr("192.0.2.10"), 17, "utun7")
	get, _ := getRouteMsg(4, netip.IPv4Unspecified())
	truncated := defaultRouteMsgBytes(t, rtmAdd, "0.0.0.0", "192.168.1.1", nil)
	truncated = truncated[:sizeofRtMsghdr+4]
	hostEndian.PutUint16(truncated, uint16(len(truncated)))
	for _, tt := range []struct {
		name string
		msg  []byte
		want bool
	}{
		{"default route added, no netmask", defaultRouteMsgBytes(t, rtmAdd, "0.0.0.0", "192.168.1.1", nil), true},
		{"default route deleted, zero-length netmask", defaultRouteMsgBytes(t, rtmDelete, "0.0.0.0", "192.168.1.1", []byte{}), true},
		{"default route changed, all-zero sockaddr_in netmask", defaultRouteMsgBytes(t, rtmChange, "0.0.0.0", "10.0.0.1", zero4), true},
		{"IPv6 default route added", defaultRouteMsgBytes(t, rtmAdd, "::", "fe80::1", nil), true},
		{"interface state (RTM_IFINFO)", ifMsgBytes(rtmIfinfo, 112), true},
		{"address added (RTM_NEWADDR)", ifMsgBytes(rtmNewAdr, 20), true},
		{"address removed (RTM_DELADDR)", ifMsgBytes(rtmDelAdr, 20), true},
		{"the daemon's host route to a peer", peerAdd, false},
		{"a network route (10/8)", defaultRouteMsgBytes(t, rtmAdd, "0.0.0.0", "192.168.1.1", mask8), false},
		{"a route to 10.0.0.0 with no netmask", defaultRouteMsgBytes(t, rtmAdd, "10.0.0.0", "192.168.1.1", nil), false},
		{"an RTM_GET answer for the default route", get, false},
		{"truncated", truncated, false},
		{"empty", nil, false},
		{"other version", func() []byte { b := ifMsgBytes(rtmIfinfo, 112); b[offVersion] = 4; return b }(), false},
	} {
		if got := mayMoveDefault(tt.msg); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeEgress is the system the follower looks at and changes.
type fakeEgress struct {
	mu       sync.Mutex
	route    string // "" means no default route
	lookups  int
	attempts int // calls of apply, failed ones included
	applied  [][2]string
	applyErr error
}

func newFakeEgress(route string) *fakeEgress {
	return &fakeEgress{route: route}
}

func (f *fakeEgress) lookup() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.route == "" {
		return "", errors.New("no default route")
	}
	return f.route, nil
}

func (f *fakeEgress) apply(old, new string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.applyErr != nil {
		return f.applyErr
	}
	f.applied = append(f.applied, [2]string{old, new})
	return nil
}

func (f *fakeEgress) set(route string, applyErr error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.route, f.applyErr = route, applyErr
}

func (f *fakeEgress) counts() (int, [][2]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups, append([][2]string(nil), f.applied...)
}

// waitFor waits until the follower has made lookups lookups and attempts
// changes.
func (f *fakeEgress) waitFor(t *testing.T, lookups, attempts int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		l, a := f.lookups, f.attempts
		f.mu.Unlock()
		if l == lookups && a == attempts {
			return
		}
		if l > lookups || a > attempts || time.Now().After(deadline) {
			t.Fatalf("follower made %d lookups and %d changes, want %d and %d", l, a, lookups, attempts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEgressFollower(t *testing.T) {
	sys := newFakeEgress("en0")
	f := &EgressFollower{Current: "en0", Lookup: sys.lookup, Apply: sys.apply, Settle: 200 * time.Millisecond}
	msgs := make(chan []byte)
	ended := make(chan string, 1)
	go func() { ended <- f.Run(context.Background(), msgs) }()
	wifiGone := defaultRouteMsgBytes(t, rtmDelete, "0.0.0.0", "192.168.1.1", nil)
	ethUp := defaultRouteMsgBytes(t, rtmAdd, "0.0.0.0", "10.0.0.1", nil)
	peer, _ := hostRouteMsg(rtmAdd, 3, netip.MustParseAddr("192.0.2.10"), 17, "utun7")

	// A switch from Wi-Fi to Ethernet: a burst of messages, one lookup,
	// one change.
	sys.set("en1", nil)
	for _, m := range [][]byte{wifiGone, ifMsgBytes(rtmIfinfo, 112), ifMsgBytes(rtmNewAdr, 20), ethUp, peer} {
		msgs <- m
	}
	sys.waitFor(t, 1, 1)
	if n, applied := sys.counts(); n != 1 || len(applied) != 1 || applied[0] != [2]string{"en0", "en1"} {
		t.Fatalf("after a switch: %d lookups, applied %v; want 1 lookup and en0 -> en1", n, applied)
	}

	// Asleep: the default route is gone, the lookup finds none, nothing
	// changes (that host routes alone cause no lookup is
	// TestMayMoveDefault's).
	msgs <- peer
	msgs <- peer
	sys.set("", nil) // asleep: no default route
	msgs <- wifiGone
	sys.waitFor(t, 2, 1)
	if n, applied := sys.counts(); n != 2 || len(applied) != 1 {
		t.Fatalf("host routes then a default route gone: %d lookups, applied %v; want 2 lookups, nothing applied", n, applied)
	}

	// Awake on Wi-Fi, but the change fails: the follower stays on en1 and
	// tries again with the next message.
	sys.set("en0", errors.New("interface en0: no such interface"))
	msgs <- ifMsgBytes(rtmIfinfo, 112)
	sys.waitFor(t, 3, 2)
	if _, applied := sys.counts(); len(applied) != 1 {
		t.Fatalf("a failed change was recorded: %v", applied)
	}
	sys.set("en0", nil)
	msgs <- ifMsgBytes(rtmNewAdr, 20)
	sys.waitFor(t, 4, 3)
	if _, applied := sys.counts(); len(applied) != 2 || applied[1] != [2]string{"en1", "en0"} {
		t.Fatalf("retry after a failed change: applied %v, want en1 -> en0 second", applied)
	}

	close(msgs)
	select {
	case cur := <-ended:
		if cur != "en0" {
			t.Errorf("Run ended on %q, want en0", cur)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return when its messages ended")
	}
}

func TestEgressFollowerStopsWithContext(t *testing.T) {
	sys := newFakeEgress("en0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		(&EgressFollower{Current: "en0", Lookup: sys.lookup, Apply: sys.apply}).Run(ctx, make(chan []byte))
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}

func FuzzMayMoveDefault(f *testing.F) {
	f.Add(ifMsgBytes(rtmIfinfo, 112))
	msg, _ := hostRouteMsg(rtmAdd, 7, netip.MustParseAddr("2001:db8::1"), 17, "utun7")
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) { mayMoveDefault(b) })
}
