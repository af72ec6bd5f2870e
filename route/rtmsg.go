package route

// Routing-socket messages of macOS (XNU's struct rt_msghdr, version 5,
// followed by the sockaddrs its rtm_addrs bits name, each padded to 4
// bytes), built and parsed here without a build tag so that the exact
// bytes are tested on Linux; route_darwin.go writes them to a PF_ROUTE
// socket and reads the kernel's answer. rtmsg_darwin_test.go checks them
// against golang.org/x/net/route, which builds only for BSDs.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// Constants of XNU's net/route.h and sys/socket.h.
const (
	rtmVersion = 5

	rtmAdd    = 0x1
	rtmDelete = 0x2
	rtmChange = 0x3
	rtmGet    = 0x4
	rtmIfinfo = 0xe
	rtmNewAdr = 0xc
	rtmDelAdr = 0xd

	rtfUp      = 0x1
	rtfGateway = 0x2
	rtfHost    = 0x4
	rtfStatic  = 0x800

	rtaDst     = 0x1
	rtaGateway = 0x2
	rtaNetmask = 0x4
	rtaIfp     = 0x10
	rtaIfa     = 0x20
	rtaxMax    = 8

	afInetDarwin  = 2
	afInet6Darwin = 30
	afLinkDarwin  = 18

	sizeofRtMsghdr = 92 // through struct rt_metrics rtm_rmx
	sizeofSockIn   = 16
	sizeofSockIn6  = 28
)

// Offsets in struct rt_msghdr.
const (
	offMsglen  = 0
	offVersion = 2
	offType    = 3
	offIndex   = 4
	offFlags   = 8
	offAddrs   = 12
	offPid     = 16
	offSeq     = 20
	offErrno   = 24
)

// macOS is little-endian on every machine it runs on (x86_64, arm64).
var hostEndian = binary.LittleEndian

// hostRouteMsg builds an RTM_ADD or RTM_DELETE of a host route to dst
// through interface (index, name), as "route -n add -host DST -interface
// NAME" would: destination and a link-level gateway, flags
// UP|HOST|STATIC, no RTF_GATEWAY.
func hostRouteMsg(typ int, seq int32, dst netip.Addr, ifIndex int, ifName string) ([]byte, error) {
	if typ != rtmAdd && typ != rtmDelete {
		return nil, fmt.Errorf("routing message type %d: only RTM_ADD and RTM_DELETE build host routes", typ)
	}
	dstSA, err := inetSockaddr(dst)
	if err != nil {
		return nil, err
	}
	gw, err := linkSockaddr(ifIndex, ifName)
	if err != nil {
		return nil, err
	}
	return rtMsg(typ, rtfUp|rtfHost|rtfStatic, 0, seq, rtaDst|rtaGateway, dstSA, gw), nil
}

// getRouteMsg builds an RTM_GET for the route the kernel would use to
// reach dst, asking for its interface (an empty link-level RTA_IFP, as
// route(8) sends for "route -n get").
func getRouteMsg(seq int32, dst netip.Addr) ([]byte, error) {
	dstSA, err := inetSockaddr(dst)
	if err != nil {
		return nil, err
	}
	ifp := make([]byte, 20) // an empty struct sockaddr_dl
	ifp[0], ifp[1] = 20, afLinkDarwin
	return rtMsg(rtmGet, rtfUp|rtfHost, 0, seq, rtaDst|rtaIfp, dstSA, ifp), nil
}

// rtMsg lays out a header and the sockaddrs, in RTA_ bit order.
func rtMsg(typ, flags, index int, seq int32, addrs int, sas ...[]byte) []byte {
	n := sizeofRtMsghdr
	for _, sa := range sas {
		n += roundup4(len(sa))
	}
	b := make([]byte, n)
	hostEndian.PutUint16(b[offMsglen:], uint16(n))
	b[offVersion] = rtmVersion
	b[offType] = byte(typ)
	hostEndian.PutUint16(b[offIndex:], uint16(index))
	hostEndian.PutUint32(b[offFlags:], uint32(flags))
	hostEndian.PutUint32(b[offAddrs:], uint32(addrs))
	hostEndian.PutUint32(b[offSeq:], uint32(seq))
	off := sizeofRtMsghdr
	for _, sa := range sas {
		copy(b[off:], sa)
		off += roundup4(len(sa))
	}
	return b
}

func roundup4(n int) int {
	if n == 0 {
		return 4
	}
	return (n + 3) &^ 3
}

// inetSockaddr is a struct sockaddr_in or sockaddr_in6 (port 0) for addr.
func inetSockaddr(addr netip.Addr) ([]byte, error) {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		b := make([]byte, sizeofSockIn)
		b[0], b[1] = sizeofSockIn, afInetDarwin
		a := addr.As4()
		copy(b[4:8], a[:])
		return b, nil
	case addr.Is6() && addr.Zone() == "":
		b := make([]byte, sizeofSockIn6)
		b[0], b[1] = sizeofSockIn6, afInet6Darwin
		a := addr.As16()
		copy(b[8:24], a[:])
		return b, nil
	}
	return nil, fmt.Errorf("routing message: %w: %v is not a global IPv4 or IPv6 address", ErrInvalidPeer, addr)
}

