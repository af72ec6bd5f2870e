package device

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestStdConnLoopback sends datagrams over loopback between two wrapped
// sockets and checks addresses, payloads and the destination address.
func TestStdConnLoopback(t *testing.T) {
	for _, tt := range []struct{ name, network, listen, dial string }{
		{"ipv4 socket", "udp4", "127.0.0.1:0", "127.0.0.1"},
		{"dual-stack socket, ipv4 peer", "udp", ":0", "127.0.0.1"},
		{"ipv6 socket", "udp6", "[::1]:0", "::1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lc, err := net.ListenPacket(tt.network, tt.listen)
			if err != nil {
				t.Skipf("cannot listen: %v", err)
			}
			rx, err := NewUDPConn(lc.(*net.UDPConn))
			if err != nil {
				t.Fatal(err)
			}
			defer rx.Close()
			sc, err := net.ListenPacket(tt.network, net.JoinHostPort(tt.dial, "0"))
			if err != nil {
				t.Skipf("cannot listen: %v", err)
			}
			tx, err := NewUDPConn(sc.(*net.UDPConn))
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			to := netip.AddrPortFrom(netip.MustParseAddr(tt.dial), uint16(lc.LocalAddr().(*net.UDPAddr).Port))
			out := []Message{{Buf: []byte("one"), Addr: to}, {Buf: []byte("two"), Addr: to}}
			if n, err := tx.WriteBatch(out); n != 2 || err != nil {
				t.Fatalf("WriteBatch: %d, %v", n, err)
			}
			lc.SetReadDeadline(time.Now().Add(5 * time.Second))
			var got []string
			for len(got) < 2 {
				in := make([]Message, 4)
				for i := range in {
					in[i].Buf = make([]byte, 100)
				}
				n, err := rx.ReadBatch(in)
				if err != nil {
					t.Fatalf("ReadBatch: %v", err)
				}
				for _, m := range in[:n] {
					got = append(got, string(m.Buf[:m.N]))
					if m.Addr.Addr().Unmap() != to.Addr() || m.Addr.Port() != uint16(sc.LocalAddr().(*net.UDPAddr).Port) {
						t.Errorf("source %v, want %v port %d", m.Addr, to.Addr(), sc.LocalAddr().(*net.UDPAddr).Port)
					}
					if m.Local != to.Addr() {
						t.Errorf("arrived on %v, want %v", m.Local, to.Addr())
					}
				}
			}
			if got[0] != "one" || got[1] != "two" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestStdConnCloseUnblocksRead(t *testing.T) {
	lc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewUDPConn(lc.(*net.UDPConn))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadBatch([]Message{{Buf: make([]byte, 10)}})
		done <- err
	}()
	c.Close()
	select {
	case err := <-done:
		if !isClosedErr(err) {
			t.Fatalf("read after close: %v, want a closed error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch still blocked after Close")
	}
}
