package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	v4src = netip.MustParseAddrPort("192.0.2.1:4569")
	v4dst = netip.MustParseAddrPort("192.0.2.2:4570")
	v6src = netip.MustParseAddrPort("[2001:db8::1]:4569")
	v6dst = netip.MustParseAddrPort("[2001:db8::2]:4571")
	body  = []byte{0x80, 0x01, 0x00, 0x00, 0, 0, 0, 3, 0, 0, 6, 1, 0xc3, 2, 1, 1}
)

// ipUDP serializes an IPv4 or IPv6 packet carrying one UDP datagram with
// gopacket/layers, an encoder independent of the decoder under test.
func ipUDP(t testing.TB, src, dst netip.AddrPort, payload []byte, extra ...gopacket.SerializableLayer) []byte {
	t.Helper()
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		udp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		udp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	ls := append(append(extra, ip, udp), gopacket.Payload(payload))
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ethernet(etherType uint16, tags ...uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for _, tag := range tags {
		b = binary.BigEndian.AppendUint16(b, tag)
		b = binary.BigEndian.AppendUint16(b, 7) // VLAN id 7
	}
	return binary.BigEndian.AppendUint16(b, etherType)
}

func sll(etherType uint16) []byte {
	b := make([]byte, sllHeaderLen)
	binary.BigEndian.PutUint16(b[14:], etherType)
	return b
}

func sll2(etherType uint16) []byte {
	b := make([]byte, sll2HeaderLen)
	binary.BigEndian.PutUint16(b, etherType)
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodePacket(t *testing.T) {
	v4 := ipUDP(t, v4src, v4dst, body)
	v6 := ipUDP(t, v6src, v6dst, body)
	nullAF := func(af uint32, order binary.AppendByteOrder) []byte { return order.AppendUint32(nil, af) }
	tests := []struct {
		name     string
		link     uint32
		pkt      []byte
		src, dst netip.AddrPort
	}{
		{"ethernet ipv4", linkEthernet, cat(ethernet(etherIPv4), v4), v4src, v4dst},
		{"ethernet ipv6", linkEthernet, cat(ethernet(etherIPv6), v6), v6src, v6dst},
		{"ethernet padding dropped", linkEthernet, cat(ethernet(etherIPv4), v4, make([]byte, 20)), v4src, v4dst},
		{"802.1Q", linkEthernet, cat(ethernet(etherIPv4, etherVLAN), v4), v4src, v4dst},
		{"802.1ad + 802.1Q", linkEthernet, cat(ethernet(etherIPv6, etherQinQ, etherVLAN), v6), v6src, v6dst},
		{"linux cooked v1", linkSLL, cat(sll(etherIPv4), v4), v4src, v4dst},
		{"linux cooked v2", linkSLL2, cat(sll2(etherIPv6), v6), v6src, v6dst},
		{"linux cooked v2, link type cut to 8 bits", linkSLL2Truncated, cat(sll2(etherIPv4), v4), v4src, v4dst},
		{"raw ipv4", linkRaw, v4, v4src, v4dst},
		{"raw ipv6", linkRaw, v6, v6src, v6dst},
		{"ipv4 link type", linkIPv4, v4, v4src, v4dst},
		{"ipv6 link type", linkIPv6, v6, v6src, v6dst},
		{"bsd loopback, little endian", linkNull, cat(nullAF(2, binary.LittleEndian), v4), v4src, v4dst},
		{"openbsd loopback ipv6", linkLoop, cat(nullAF(24, binary.BigEndian), v6), v6src, v6dst},
		{"ipv6 hop-by-hop then udp", linkRaw, ipv6WithHopByHop(t), v6src, v6dst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodePacket(tt.link, tt.pkt)
			if err != nil {
				t.Fatal(err)
			}
			if d.Src != tt.src || d.Dst != tt.dst || !bytes.Equal(d.Payload, body) {
				t.Fatalf("got %v -> %v %x, want %v -> %v %x", d.Src, d.Dst, d.Payload, tt.src, tt.dst, body)
			}
		})
	}
}

// ipv6WithHopByHop is an IPv6 packet whose UDP datagram follows a
// hop-by-hop options header (router alert, padded to 8 bytes).
func ipv6WithHopByHop(t *testing.T) []byte {
	v6 := ipUDP(t, v6src, v6dst, body)
	hbh := []byte{protoUDP, 0, 5, 2, 0, 0, 1, 0}
	out := cat(v6[:ipv6HeaderLen], hbh, v6[ipv6HeaderLen:])
	out[6] = protoHopByHop
	binary.BigEndian.PutUint16(out[4:], uint16(len(out)-ipv6HeaderLen))
	return out
}

func TestDecodePacketErrors(t *testing.T) {
	v4 := ipUDP(t, v4src, v4dst, body)
	v6 := ipUDP(t, v6src, v6dst, body)
	set := func(b []byte, off int, v ...byte) []byte {
		b = bytes.Clone(b)
		copy(b[off:], v)
		return b
	}
	v6frag := cat(v6[:ipv6HeaderLen], []byte{protoUDP, 0, 0, 0, 0, 0, 0, 1}, v6[ipv6HeaderLen:])
	v6frag[6] = protoFragment
	binary.BigEndian.PutUint16(v6frag[4:], uint16(len(v6frag)-ipv6HeaderLen))
	tcp := set(v4, 9, 6)
	tests := []struct {
		name string
		link uint32
		pkt  []byte
		want error
	}{
		{"ipv4 more fragments", linkRaw, set(v4, 6, 0x20, 0x00), ErrFragment},
		{"ipv4 later fragment", linkRaw, set(v4, 6, 0x00, 0x10), ErrFragment},
		{"ipv4 don't-fragment is whole", linkRaw, set(set(v4, 6, 0x40, 0x00), 9, 6), ErrNotUDP},
		{"ipv6 fragment header", linkRaw, v6frag, ErrFragment},
		{"ipv4 cut inside the datagram", linkRaw, v4[:len(v4)-1], ErrTruncated},
		{"ipv4 cut inside the header", linkRaw, v4[:19], ErrTruncated},
		{"ipv6 cut", linkRaw, v6[:len(v6)-3], ErrTruncated},
		{"ipv4 header length below 20", linkRaw, set(v4, 0, 0x44), ErrMalformed},
		{"ipv4 total length below header", linkRaw, set(v4, 2, 0, 10), ErrMalformed},
		{"udp length below 8", linkRaw, set(v4, 24, 0, 7), ErrMalformed},
		{"udp length past the packet", linkRaw, set(v4, 24, 0, 200), ErrTruncated},
		{"ipv6 jumbogram", linkRaw, set(v6, 4, 0, 0), ErrMalformed},
		{"wrong version for link type", linkIPv4, v6, ErrMalformed},
		{"ipv4 header says 6", linkIPv4, set(v4, 0, 0x65), ErrMalformed},
		{"tcp", linkRaw, tcp, ErrNotUDP},
		{"arp", linkEthernet, cat(ethernet(0x0806), make([]byte, 28)), ErrNotUDP},
		{"not ip", linkRaw, set(v4, 0, 0x55), ErrNotUDP},
		{"empty raw", linkRaw, nil, ErrTruncated},
		{"short ethernet", linkEthernet, make([]byte, 13), ErrTruncated},
		{"vlan tag cut", linkEthernet, cat(ethernet(etherVLAN), []byte{0, 7}), ErrTruncated},
		{"short sll", linkSLL, make([]byte, 15), ErrTruncated},
		{"short sll2", linkSLL2, make([]byte, 19), ErrTruncated},
		{"short loopback", linkNull, []byte{2, 0}, ErrTruncated},
		{"unknown link type", 147, v4, ErrLinkType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decodePacket(tt.link, tt.pkt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (%+v), want %v", err, d, tt.want)
			}
		})
	}
}

