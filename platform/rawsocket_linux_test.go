package platform

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/platform/nstest"
)

// udpPacket builds an IPv4 or IPv6 UDP packet with a correct UDP checksum
// and an IPv4 header checksum of zero (the kernel fills it in).
func udpPacket(src, dst netip.AddrPort, payload string) []byte {
	ulen := 8 + len(payload)
	udp := make([]byte, ulen)
	binary.BigEndian.PutUint16(udp[0:2], src.Port())
	binary.BigEndian.PutUint16(udp[2:4], dst.Port())
	binary.BigEndian.PutUint16(udp[4:6], uint16(ulen))
	copy(udp[8:], payload)
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src.Addr().AsSlice())
	add(dst.Addr().AsSlice())
	sum += 17 + uint32(ulen)
	add(udp)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(udp[6:8], ^uint16(sum))
	if src.Addr().Is4() {
		ip := make([]byte, 20, 20+ulen)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:4], uint16(20+ulen))
		ip[8], ip[9] = 64, 17
		copy(ip[12:16], src.Addr().AsSlice())
		copy(ip[16:20], dst.Addr().AsSlice())
		return append(ip, udp...)
	}
	ip := make([]byte, 40, 40+ulen)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:6], uint16(ulen))
	ip[6], ip[7] = 17, 64
	copy(ip[8:24], src.Addr().AsSlice())
	copy(ip[24:40], dst.Addr().AsSlice())
	return append(ip, udp...)
}

// TestKernelRawSocket sends whole UDP packets, built by hand with a chosen
// source port, through the raw sockets to a UDP socket of the namespace,
// and checks the datagram and its source arrive as built, for IPv4 and
// IPv6 (which needs IPV6_HDRINCL), and that SO_MARK is set.
func TestKernelRawSocket(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	const mark = 0x4569
	r, err := OpenRawSocket(SocketOptions{FwMark: mark})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.IPv6Err(); err != nil {
		t.Fatalf("no IPv6 pass-through on this kernel: %v", err)
	}
	for _, fd := range []int{r.fd4, r.fd6} {
		if got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK); err != nil || got != mark {
			t.Errorf("raw socket SO_MARK = %#x, %v; want %#x", got, err, mark)
		}
	}
	for _, addr := range []string{nstest.Addr4, nstest.Addr6} {
		a := netip.MustParseAddr(addr)
		ln, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		dst := ln.LocalAddr().(*net.UDPAddr).AddrPort()
		src := netip.AddrPortFrom(a, 4242)
		if err := r.SendIP(udpPacket(src, dst, "passed "+addr)); err != nil {
			t.Fatalf("SendIP to %v: %v", dst, err)
		}
		ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, from, err := ln.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("%v: nothing arrived: %v", dst, err)
		}
		if string(buf[:n]) != "passed "+addr || from.Port() != src.Port() || from.Addr().Unmap() != a {
			t.Errorf("%v: got %q from %v, want %q from %v", dst, buf[:n], from, "passed "+addr, src)
		}
	}
	for _, bad := range [][]byte{nil, {0x45, 0}, {0x60, 0}, {0x10, 0, 0, 0}} {
		if err := r.SendIP(bad); err == nil {
			t.Errorf("SendIP(% x) = nil, want an error", bad)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := r.SendIP(udpPacket(netip.MustParseAddrPort("10.99.0.1:1"), netip.MustParseAddrPort("10.99.0.1:2"), "x")); !errors.Is(err, errClosed) {
		t.Errorf("SendIP after Close = %v, want errClosed", err)
	}
}
