package device

import (
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestDeviceSeparateSockets: with Conn and Conn6 (macOS's one socket per
// family), datagrams to an IPv4 peer leave from the IPv4 socket and those
// to an IPv6 peer from the IPv6 socket, in one batch mixing both; both
// sockets are read, and Close ends both readers.
func TestDeviceSeparateSockets(t *testing.T) {
	before := runtime.NumGoroutine()
	mn := &memNet{}
	var mu sync.Mutex
	sentFrom := map[netip.AddrPort]netip.AddrPort{} // destination -> source socket
	mn.tap = func(from, to netip.AddrPort, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		sentFrom[to] = from
	}
	sock4 := netip.MustParseAddrPort("10.0.0.1:4570")
	sock6 := netip.MustParseAddrPort("[fd00::1]:4570")
	peer4 := netip.MustParseAddrPort("10.0.0.2:4570")
	peer6 := netip.MustParseAddrPort("[fd00::2]:4570")
	p4, p6 := mn.listen(peer4), mn.listen(peer6)
	tn := newChanTUN(8)
	d, err := New(Config{TUN: tn, Conn: mn.listen(sock4), Conn6: mn.listen(sock6), Engine: &fakeEngine{}, AppPort: appPort, ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// One TUN batch alternating families: v4, v6, v6, v4.
	for i, dst := range []netip.AddrPort{peer4, peer6, peer6, peer4} {
		src := netip.AddrPortFrom(sock4.Addr(), appPort)
		if dst.Addr().Is6() {
			src = netip.AddrPortFrom(sock6.Addr(), appPort)
		}
		tn.toDevice <- appPacket(t, src, dst, []byte{byte(i)})
	}
	for _, c := range []*memConn{p4, p4, p6, p6} {
		select {
		case <-c.in:
		case <-time.After(5 * time.Second):
			t.Fatalf("%v received nothing", c.addr)
		}
	}
	mu.Lock()
	if sentFrom[peer4] != sock4 || sentFrom[peer6] != sock6 {
		t.Errorf("sent from %v, want IPv4 peer from %v and IPv6 peer from %v", sentFrom, sock4, sock6)
	}
	mu.Unlock()

	// Both sockets are read: a datagram to each reaches the TUN.
	for _, c := range []struct {
		from *memConn
		to   netip.AddrPort
	}{{p4, sock4}, {p6, sock6}} {
		c.from.WriteBatch([]Message{{Buf: []byte("in"), Addr: c.to}})
		got := receive(t, tn)
		if got.Src.Addr() != c.from.addr.Addr() {
			t.Errorf("delivered from %v, want %v", got.Src, c.from.addr)
		}
	}
	if s := d.Stats(); s.ToNetwork != 4 || s.FromNetwork != 2 || s.SendErrors != 0 {
		t.Errorf("stats %+v, want 4 sent, 2 received, no send errors", s)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
