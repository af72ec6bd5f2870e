package device

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

func offloadPair(t *testing.T) (tx, rx *offloadConn, to netip.AddrPort) {
	t.Helper()
	open := func() *offloadConn {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			c, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		}
		if err != nil {
			t.Fatal(err)
		}
		u, err := NewUDPConn(c)
		if err != nil {
			t.Fatal(err)
		}
		o, ok := WithOffload(u).(*offloadConn)
		if !ok {
			u.Close()
			t.Skip("no UDP segmentation offload on this kernel")
		}
		t.Cleanup(func() { o.Close() })
		return o
	}
	tx, rx = open(), open()
	ap := rx.c.LocalAddr().(*net.UDPAddr).AddrPort()
	return tx, rx, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Runs of equal datagrams leave coalesced and arrive split, identical and
// in order; other lengths and peers break the runs.
func TestOffloadRoundTrip(t *testing.T) {
	tx, rx, to := offloadPair(t)
	other := netip.AddrPortFrom(to.Addr(), to.Port()+1) // nobody listens
	var out []Message
	var want [][]byte
	add := func(to netip.AddrPort, size int, keep bool) {
		b := bytes.Repeat([]byte{byte(len(out))}, size)
		out = append(out, Message{Buf: b, Addr: to})
		if keep {
			want = append(want, b)
		}
	}
	for range 40 {
		add(to, 188, true) // sealed G.711 mini frames of many calls
	}
	add(to, 100, true) // a shorter one ends the run
	add(to, 188, true)
	add(other, 188, false)
	add(to, 300, true) // a longer one starts a new run
	for range 70 {
		add(to, 60, true) // more than one send can carry
	}
	if n, err := tx.WriteBatch(out); n != len(out) || err != nil {
		t.Fatalf("WriteBatch: %d of %d, %v", n, len(out), err)
	}
	if tx.coalescedOut.Load() < 3 {
		t.Errorf("%d coalesced sends for %d datagrams", tx.coalescedOut.Load(), len(out))
	}
	rx.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got [][]byte
	msgs := make([]Message, 16)
	for len(got) < len(want) {
		for i := range msgs {
			msgs[i] = Message{Buf: make([]byte, 2048)}
		}
		n, err := rx.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("ReadBatch after %d datagrams: %v", len(got), err)
		}
		for _, m := range msgs[:n] {
			if m.Local != to.Addr() {
				t.Fatalf("arrived on %v, want %v", m.Local, to.Addr())
			}
			got = append(got, m.Buf[:m.N])
		}
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("datagram %d: %d bytes of %d, want %d bytes of %d", i, len(got[i]), got[i][0], len(want[i]), want[i][0])
		}
	}
	if rx.coalescedIn.Load() == 0 {
		t.Error("nothing arrived coalesced: UDP_GRO not in effect")
	}
}

func TestParseRxControl(t *testing.T) {
	oob := appendSegmentControl(nil, 188) // same layout as UDP_GRO but the type
	oob[12] = 104                         // UDP_GRO
	if g, l := parseRxControl(oob); g != 188 || l.IsValid() {
		t.Fatalf("gso %d local %v", g, l)
	}
	for _, b := range [][]byte{nil, {1, 2, 3}, bytes.Repeat([]byte{0xff}, 40)} {
		parseRxControl(b) // no panic
	}
}
