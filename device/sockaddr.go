package device

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// SocketKind is what a UDP socket can send to, which decides the socket
// and the sockaddr a datagram to a peer is sent with.
type SocketKind uint8

const (
	// SocketDualStack is an AF_INET6 socket that also reaches IPv4 peers
	// (IPV6_V6ONLY off). Linux accepts an AF_INET sockaddr on it, which
	// is what golang.org/x/net's batch send builds for an IPv4 peer; macOS
	// (XNU's udp6_output) refuses that with EINVAL, so on macOS the daemon
	// never uses a dual-stack socket.
	SocketDualStack SocketKind = iota
	// SocketIPv4 is an AF_INET socket.
	SocketIPv4
	// SocketIPv6Only is an AF_INET6 socket with IPV6_V6ONLY.
	SocketIPv6Only
)

func (k SocketKind) String() string {
	switch k {
	case SocketIPv4:
		return "udp4"
	case SocketIPv6Only:
		return "udp6 (v6only)"
	}
	return "udp (dual-stack)"
}

// errWrongFamily means a socket cannot reach a peer of that IP family.
var errWrongFamily = errors.New("the socket cannot reach a peer of this IP family")

// Address families and sockaddr sizes as the kernels define them.
const (
	afInet         = 2
	afInet6Linux   = 10
	afInet6Darwin  = 30
	sizeofSockIn   = 16
	sizeofSockIn6  = 28
	goosDarwin     = "darwin"
	goosLinux      = "linux"
	sockaddrFamOff = 1 // darwin: sa_len at 0, sa_family at 1
)

// destSockaddr returns the sockaddr a send to peer on a socket of kind
// hands to the kernel on goos ("linux" or "darwin"), in that kernel's
// layout, or an error matching errWrongFamily when that kernel refuses it.
// It models what golang.org/x/net's batch send marshals (AF_INET for any
// address with an IPv4 form, AF_INET6 otherwise) and what the kernel
// accepts, so the socket choice for each peer is tested on any OS.
func destSockaddr(peer netip.AddrPort, kind SocketKind, goos string) ([]byte, error) {
	addr := peer.Addr().Unmap()
	if !canSend(addr, kind, goos) {
		why := ""
		if kind == SocketDualStack {
			why = " (macOS: EINVAL for an AF_INET sockaddr on an AF_INET6 socket)"
		}
		return nil, fmt.Errorf("send to %v on a %v socket: %w%s", peer, kind, errWrongFamily, why)
	}
	if addr.Is4() {
		b := make([]byte, sizeofSockIn)
		putFamily(b, afInet, sizeofSockIn, goos)
		binary.BigEndian.PutUint16(b[2:4], peer.Port())
		a := addr.As4()
		copy(b[4:8], a[:])
		return b, nil
	}
	b := make([]byte, sizeofSockIn6)
	fam := afInet6Linux
	if goos == goosDarwin {
		fam = afInet6Darwin
	}
	putFamily(b, fam, sizeofSockIn6, goos)
	binary.BigEndian.PutUint16(b[2:4], peer.Port())
	a := addr.As16()
	copy(b[8:24], a[:])
	return b, nil
}

// canSend reports whether a socket of kind on goos can send to addr
// (unmapped); see destSockaddr.
func canSend(addr netip.Addr, kind SocketKind, goos string) bool {
	switch kind {
	case SocketIPv4:
		return addr.Is4()
	case SocketIPv6Only:
		return addr.Is6()
	}
	return addr.Is6() || goos != goosDarwin
}

// putFamily writes the family (and on darwin the length) at the start of
// a sockaddr: Linux has a 16-bit family in host order (little-endian on
// every machine iaxcrypt runs on); BSDs a length byte and a family byte.
func putFamily(b []byte, fam, size int, goos string) {
	if goos == goosDarwin {
		b[0], b[sockaddrFamOff] = byte(size), byte(fam)
		return
	}
	binary.LittleEndian.PutUint16(b[0:2], uint16(fam))
}
