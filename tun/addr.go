package tun

// The utun's addresses on macOS. XNU refuses a host route through an
// interface without an address of the destination's family, and pf's
// route-to can only hand a packet to an interface that has that family
// attached, so the utun gets a point-to-point IPv4 address and an IPv6
// address before any route or rule points at it. The ioctl requests are
// built here without a build tag, so their bytes are tested on Linux.

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Default utun addresses: IPv4 link-local (never routed off the host, so
// it cannot collide with a LAN) and an IPv6 unique local address. Passed
// through traffic that leaves with them is translated to the real
// interface's address by pf (see package route).
var (
	DefaultLocal4 = netip.MustParseAddr("169.254.69.1")
	DefaultPeer4  = netip.MustParseAddr("169.254.69.2")
	DefaultLocal6 = netip.MustParseAddr("fd69:6178:6372::1")
)

const (
	sizeofIfAliasReq  = 64
	sizeofIn6AliasReq = 128
	in6IffNodad       = 0x20
	nd6InfiniteLife   = 0xffffffff
	ifNameSize        = 16
)

// ifAliasReq returns a struct ifaliasreq adding local with point-to-point
// peer dst and a /32 mask to interface name: ifra_name[16], then
// ifra_addr, ifra_broadaddr (the destination on a point-to-point link)
// and ifra_mask, each a 16-byte sockaddr_in.
func ifAliasReq(name string, local, dst netip.Addr) ([]byte, error) {
	if len(name) == 0 || len(name) >= ifNameSize {
		return nil, fmt.Errorf("interface name %q: want 1 to 15 bytes", name)
	}
	if !local.Is4() || !dst.Is4() {
		return nil, fmt.Errorf("utun IPv4 address %v peer %v: both must be IPv4", local, dst)
	}
	b := make([]byte, sizeofIfAliasReq)
	copy(b, name)
	put := func(off int, a [4]byte) {
		b[off], b[off+1] = 16, 2 // sin_len, AF_INET
		copy(b[off+4:off+8], a[:])
	}
	put(16, local.As4())
	put(32, dst.As4())
	put(48, [4]byte{255, 255, 255, 255})
	return b, nil
}

// in6AliasReq returns a struct in6_aliasreq adding local/128 to name with
// infinite lifetimes (a valid lifetime of 0 would make XNU add nothing and
// succeed) and without duplicate address detection: ifra_name[16],
// ifra_addr, ifra_dstaddr, ifra_prefixmask (28-byte sockaddr_in6 each),
// ifra_flags (int), ifra_lifetime (two time_t, then vltime and pltime).
func in6AliasReq(name string, local netip.Addr) ([]byte, error) {
	if len(name) == 0 || len(name) >= ifNameSize {
		return nil, fmt.Errorf("interface name %q: want 1 to 15 bytes", name)
	}
	if !local.Is6() || local.Is4In6() || local.Zone() != "" {
		return nil, fmt.Errorf("utun IPv6 address %v: want a global or unique local IPv6 address", local)
	}
	b := make([]byte, sizeofIn6AliasReq)
	copy(b, name)
	b[16], b[17] = 28, 30 // ifra_addr: sin6_len, AF_INET6
	a := local.As16()
	copy(b[24:40], a[:])
	// ifra_dstaddr (44..72) stays empty.
	b[72], b[73] = 28, 30 // ifra_prefixmask: all ones, /128
	for i := 80; i < 96; i++ {
		b[i] = 0xff
	}
	le := binary.LittleEndian
	le.PutUint32(b[100:], in6IffNodad)
	// ifra_lifetime at 104: ia6t_expire, ia6t_preferred (0), vltime, pltime.
	le.PutUint32(b[120:], nd6InfiniteLife)
	le.PutUint32(b[124:], nd6InfiniteLife)
	return b, nil
}