// TestDecodeAgreesWithLayers decodes the same Ethernet frames with
// gopacket/layers and checks both find the same datagram.
func TestDecodeAgreesWithLayers(t *testing.T) {
	for _, p := range [][2]netip.AddrPort{{v4src, v4dst}, {v6src, v6dst}} {
		for _, n := range []int{0, 1, 4, 12, 160, 1400} {
			payload := bytes.Repeat([]byte{0xd5}, n)
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			if p[0].Addr().Is6() {
				eth.EthernetType = layers.EthernetTypeIPv6
			}
			frame := ipUDP(t, p[0], p[1], payload, eth)
			pkt := gopacket.NewPacket(frame, layers.LinkTypeEthernet, gopacket.Default)
			udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if !ok {
				t.Fatalf("layers found no UDP in %x", frame)
			}
			d, err := decodePacket(linkEthernet, frame)
			if err != nil {
				t.Fatal(err)
			}
			if d.Src.Port() != uint16(udp.SrcPort) || d.Dst.Port() != uint16(udp.DstPort) || !bytes.Equal(d.Payload, udp.Payload) {
				t.Fatalf("%d bytes over %v: decoder %v->%v %d bytes, layers %v->%v %d bytes",
					n, p[0], d.Src, d.Dst, len(d.Payload), udp.SrcPort, udp.DstPort, len(udp.Payload))
			}
		}
	}
}

func BenchmarkDecodePacket(b *testing.B) {
	frame := cat(ethernet(etherIPv4), ipUDP(b, v4src, v4dst, bytes.Repeat([]byte{0xd5}, 164)))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if _, err := decodePacket(linkEthernet, frame); err != nil {
			b.Fatal(err)
		}
	}
}
