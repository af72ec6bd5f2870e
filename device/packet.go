package device

import (
	"encoding/binary"
	"net/netip"
)

// Header sizes of the packets the device parses and builds.
const (
	IPv4HeaderLen = 20
	IPv6HeaderLen = 40
	UDPHeaderLen  = 8

	protoUDP   = 17
	defaultTTL = 64
	maxUDPLen  = 0xffff
)

// UDPPacket is a parsed IPv4 or IPv6 UDP packet. Payload aliases the buffer
// passed to ParseUDP.
type UDPPacket struct {
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Payload []byte
}

// ParseUDP parses an IPv4 or IPv6 packet carrying UDP, as read from the TUN
// device. It does not allocate. It does not verify checksums: packets read
// from the TUN come from the local kernel. IPv4 options are skipped; IPv4
// fragments and IPv6 extension headers are refused.
func ParseUDP(pkt []byte) (UDPPacket, error) {
	if len(pkt) < 1 {
		return UDPPacket{}, ErrTruncated
	}
	var (
		src, dst netip.Addr
		udp      []byte
	)
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < IPv4HeaderLen {
			return UDPPacket{}, ErrTruncated
		}
		ihl := int(pkt[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:4]))
		if ihl < IPv4HeaderLen || total < ihl || total > len(pkt) {
			return UDPPacket{}, ErrTruncated
		}
		if pkt[9] != protoUDP {
			return UDPPacket{}, ErrNotUDP
		}
		// More-fragments flag or a fragment offset.
		if binary.BigEndian.Uint16(pkt[6:8])&0x3fff != 0 {
			return UDPPacket{}, ErrFragment
		}
		src = netip.AddrFrom4([4]byte(pkt[12:16]))
		dst = netip.AddrFrom4([4]byte(pkt[16:20]))
		udp = pkt[ihl:total]
	case 6:
		if len(pkt) < IPv6HeaderLen {
			return UDPPacket{}, ErrTruncated
		}
		plen := int(binary.BigEndian.Uint16(pkt[4:6]))
		if IPv6HeaderLen+plen > len(pkt) {
			return UDPPacket{}, ErrTruncated
		}
		if pkt[6] != protoUDP {
			return UDPPacket{}, ErrNotUDP
		}
		src = netip.AddrFrom16([16]byte(pkt[8:24]))
		dst = netip.AddrFrom16([16]byte(pkt[24:40]))
		udp = pkt[IPv6HeaderLen : IPv6HeaderLen+plen]
	default:
		return UDPPacket{}, ErrNotIP
	}
	if len(udp) < UDPHeaderLen {
		return UDPPacket{}, ErrTruncated
	}
	ulen := int(binary.BigEndian.Uint16(udp[4:6]))
	if ulen < UDPHeaderLen || ulen > len(udp) {
		return UDPPacket{}, ErrTruncated
	}
	return UDPPacket{
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(udp[0:2])),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(udp[2:4])),
		Payload: udp[UDPHeaderLen:ulen],
	}, nil
}

// HeaderLen is the length of the IP and UDP headers BuildUDP writes for a
// packet to or from addr: 28 for IPv4 (and IPv4-mapped IPv6), 48 for IPv6.
func HeaderLen(addr netip.Addr) int {
	if addr.Unmap().Is4() {
		return IPv4HeaderLen + UDPHeaderLen
	}
	return IPv6HeaderLen + UDPHeaderLen
}

// BuildUDP writes a UDP packet from src to dst carrying payload into b and
// returns its length. The IP header comes first, so the payload goes at
// b[HeaderLen(src):]; when payload already sits exactly there it is not
// copied, which lets callers have the engine write straight into place.
// IPv4-mapped addresses are built as IPv4. Checksums (IPv4 header, UDP over
// the pseudo-header) are computed. BuildUDP does not allocate.
func BuildUDP(b []byte, src, dst netip.AddrPort, payload []byte) (int, error) {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if sa.Is4() != da.Is4() || !sa.IsValid() || !da.IsValid() {
		return 0, ErrFamilyMismatch
	}
	hlen := HeaderLen(sa)
	ulen := UDPHeaderLen + len(payload)
	if ulen > maxUDPLen || (sa.Is4() && hlen+len(payload) > maxUDPLen) {
		return 0, ErrTooBig
	}
	n := hlen + len(payload)
	if len(b) < n {
		return 0, ErrShortBuffer
	}
	if len(payload) > 0 && &b[hlen] != &payload[0] {
		copy(b[hlen:n], payload)
	}
	var udp []byte
	var pseudo uint32
	if sa.Is4() {
		ip := b[:IPv4HeaderLen]
		ip[0] = 0x45
		ip[1] = 0
		binary.BigEndian.PutUint16(ip[2:4], uint16(n))
		binary.BigEndian.PutUint16(ip[4:6], 0) // ID: unused, DF is set
		binary.BigEndian.PutUint16(ip[6:8], 0x4000)
		ip[8] = defaultTTL
		ip[9] = protoUDP
		ip[10], ip[11] = 0, 0
		s4, d4 := sa.As4(), da.As4()
		copy(ip[12:16], s4[:])
		copy(ip[16:20], d4[:])
		binary.BigEndian.PutUint16(ip[10:12], ^fold(sum(ip, 0)))
		pseudo = sum(ip[12:20], 0)
		udp = b[IPv4HeaderLen:n]
	} else {
		ip := b[:IPv6HeaderLen]
		binary.BigEndian.PutUint32(ip[0:4], 6<<28)
		binary.BigEndian.PutUint16(ip[4:6], uint16(ulen))
		ip[6] = protoUDP
		ip[7] = defaultTTL
		s16, d16 := sa.As16(), da.As16()
		copy(ip[8:24], s16[:])
		copy(ip[24:40], d16[:])
		pseudo = sum(ip[8:40], 0)
		udp = b[IPv6HeaderLen:n]
	}
	binary.BigEndian.PutUint16(udp[0:2], src.Port())
	binary.BigEndian.PutUint16(udp[2:4], dst.Port())
	binary.BigEndian.PutUint16(udp[4:6], uint16(ulen))
	udp[6], udp[7] = 0, 0
	pseudo += protoUDP + uint32(ulen)
	csum := ^fold(sum(udp, pseudo))
	if csum == 0 {
		// Zero means "no checksum" in IPv4 and is forbidden in IPv6
		// (RFC 768, RFC 8200 section 8.1): send all ones instead.
		csum = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:8], csum)
	return n, nil
}

// sum adds b as big-endian 16-bit words to initial (RFC 1071), without
// folding. Callers fold the result.
func sum(b []byte, initial uint32) uint32 {
	acc := uint64(initial)
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b[0:4]))
		acc += uint64(binary.BigEndian.Uint32(b[4:8]))
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b[0:4]))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b[0:2]))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	// Fold the 64-bit accumulator of 32-bit words into 32 bits.
	acc = (acc >> 32) + (acc & 0xffffffff)
	acc = (acc >> 32) + (acc & 0xffffffff)
	hi, lo := uint32(acc>>16), uint32(acc&0xffff)
	return hi + lo
}

// fold reduces a 32-bit one's-complement sum to 16 bits.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = (s >> 16) + (s & 0xffff)
	}
	return uint16(s)
}