// linkSockaddr is a struct sockaddr_dl naming an interface by index and
// name, without a link-level address: sdl_len, sdl_family, sdl_index,
// sdl_type, sdl_nlen, sdl_alen, sdl_slen, then the name.
func linkSockaddr(index int, name string) ([]byte, error) {
	if index <= 0 || index > 0xffff || len(name) == 0 || len(name) > 0xff-8 {
		return nil, fmt.Errorf("routing message: interface %q (index %d) cannot be named in a link-level address", name, index)
	}
	b := make([]byte, 8+len(name))
	b[0], b[1] = byte(len(b)), afLinkDarwin
	hostEndian.PutUint16(b[2:4], uint16(index))
	b[5] = byte(len(name))
	copy(b[8:], name)
	return b, nil
}

// rtReply is the part of a routing message the router reads back.
type rtReply struct {
	typ, flags, index int
	pid, seq          int32
	errno             syscall.Errno
	addrs             [rtaxMax][]byte // raw sockaddrs by RTAX_ index
}

var errShortRtMsg = errors.New("routing message truncated")

// parseRtMsg parses one routing message (rt_msghdr and its sockaddrs).
// Messages of another layout (interface and address messages) return
// only typ, with ok false.
func parseRtMsg(b []byte) (r rtReply, ok bool, err error) {
	if len(b) < 4 {
		return r, false, errShortRtMsg
	}
	n := int(hostEndian.Uint16(b[offMsglen:]))
	if n < 4 || n > len(b) {
		return r, false, fmt.Errorf("%w: length %d, have %d bytes", errShortRtMsg, n, len(b))
	}
	b = b[:n]
	r.typ = int(b[offType])
	if b[offVersion] != rtmVersion {
		return r, false, fmt.Errorf("routing message version %d, want %d", b[offVersion], rtmVersion)
	}
	switch r.typ {
	case rtmAdd, rtmDelete, rtmChange, rtmGet:
	default:
		return r, false, nil
	}
	if n < sizeofRtMsghdr {
		return r, false, fmt.Errorf("%w: %d bytes for a route message", errShortRtMsg, n)
	}
	r.index = int(hostEndian.Uint16(b[offIndex:]))
	r.flags = int(hostEndian.Uint32(b[offFlags:]))
	r.pid = int32(hostEndian.Uint32(b[offPid:]))
	r.seq = int32(hostEndian.Uint32(b[offSeq:]))
	r.errno = syscall.Errno(hostEndian.Uint32(b[offErrno:]))
	addrs := hostEndian.Uint32(b[offAddrs:])
	rest := b[sizeofRtMsghdr:]
	for i := 0; i < rtaxMax; i++ {
		if addrs&(1<<i) == 0 {
			continue
		}
		if len(rest) < 1 {
			return r, false, fmt.Errorf("%w: sockaddr %d missing", errShortRtMsg, i)
		}
		l := int(rest[0])
		step := roundup4(l)
		if step > len(rest) || l > len(rest) {
			return r, false, fmt.Errorf("%w: sockaddr %d of %d bytes", errShortRtMsg, i, l)
		}
		r.addrs[i] = rest[:l]
		rest = rest[step:]
	}
	return r, true, nil
}

// rtaxIndex returns the RTAX_ index of an RTA_ bit.
func rtaxIndex(bit int) int {
	for i := 0; i < rtaxMax; i++ {
		if bit == 1<<i {
			return i
		}
	}
	return -1
}

// linkIndexName reads a struct sockaddr_dl: the interface index and name.
func linkIndexName(sa []byte) (int, string, bool) {
	if len(sa) < 8 || sa[1] != afLinkDarwin {
		return 0, "", false
	}
	idx := int(hostEndian.Uint16(sa[2:4]))
	nlen := int(sa[5])
	if 8+nlen > len(sa) {
		return idx, "", idx > 0
	}
	return idx, string(sa[8 : 8+nlen]), idx > 0
}

// sockaddrAddr reads the address of a sockaddr_in or sockaddr_in6.
func sockaddrAddr(sa []byte) (netip.Addr, bool) {
	switch {
	case len(sa) >= 8 && sa[1] == afInetDarwin:
		return netip.AddrFrom4([4]byte(sa[4:8])), true
	case len(sa) >= 24 && sa[1] == afInet6Darwin:
		return netip.AddrFrom16([16]byte(sa[8:24])), true
	}
	return netip.Addr{}, false
}

// routeChangeMatters reports whether a routing message may change the
// interface of the default route: a route added, removed or changed, an
// interface going up or down, an address added or removed.
func routeChangeMatters(typ int) bool {
	switch typ {
	case rtmAdd, rtmDelete, rtmChange, rtmIfinfo, rtmNewAdr, rtmDelAdr:
		return true
	}
	return false
}
