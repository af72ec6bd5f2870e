package device

import (
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// TestDestSockaddr pins, for IPv4 and IPv6 peers on each kind of socket,
// the sockaddr each kernel is given, byte for byte, and the combinations
// the kernel refuses (finding 3 of issue 11: a dual-stack socket on macOS
// cannot send to IPv4 peers).
func TestDestSockaddr(t *testing.T) {
	v4 := netip.MustParseAddrPort("192.0.2.10:4569")
	mapped := netip.MustParseAddrPort("[::ffff:192.0.2.10]:4569")
	v6 := netip.MustParseAddrPort("[2001:db8::10]:4569")
	const (
		in4Darwin = "1002" + "11d9" + "c000020a" + "0000000000000000"
		in4Linux  = "0200" + "11d9" + "c000020a" + "0000000000000000"
		in6Darwin = "1c1e" + "11d9" + "00000000" + "20010db8000000000000000000000010" + "00000000"
		in6Linux  = "0a00" + "11d9" + "00000000" + "20010db8000000000000000000000010" + "00000000"
	)
	tests := []struct {
		peer netip.AddrPort
		kind SocketKind
		goos string
		want string // hex, or "" for refused
	}{
		{v4, SocketIPv4, "darwin", in4Darwin},
		{mapped, SocketIPv4, "darwin", in4Darwin},
		{v4, SocketIPv6Only, "darwin", ""},
		{v4, SocketDualStack, "darwin", ""},
		{v6, SocketIPv6Only, "darwin", in6Darwin},
		{v6, SocketDualStack, "darwin", in6Darwin},
		{v6, SocketIPv4, "darwin", ""},
		{v4, SocketIPv4, "linux", in4Linux},
		{v4, SocketDualStack, "linux", in4Linux},
		{mapped, SocketDualStack, "linux", in4Linux},
		{v4, SocketIPv6Only, "linux", ""},
		{v6, SocketDualStack, "linux", in6Linux},
		{v6, SocketIPv6Only, "linux", in6Linux},
		{v6, SocketIPv4, "linux", ""},
	}
	for _, tt := range tests {
		got, err := destSockaddr(tt.peer, tt.kind, tt.goos)
		if tt.want == "" {
			if !errors.Is(err, errWrongFamily) || !strings.Contains(err.Error(), tt.peer.String()) {
				t.Errorf("%s %v on %v: %x, %v; want errWrongFamily naming the peer", tt.goos, tt.peer, tt.kind, got, err)
			}
			continue
		}
		if err != nil || hex.EncodeToString(got) != tt.want {
			t.Errorf("%s %v on %v:\n got %x, %v\nwant %s", tt.goos, tt.peer, tt.kind, got, err, tt.want)
		}
	}
}

// TestStdConnRefusesWrongFamily: a wrapped IPv4 socket refuses an IPv6
// peer without a system call, and the datagrams around it still go.
func TestStdConnRefusesWrongFamily(t *testing.T) {
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	lc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := NewUDPConnOf(lc.(*net.UDPConn), SocketIPv6Only) // corrected to IPv4 from the socket itself
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	msgs := []Message{{Buf: []byte("a"), Addr: to}, {Buf: []byte("b"), Addr: netip.MustParseAddrPort("[::1]:9")}, {Buf: []byte("c"), Addr: to}}
	n, err := tx.WriteBatch(msgs)
	if n != 1 || !errors.Is(err, errWrongFamily) {
		t.Fatalf("WriteBatch = %d, %v; want 1 and errWrongFamily", n, err)
	}
	if n, err := tx.WriteBatch(msgs[2:]); n != 1 || err != nil {
		t.Fatalf("WriteBatch after the refused one = %d, %v", n, err)
	}
}
