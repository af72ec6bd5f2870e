package impair

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// A relay on loopback: A's datagrams reach B from the relay's B side, B's
// replies reach A from the relay's A side, and loss is applied.
func TestRelayLoopback(t *testing.T) {
	b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Free ports for the relay's two sides.
	la, lb := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan *Report, 1)
	go func() {
		r, err := Run(ctx, Config{ListenA: la.String(), ListenB: lb.String(), PeerB: netip.MustParseAddrPort(b.LocalAddr().String()),
			AtoB: Rates{Loss: 0.5}, Seed: 3}, func() { close(ready) })
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("relay not ready")
	}
	const n = 400
	for i := range n {
		a.WriteToUDPAddrPort([]byte{byte(i)}, la)
	}
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	got := 0
	var from netip.AddrPort
	for {
		b.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, addr, err := b.ReadFromUDPAddrPort(buf)
		if err != nil {
			break
		}
		from = addr
		got++
	}
	if got < n/4 || got > 3*n/4 || from.Port() != lb.Port() {
		t.Fatalf("B got %d of %d (loss 50%%), from %v (want the relay's B side %v)", got, n, from, lb)
	}
	b.WriteToUDPAddrPort([]byte("reply"), from)
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, addr, err := a.ReadFromUDPAddrPort(buf)
	if err != nil || string(buf[:k]) != "reply" || addr.Port() != la.Port() {
		t.Fatalf("A got %q from %v, %v", buf[:k], addr, err)
	}
	cancel()
	r := <-done
	if r.AtoB.In != n || r.AtoB.Out != uint64(got) || r.BtoA.Out != 1 {
		t.Fatalf("report %+v, B got %d", r, got)
	}
}

func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return netip.MustParseAddrPort(c.LocalAddr().String())
}
