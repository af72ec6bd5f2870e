package device

import (
	"encoding/binary"
	"net/netip"

	"github.com/iaxcrypt/iaxcrypt/probe"
)

// RawSender sends complete IP packets, headers included, unchanged on the
// real network, by a path the routes into the TUN do not catch (on Linux a
// raw socket carrying the daemon's fwmark, on macOS one pinned to the
// physical interface). *platform.RawSocket implements it; tests use a fake.
//
// The device calls SendIP from one goroutine only (RoutineReadFromTUN) and
// Close once, after that goroutine has returned. SendIP may rewrite pkt in
// place (macOS wants some IPv4 header fields in host byte order) and must
// not keep it after returning.
type RawSender interface {
	SendIP(pkt []byte) error
	Close() error
}

// tunVerdict says what RoutineReadFromTUN does with a packet.
type tunVerdict uint8

const (
	// verdictDrop: count as NotIAX and drop.
	verdictDrop tunVerdict = iota
	// verdictIAX: UDP from the application port; goes to the engine.
	verdictIAX
	// verdictPass: someone else's traffic to a routed peer; sent out
	// unchanged through the RawSender.
	verdictPass
	// verdictProbe: a probe datagram of "iaxcrypt doctor" (package
	// probe), from any port; recorded, never forwarded.
	verdictProbe
)

// IP protocol numbers classifyTUN looks at.
const (
	protoICMP     = 1
	protoICMPv6   = 58
	protoHopOpts  = 0
	protoRouting  = 43
	protoFragment = 44
	protoDstOpts  = 60
)

// classifyTUN decides what to do with a packet read from the TUN.
//
//   - A UDP datagram whose payload is a doctor's probe (probe.Parse: exact
//     length and magic), from any port: verdictProbe, with p filled in.
//   - UDP from appPort, parsed by ParseUDP: the application's IAX2
//     (verdictIAX, with p filled in).
//   - Anything else that is a well-formed IP packet between unicast,
//     non-link-local addresses: traffic of other programs to a routed peer
//     (DNS, NTP, syslog; on macOS anything, TCP included), passed through.
//   - Dropped: malformed packets; packets from or to multicast, broadcast,
//     link-local, loopback or unspecified addresses (the kernel's own chatter
//     on the TUN, such as IPv6 router solicitations and MLD reports, which
//     must never be re-sent elsewhere); every UDP fragment and every UDP
//     packet from appPort that ParseUDP refuses (it could be part of the
//     application's IAX2, which must never leave in clear); ICMP errors
//     quoting a datagram to or from appPort (on macOS the kernel's answer to
//     a packet the daemon wrote into the TUN; it would quote decrypted IAX2
//     to the peer).
func classifyTUN(pkt []byte, appPort uint16) (UDPPacket, tunVerdict) {
	p, err := ParseUDP(pkt)
	switch err {
	case nil:
		if _, ok := probe.Parse(p.Payload); ok {
			return p, verdictProbe
		}
		if p.Src.Port() == appPort {
			return p, verdictIAX
		}
		if passable(p.Src.Addr(), p.Dst.Addr()) {
			return UDPPacket{}, verdictPass
		}
		return UDPPacket{}, verdictDrop
	case ErrNotUDP:
		// Another protocol, or IPv6 with extension headers: look closer.
	default:
		// Truncated, not IP, or an IPv4 UDP fragment.
		return UDPPacket{}, verdictDrop
	}
	src, dst, proto, l4, frag, ok := parseIP(pkt)
	if !ok || !passable(src, dst) {
		return UDPPacket{}, verdictDrop
	}
	switch proto {
	case protoUDP:
		// Only IPv6 with extension headers gets here.
		if frag || len(l4) < UDPHeaderLen || binary.BigEndian.Uint16(l4[0:2]) == appPort {
			return UDPPacket{}, verdictDrop
		}
	case protoICMP, protoICMPv6:
		if icmpErrorAboutPort(src.Is4(), l4, appPort) {
			return UDPPacket{}, verdictDrop
		}
	}
	return UDPPacket{}, verdictPass
}

