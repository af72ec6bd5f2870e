package audit

import (
	"encoding/binary"
	"net/netip"
)

// The decoder is written here rather than taken from gopacket/layers: it
// needs only Ethernet (with VLAN tags), Linux cooked capture, raw IP, BSD
// loopback, IPv4, IPv6 and UDP; it must tell the auditor exactly why a
// packet could not be read (a fragment or a truncated datagram must not be
// silently taken for a short one, which layers does for a first fragment);
// and it runs on untrusted bytes, so it is small enough to read in one
// sitting, allocation-free and fuzzed (FuzzDecode).

// Link-layer types of capture files (LINKTYPE_* of pcap and pcapng).
const (
	linkNull     = 0   // BSD loopback: 4-byte address family in host order
	linkEthernet = 1   // Ethernet II, optionally 802.1Q/802.1ad tagged
	linkRaw      = 101 // raw IPv4 or IPv6
	linkLoop     = 108 // OpenBSD loopback: address family in network order
	linkSLL      = 113 // Linux cooked capture v1 (tcpdump -i any)
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276 // Linux cooked capture v2
	// gopacket v1.1.19 keeps link types in a uint8, so SLL2 arrives as
	// 276&0xff = 20, a value no capture format assigns otherwise.
	linkSLL2Truncated = linkSLL2 & 0xff
)

// Header lengths and protocol numbers.
const (
	ethHeaderLen   = 14
	vlanTagLen     = 4
	maxVLANTags    = 4
	sllHeaderLen   = 16
	sll2HeaderLen  = 20
	nullHeaderLen  = 4
	ipv4MinHeader  = 20
	ipv6HeaderLen  = 40
	udpHeaderLen   = 8
	maxIPv6Headers = 8 // extension headers followed before giving up

	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100

	protoHopByHop = 0
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDestOpts = 60
)

// udpDatagram is one UDP datagram decoded from a captured packet. Payload
// aliases the packet.
type udpDatagram struct {
	Src, Dst netip.AddrPort
	Payload  []byte
}

// decodePacket returns the UDP datagram a captured packet of the given link
// type carries. Its errors are the sentinels of errors.go.
func decodePacket(link uint32, b []byte) (udpDatagram, error) {
	switch link {
	case linkEthernet:
		return decodeEthernet(b)
	case linkSLL:
		if len(b) < sllHeaderLen {
			return udpDatagram{}, ErrTruncated
		}
		return decodeEtherType(binary.BigEndian.Uint16(b[14:]), b[sllHeaderLen:])
	case linkSLL2, linkSLL2Truncated:
		if len(b) < sll2HeaderLen {
			return udpDatagram{}, ErrTruncated
		}
		return decodeEtherType(binary.BigEndian.Uint16(b), b[sll2HeaderLen:])
	case linkRaw:
		return decodeIP(b)
	case linkIPv4:
		return decodeIPv4(b)
	case linkIPv6:
		return decodeIPv6(b)
	case linkNull, linkLoop:
		// The address family's byte order depends on the capturing host
		// and its value for IPv6 on its OS; the IP version nibble does not.
		if len(b) < nullHeaderLen {
			return udpDatagram{}, ErrTruncated
		}
		return decodeIP(b[nullHeaderLen:])
	}
	return udpDatagram{}, ErrLinkType
}

func decodeEthernet(b []byte) (udpDatagram, error) {
	if len(b) < ethHeaderLen {
		return udpDatagram{}, ErrTruncated
	}
	etherType := binary.BigEndian.Uint16(b[12:])
	b = b[ethHeaderLen:]
	for range maxVLANTags {
		if etherType != etherVLAN && etherType != etherQinQ && etherType != etherQinQ2 {
			break
		}
		if len(b) < vlanTagLen {
			return udpDatagram{}, ErrTruncated
		}
		etherType = binary.BigEndian.Uint16(b[2:])
		b = b[vlanTagLen:]
	}
	return decodeEtherType(etherType, b)
}

func decodeEtherType(etherType uint16, b []byte) (udpDatagram, error) {
	switch etherType {
	case etherIPv4:
		return decodeIPv4(b)
	case etherIPv6:
		return decodeIPv6(b)
	}
	return udpDatagram{}, ErrNotUDP
}

// decodeIP reads an IPv4 or IPv6 packet by its version nibble.
func decodeIP(b []byte) (udpDatagram, error) {
	if len(b) == 0 {
		return udpDatagram{}, ErrTruncated
	}
	switch b[0] >> 4 {
	case 4:
		return decodeIPv4(b)
	case 6:
		return decodeIPv6(b)
	}
	return udpDatagram{}, ErrNotUDP
}

func decodeIPv4(b []byte) (udpDatagram, error) {
	if len(b) < ipv4MinHeader {
		return udpDatagram{}, ErrTruncated
	}
	if b[0]>>4 != 4 {
		return udpDatagram{}, ErrMalformed
	}
	hdr := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if hdr < ipv4MinHeader || total < hdr {
		return udpDatagram{}, ErrMalformed
	}
	if total > len(b) {
		return udpDatagram{}, ErrTruncated
	}
	b = b[:total] // drop link-layer padding
	if frag := binary.BigEndian.Uint16(b[6:]); frag&0x3fff != 0 {
		// More-fragments set, or a non-zero offset: one piece of a
		// datagram that is not reassembled here.
		return udpDatagram{}, ErrFragment
	}
	if b[9] != protoUDP {
		return udpDatagram{}, ErrNotUDP
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	return decodeUDP(src, dst, b[hdr:])
}

func decodeIPv6(b []byte) (udpDatagram, error) {
	if len(b) < ipv6HeaderLen {
		return udpDatagram{}, ErrTruncated
	}
	if b[0]>>4 != 6 {
		return udpDatagram{}, ErrMalformed
	}
	payloadLen := int(binary.BigEndian.Uint16(b[4:]))
	if payloadLen == 0 {
		// A jumbogram (hop-by-hop option); no capture of IAX2 has one.
		return udpDatagram{}, ErrMalformed
	}
	if ipv6HeaderLen+payloadLen > len(b) {
		return udpDatagram{}, ErrTruncated
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	b = b[ipv6HeaderLen : ipv6HeaderLen+payloadLen]
	for range maxIPv6Headers {
		var n int
		switch next {
		case protoUDP:
			return decodeUDP(src, dst, b)
		case protoFragment:
			return udpDatagram{}, ErrFragment
		case protoHopByHop, protoRouting, protoDestOpts:
			if len(b) < 2 {
				return udpDatagram{}, ErrTruncated
			}
			n = (int(b[1]) + 1) * 8
		case protoAH:
			if len(b) < 2 {
				return udpDatagram{}, ErrTruncated
			}
			n = (int(b[1]) + 2) * 4
		default: // TCP, ICMPv6, no next header...
			return udpDatagram{}, ErrNotUDP
		}
		if len(b) < n {
			return udpDatagram{}, ErrTruncated
		}
		next, b = b[0], b[n:]
	}
	return udpDatagram{}, ErrMalformed
}

func decodeUDP(src, dst netip.Addr, b []byte) (udpDatagram, error) {
	if len(b) < udpHeaderLen {
		return udpDatagram{}, ErrTruncated
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < udpHeaderLen {
		return udpDatagram{}, ErrMalformed
	}
	if n > len(b) {
		return udpDatagram{}, ErrTruncated
	}
	return udpDatagram{
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(b)),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:])),
		Payload: b[udpHeaderLen:n:n],
	}, nil
}
