package platform

import (
	"encoding/binary"
	"errors"
)

// Errors of RawSocket.SendIP. The device counts them; they are not fatal.
var (
	// errShortPacket means the packet is shorter than its IP header.
	errShortPacket = errors.New("raw send: packet shorter than its IP header")
	// errNotIP means the first nibble is neither 4 nor 6.
	errNotIP = errors.New("raw send: not an IPv4 or IPv6 packet")
	// errClosed means the socket was closed.
	errClosed = errors.New("raw send: socket closed")
)

// ipv4HeaderToHostOrder rewrites the total length and fragment fields of an
// IPv4 header in place into little-endian (host) byte order, as the
// IP_HDRINCL sockets of macOS expect them (golang.org/x/net/ipv4's
// Header.Marshal does the same for darwin). It has no build tag so that it
// is tested on Linux; every Mac is little-endian.
func ipv4HeaderToHostOrder(pkt []byte) {
	binary.LittleEndian.PutUint16(pkt[2:4], binary.BigEndian.Uint16(pkt[2:4]))
	binary.LittleEndian.PutUint16(pkt[6:8], binary.BigEndian.Uint16(pkt[6:8]))
}

// ipv6UpperLayer returns the protocol and payload of an IPv6 packet with
// no extension headers, for systems whose raw IPv6 sockets cannot take a
// whole header (macOS has no IPV6_HDRINCL). ok is false for a malformed
// packet or one with extension headers.
func ipv6UpperLayer(pkt []byte) (proto uint8, payload []byte, ok bool) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return 0, nil, false
	}
	plen := int(binary.BigEndian.Uint16(pkt[4:6]))
	if 40+plen > len(pkt) {
		return 0, nil, false
	}
	switch pkt[6] {
	case 0, 43, 44, 60: // hop-by-hop, routing, fragment, destination options
		return 0, nil, false
	}
	return pkt[6], pkt[40 : 40+plen], true
}