// passable reports whether a packet from src to dst may be re-sent on the
// real network: both unicast, neither loopback, link-local nor unspecified.
func passable(src, dst netip.Addr) bool {
	for _, a := range [2]netip.Addr{src, dst} {
		if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() ||
			a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return false
		}
	}
	return true
}

// parseIP returns the addresses of an IPv4 or IPv6 packet, its upper-layer
// protocol and payload (after IPv6 extension headers), and whether it is a
// fragment. Non-first fragments keep the upper-layer protocol number in
// the IPv4 header and in the IPv6 fragment header, so a fragment of UDP is
// recognised as one whatever its offset; l4 is then unreliable.
func parseIP(pkt []byte) (src, dst netip.Addr, proto uint8, l4 []byte, frag, ok bool) {
	if len(pkt) < 1 {
		return
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < IPv4HeaderLen {
			return
		}
		ihl := int(pkt[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(pkt[2:4]))
		if ihl < IPv4HeaderLen || total < ihl || total > len(pkt) {
			return
		}
		src = netip.AddrFrom4([4]byte(pkt[12:16]))
		dst = netip.AddrFrom4([4]byte(pkt[16:20]))
		frag = binary.BigEndian.Uint16(pkt[6:8])&0x3fff != 0
		return src, dst, pkt[9], pkt[ihl:total], frag, true
	case 6:
		if len(pkt) < IPv6HeaderLen {
			return
		}
		plen := int(binary.BigEndian.Uint16(pkt[4:6]))
		if IPv6HeaderLen+plen > len(pkt) {
			return
		}
		src = netip.AddrFrom16([16]byte(pkt[8:24]))
		dst = netip.AddrFrom16([16]byte(pkt[24:40]))
		next, rest := pkt[6], pkt[IPv6HeaderLen:IPv6HeaderLen+plen]
		for range 8 { // bound the walk; real packets have one or two
			switch next {
			case protoHopOpts, protoRouting, protoDstOpts:
				if len(rest) < 8 {
					return
				}
				n := (int(rest[1]) + 1) * 8
				if n > len(rest) {
					return
				}
				next, rest = rest[0], rest[n:]
			case protoFragment:
				if len(rest) < 8 {
					return
				}
				frag = true
				next, rest = rest[0], rest[8:]
			default:
				return src, dst, next, rest, frag, true
			}
		}
		return
	}
	return
}

// icmpErrorAboutPort reports whether l4, an ICMP (v4) or ICMPv6 message, is
// an error message quoting a UDP datagram from or to port.
func icmpErrorAboutPort(v4 bool, l4 []byte, port uint16) bool {
	if len(l4) < 8 {
		return false
	}
	var inner []byte
	if v4 {
		switch l4[0] {
		case 3, 4, 5, 11, 12: // unreachable, source quench, redirect, time exceeded, parameter problem
		default:
			return false
		}
		inner = l4[8:]
		if len(inner) < IPv4HeaderLen || inner[0]>>4 != 4 {
			return false
		}
		ihl := int(inner[0]&0x0f) * 4
		if inner[9] != protoUDP || ihl < IPv4HeaderLen || len(inner) < ihl+4 {
			return false
		}
		inner = inner[ihl:]
	} else {
		if l4[0] < 1 || l4[0] > 4 { // unreachable, too big, time exceeded, parameter problem
			return false
		}
		inner = l4[8:]
		if len(inner) < IPv6HeaderLen+4 || inner[0]>>4 != 6 || inner[6] != protoUDP {
			return false
		}
		inner = inner[IPv6HeaderLen:]
	}
	return binary.BigEndian.Uint16(inner[0:2]) == port || binary.BigEndian.Uint16(inner[2:4]) == port
}
