package device

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// refChecksum is a byte-at-a-time RFC 1071 checksum, independent of sum.
func refChecksum(chunks ...[]byte) uint16 {
	var all []byte
	for _, c := range chunks {
		all = append(all, c...)
	}
	var s uint32
	for i := 0; i+1 < len(all); i += 2 {
		s += uint32(all[i])<<8 | uint32(all[i+1])
	}
	if len(all)%2 == 1 {
		s += uint32(all[len(all)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// verifyUDPChecksums checks the IPv4 header checksum and the UDP checksum of
// pkt by recomputing them from scratch; both must come out as zero.
func verifyUDPChecksums(t testing.TB, pkt []byte) {
	t.Helper()
	var pseudo, udp []byte
	switch pkt[0] >> 4 {
	case 4:
		if c := refChecksum(pkt[:20]); c != 0 {
			t.Fatalf("IPv4 header checksum does not verify (residue %#04x)", c)
		}
		udp = pkt[20:]
		pseudo = append(append([]byte{}, pkt[12:20]...), 0, 17, byte(len(udp)>>8), byte(len(udp)))
	case 6:
		udp = pkt[40:]
		pseudo = append(append([]byte{}, pkt[8:40]...), 0, 0, byte(len(udp)>>8), byte(len(udp)), 0, 0, 0, 17)
	default:
		t.Fatalf("not an IP packet: %x", pkt)
	}
	if binary.BigEndian.Uint16(udp[6:8]) == 0 {
		t.Fatal("UDP checksum is zero (absent)")
	}
	if c := refChecksum(pseudo, udp); c != 0 {
		t.Fatalf("UDP checksum does not verify (residue %#04x)", c)
	}
}

func TestBuildParseRoundTrip(t *testing.T) {
	odd := bytes.Repeat([]byte{0xa5, 0x17, 0xff}, 101) // odd length
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		payload  []byte
	}{
		{"v4", netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("192.0.2.7:4569"), []byte("hello iax")},
		{"v4 odd", netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("192.0.2.7:1"), odd},
		{"v4 empty", netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("192.0.2.7:4569"), nil},
		{"v4 ones", netip.MustParseAddrPort("255.255.255.255:65535"), netip.MustParseAddrPort("255.255.255.255:65535"), bytes.Repeat([]byte{0xff}, 64)},
		{"v6", netip.MustParseAddrPort("[fd00::1]:4569"), netip.MustParseAddrPort("[2001:db8::7]:4570"), odd},
		{"v6 empty", netip.MustParseAddrPort("[fd00::1]:4569"), netip.MustParseAddrPort("[2001:db8::7]:4570"), []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 2048)
			n, err := BuildUDP(buf, tt.src, tt.dst, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if want := HeaderLen(tt.src.Addr()) + len(tt.payload); n != want {
				t.Fatalf("length %d, want %d", n, want)
			}
			verifyUDPChecksums(t, buf[:n])
			p, err := ParseUDP(buf[:n])
			if err != nil {
				t.Fatal(err)
			}
			if p.Src != tt.src || p.Dst != tt.dst || !bytes.Equal(p.Payload, tt.payload) {
				t.Fatalf("parsed %v -> %v %x, want %v -> %v %x", p.Src, p.Dst, p.Payload, tt.src, tt.dst, tt.payload)
			}
		})
	}
}

func TestBuildUDPInPlace(t *testing.T) {
	src := netip.MustParseAddrPort("10.0.0.1:4569")
	dst := netip.MustParseAddrPort("10.0.0.2:4569")
	buf := make([]byte, 256)
	copy(buf[HeaderLen(src.Addr()):], "in place")
	n, err := BuildUDP(buf, src, dst, buf[HeaderLen(src.Addr()):HeaderLen(src.Addr())+8])
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseUDP(buf[:n])
	if err != nil || string(p.Payload) != "in place" {
		t.Fatalf("got %q, %v", p.Payload, err)
	}
	verifyUDPChecksums(t, buf[:n])
}

func TestBuildUDPMapped(t *testing.T) {
	src := netip.MustParseAddrPort("[::ffff:192.0.2.1]:4570")
	dst := netip.MustParseAddrPort("10.0.0.2:4569")
	buf := make([]byte, 256)
	n, err := BuildUDP(buf, src, dst, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if buf[0]>>4 != 4 || n != 29 {
		t.Fatalf("mapped source built as version %d, length %d; want IPv4, 29", buf[0]>>4, n)
	}
}

func TestBuildUDPErrors(t *testing.T) {
	v4 := netip.MustParseAddrPort("10.0.0.1:1")
	v6 := netip.MustParseAddrPort("[fd00::1]:1")
	tests := []struct {
		name     string
		buf      int
		src, dst netip.AddrPort
		payload  int
		want     error
	}{
		{"family", 100, v4, v6, 1, ErrFamilyMismatch},
		{"invalid", 100, netip.AddrPort{}, v4, 1, ErrFamilyMismatch},
		{"short", 28, v4, v4, 1, ErrShortBuffer},
		{"too big v4", 70000, v4, v4, 65535 - 27, ErrTooBig},
		{"too big v6", 70000, v6, v6, 65535 - 7, ErrTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildUDP(make([]byte, tt.buf), tt.src, tt.dst, make([]byte, tt.payload))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseUDPErrors(t *testing.T) {
	good4 := make([]byte, 64)
	n4, _ := BuildUDP(good4, netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2"), []byte("abcd"))
	good4 = good4[:n4]
	good6 := make([]byte, 64)
	n6, _ := BuildUDP(good6, netip.MustParseAddrPort("[fd00::1]:1"), netip.MustParseAddrPort("[fd00::2]:2"), []byte("abcd"))
	good6 = good6[:n6]
	mod := func(b []byte, f func([]byte)) []byte {
		c := append([]byte{}, b...)
		f(c)
		return c
	}
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"version", mod(good4, func(b []byte) { b[0] = 0x55 }), ErrNotIP},
		{"v4 short", good4[:19], ErrTruncated},
		{"v4 ihl", mod(good4, func(b []byte) { b[0] = 0x44 }), ErrTruncated},
		{"v4 total", mod(good4, func(b []byte) { b[3] = 200 }), ErrTruncated},
		{"v4 tcp", mod(good4, func(b []byte) { b[9] = 6 }), ErrNotUDP},
		{"v4 mf", mod(good4, func(b []byte) { b[6] = 0x20 }), ErrFragment},
		{"v4 offset", mod(good4, func(b []byte) { b[7] = 1 }), ErrFragment},
		{"v4 udp len", mod(good4, func(b []byte) { b[25] = 200 }), ErrTruncated},
		{"v4 udp len small", mod(good4, func(b []byte) { b[25] = 7 }), ErrTruncated},
		{"v6 short", good6[:39], ErrTruncated},
		{"v6 plen", mod(good6, func(b []byte) { b[5] = 200 }), ErrTruncated},
		{"v6 ext header", mod(good6, func(b []byte) { b[6] = 0 }), ErrNotUDP},
		{"v6 no udp header", mod(good6[:44], func(b []byte) { b[5] = 4 }), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseUDP(tt.pkt); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseUDPIPv4Options(t *testing.T) {
	buf := make([]byte, 64)
	n, _ := BuildUDP(buf, netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2"), []byte("abcd"))
	// Insert 4 bytes of options (NOPs) after the fixed header.
	pkt := append(append(append([]byte{}, buf[:20]...), 1, 1, 1, 1), buf[20:n]...)
	pkt[0] = 0x46
	binary.BigEndian.PutUint16(pkt[2:4], uint16(len(pkt)))
	// Trailing bytes past the total length are ignored.
	pkt = append(pkt, 0xee, 0xee)
	p, err := ParseUDP(pkt)
	if err != nil || string(p.Payload) != "abcd" || p.Dst.Port() != 2 {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestPacketNoAllocs(t *testing.T) {
	buf := make([]byte, 2048)
	src := netip.MustParseAddrPort("10.0.0.1:4569")
	dst := netip.MustParseAddrPort("[2001:db8::1]:4569")
	src6 := netip.MustParseAddrPort("[fd00::1]:4569")
	payload := make([]byte, 200)
	allocs := testing.AllocsPerRun(100, func() {
		n, _ := BuildUDP(buf, src, netip.MustParseAddrPort("10.0.0.2:4569"), payload)
		_, _ = ParseUDP(buf[:n])
		n, _ = BuildUDP(buf, src6, dst, payload)
		_, _ = ParseUDP(buf[:n])
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per build+parse, want 0", allocs)
	}
}

func FuzzParseUDP(f *testing.F) {
	buf := make([]byte, 128)
	n, _ := BuildUDP(buf, netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("10.0.0.2:4569"), []byte("iax"))
	f.Add(append([]byte{}, buf[:n]...))
	n, _ = BuildUDP(buf, netip.MustParseAddrPort("[fd00::1]:4569"), netip.MustParseAddrPort("[fd00::2]:4569"), []byte("iax"))
	f.Add(append([]byte{}, buf[:n]...))
	f.Add([]byte{0x45})
	f.Add([]byte{0x60, 0, 0, 0, 0xff, 0xff, 17})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		p, err := ParseUDP(pkt)
		if err != nil {
			return
		}
		if p.Src.Addr().Is4In6() || p.Dst.Addr().Is4In6() {
			return // IPv4-mapped addresses in an IPv6 header: BuildUDP makes IPv4
		}
		// What parses must rebuild into a packet that parses the same.
		out := make([]byte, len(p.Payload)+IPv6HeaderLen+UDPHeaderLen)
		n, err := BuildUDP(out, p.Src, p.Dst, p.Payload)
		if err != nil {
			t.Fatalf("rebuild of %v -> %v: %v", p.Src, p.Dst, err)
		}
		verifyUDPChecksums(t, out[:n])
		q, err := ParseUDP(out[:n])
		if err != nil || q.Src != p.Src || q.Dst != p.Dst || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("rebuilt packet parses as %+v, %v; want %+v", q, err, p)
		}
	})
}

func BenchmarkParseUDP(b *testing.B) {
	buf := make([]byte, 256)
	n, _ := BuildUDP(buf, netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("10.0.0.2:4569"), make([]byte, 172))
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		if _, err := ParseUDP(buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildUDP(b *testing.B) {
	for _, tt := range []struct{ name, src, dst string }{
		{"v4", "10.0.0.1:4569", "10.0.0.2:4569"},
		{"v6", "[fd00::1]:4569", "[fd00::2]:4569"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			src, dst := netip.MustParseAddrPort(tt.src), netip.MustParseAddrPort(tt.dst)
			buf := make([]byte, 256)
			h := HeaderLen(src.Addr())
			payload := buf[h : h+172] // in place, as the device uses it
			b.ReportAllocs()
			b.SetBytes(int64(h + len(payload)))
			for b.Loop() {
				if _, err := BuildUDP(buf, src, dst, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
