package audit

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"
)

// FuzzDecode: any bytes under any link type decode to a datagram or to one
// of the sentinel errors, never a panic; a decoded payload lies inside the
// packet, after at least a UDP header.
func FuzzDecode(f *testing.F) {
	v4 := ipUDP(f, v4src, v4dst, body)
	v6 := ipUDP(f, v6src, v6dst, body)
	for _, seed := range []struct {
		link uint32
		pkt  []byte
	}{
		{linkEthernet, cat(ethernet(etherIPv4), v4)},
		{linkEthernet, cat(ethernet(etherIPv6, etherVLAN), v6)},
		{linkSLL, cat(sll(etherIPv4), v4)},
		{linkSLL2, cat(sll2(etherIPv6), v6)},
		{linkRaw, v4},
		{linkRaw, v6},
		{linkNull, cat([]byte{2, 0, 0, 0}, v4)},
	} {
		f.Add(seed.link, seed.pkt)
	}
	sentinels := []error{ErrNotUDP, ErrFragment, ErrTruncated, ErrMalformed, ErrLinkType}
	f.Fuzz(func(t *testing.T, link uint32, pkt []byte) {
		d, err := decodePacket(link, pkt)
		if err != nil {
			for _, s := range sentinels {
				if err == s {
					return
				}
			}
			t.Fatalf("error %v is not one of the sentinels", err)
		}
		if len(d.Payload) > len(pkt)-udpHeaderLen {
			t.Fatalf("payload of %d bytes from a packet of %d", len(d.Payload), len(pkt))
		}
		if len(d.Payload) > 0 {
			start := uintptr(unsafe.Pointer(&pkt[0]))
			p := uintptr(unsafe.Pointer(&d.Payload[0]))
			if p < start+udpHeaderLen || p+uintptr(len(d.Payload)) > start+uintptr(len(pkt)) {
				t.Fatal("payload does not lie inside the packet")
			}
		}
		if !d.Src.IsValid() || !d.Dst.IsValid() {
			t.Fatalf("invalid addresses %v -> %v", d.Src, d.Dst)
		}
	})
}

// FuzzAudit feeds arbitrary datagrams between two endpoints (each input is
// split into datagrams at 0xff 0xfe markers) through the auditor: no panic,
// and the counts stay consistent.
func FuzzAudit(f *testing.F) {
	for _, seed := range [][]byte{
		body,
		bytes.Join([][]byte{body, {0x80, 0x02, 0x80, 0x01, 0, 0, 0, 6, 0, 1, 6, 7, 0xc3, 2, 1, 2}, {0, 0, 0x45, 1, 0, 1, 0, 2}}, []byte{0xff, 0xfe}),
		bytes.Join([][]byte{body, {0, 1, 0, 20, 1, 2, 3}, {0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 2, 9, 9}}, []byte{0xff, 0xfe}),
	} {
		f.Add(seed)
	}
	a, b := netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("10.0.0.2:4569")
	f.Fuzz(func(t *testing.T, in []byte) {
		au := newAuditor(Options{})
		t0 := time.Unix(0, 0)
		parts := bytes.Split(in, []byte{0xff, 0xfe})
		for i, payload := range parts {
			from, to := a, b
			if len(payload) > 0 && payload[len(payload)-1]&1 == 1 {
				from, to = b, a
			}
			pkt := rawUDP(from, to, payload)
			au.packet(i+1, t0.Add(time.Duration(i)*time.Millisecond), linkRaw, pkt, false)
		}
		r := au.finish()
		if r.Packets != len(parts) || r.Datagrams+r.Other+sum(r.Unreadable) != r.Packets {
			t.Fatalf("packets %d, datagrams %d, other %d, unreadable %v", r.Packets, r.Datagrams, r.Other, r.Unreadable)
		}
		leaks := 0
		for _, c := range r.Calls {
			leaks += len(c.Leaks)
			for _, l := range c.Leaks {
				if l.Packet < c.Start.Packet {
					t.Fatalf("leak at packet %d before its call started at %d", l.Packet, c.Start.Packet)
				}
			}
		}
		if leaks != r.Leaks {
			t.Fatalf("calls list %d leaks, the report counts %d", leaks, r.Leaks)
		}
		if err := r.WriteText(&bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	})
}

// rawUDP makes an IPv4 packet (link type raw) without checksums, which the
// decoder does not check.
func rawUDP(from, to netip.AddrPort, payload []byte) []byte {
	n := ipv4MinHeader + udpHeaderLen + len(payload)
	b := make([]byte, ipv4MinHeader+udpHeaderLen, n)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	b[8], b[9] = 64, protoUDP
	copy(b[12:], from.Addr().AsSlice())
	copy(b[16:], to.Addr().AsSlice())
	binary.BigEndian.PutUint16(b[20:], from.Port())
	binary.BigEndian.PutUint16(b[22:], to.Port())
	binary.BigEndian.PutUint16(b[24:], uint16(udpHeaderLen+len(payload)))
	return append(b, payload...)
}
