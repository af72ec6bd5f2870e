package platform

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// RawSocket sends whole IP packets unchanged on the real network: the
// daemon's pass-through for traffic to a routed peer that is not the
// application's IAX2 (a host route into the utun catches every packet to
// that peer). On macOS every socket is pinned to the physical interface
// with IP_BOUND_IF / IPV6_BOUND_IF, so the utun's host routes do not catch
// it, as the daemon's UDP socket is.
//
// IPv4 goes through one socket(AF_INET, SOCK_RAW, IPPROTO_RAW) with
// IP_HDRINCL; macOS wants the total length and fragment fields of such a
// header in host byte order, so SendIP rewrites them in pkt. macOS has no
// IPV6_HDRINCL: an IPv6 packet is sent as its payload on a raw socket of
// its upper-layer protocol (opened on first use), with the source address,
// hop limit and traffic class given as ancillary data; the flow label is
// lost, and packets with extension headers are refused. These IPv6 sends
// allocate their ancillary data.
//
// This code builds and is vetted on Linux; it has not been run on a Mac.
// SendIP is not safe for concurrent use.
type RawSocket struct {
	ifindex atomic.Int32 // Repin changes it from another goroutine
	fd4     int
	// mu guards the opening of fd6 slots against Repin, which walks
	// them; SendIP reads its own writes without it.
	mu     sync.Mutex
	fd6    [256]int // by protocol; 0 means not opened yet
	closed bool
	sa4    unix.SockaddrInet4
	sa6    unix.SockaddrInet6
}

// OpenRawSocket opens the IPv4 pass-through socket pinned to
// opts.BindInterface ("" means the interface of the default route).
func OpenRawSocket(opts SocketOptions) (*RawSocket, error) {
	name := opts.BindInterface
	if name == "" {
		var err error
		if name, err = DefaultInterface(); err != nil {
			return nil, fmt.Errorf("open raw socket for pass-through: %w", err)
		}
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("open raw socket for pass-through: interface %q: %w", name, err)
	}
	r := &RawSocket{}
	r.ifindex.Store(int32(ifc.Index))
	fd, err := r.open(unix.AF_INET, unix.IPPROTO_RAW)
	if err != nil {
		return nil, fmt.Errorf("open raw IPv4 socket for pass-through: %w", err)
	}
	r.fd4 = fd
	return r, nil
}

func (r *RawSocket) open(family, proto int) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_RAW, proto)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return -1, fmt.Errorf("socket: %w (%w)", ErrNotRoot, err)
	}
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	unix.CloseOnExec(fd)
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fail("set non-blocking", err)
	}
	if family == unix.AF_INET {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_HDRINCL, 1); err != nil {
			return fail("set IP_HDRINCL", err)
		}
	}
	if err := pinFD(fd, family == unix.AF_INET6, int(r.ifindex.Load())); err != nil {
		return fail("set IP_BOUND_IF/IPV6_BOUND_IF", err)
	}
	// The socket is for sending; a raw socket of a real protocol (ICMPv6)
	// would otherwise queue copies of what arrives. Best effort.
	_ = unix.Shutdown(fd, unix.SHUT_RD)
	return fd, nil
}

// IPv6Err returns nil: IPv6 sockets are opened on first use, and their
// errors are returned by SendIP.
func (r *RawSocket) IPv6Err() error { return nil }

// SendIP sends pkt, a whole IPv4 or IPv6 packet, to its destination
// address. It may rewrite pkt's IPv4 header (see RawSocket).
func (r *RawSocket) SendIP(pkt []byte) error {
	if r.closed {
		return errClosed
	}
	if len(pkt) == 0 {
		return errShortPacket
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < 20 {
			return errShortPacket
		}
		copy(r.sa4.Addr[:], pkt[16:20])
		ipv4HeaderToHostOrder(pkt)
		if err := unix.Sendto(r.fd4, pkt, 0, &r.sa4); err != nil {
			return fmt.Errorf("raw send: %w", err)
		}
		return nil
	case 6:
		return r.send6(pkt)
	default:
		return errNotIP
	}
}

func (r *RawSocket) send6(pkt []byte) error {
	proto, payload, ok := ipv6UpperLayer(pkt)
	if !ok {
		return fmt.Errorf("raw send: IPv6 packet malformed or with extension headers, which macOS cannot pass through")
	}
	if r.fd6[proto] == 0 {
		r.mu.Lock()
		fd, err := r.open(unix.AF_INET6, int(proto))
		if err == nil {
			r.fd6[proto] = fd + 1
		}
		r.mu.Unlock()
		if err != nil {
			return fmt.Errorf("open raw IPv6 socket for protocol %d: %w", proto, err)
		}
	}
	src := netip.AddrFrom16([16]byte(pkt[8:24]))
	copy(r.sa6.Addr[:], pkt[24:40])
	tclass := int(pkt[0]&0x0f)<<4 | int(pkt[1]>>4)
	cm := ipv6.ControlMessage{TrafficClass: tclass, HopLimit: int(pkt[7]), Src: src.AsSlice(), IfIndex: int(r.ifindex.Load())}
	if _, err := unix.SendmsgN(r.fd6[proto]-1, payload, cm.Marshal(), &r.sa6, 0); err != nil {
		return fmt.Errorf("raw send: %w", err)
	}
	return nil
}

// Repin moves the sockets to interface name (the default route moved);
// safe to call while another goroutine sends. Sockets opened later get
// the new interface too.
func (r *RawSocket) Repin(name string) error {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("move pass-through raw socket to interface %q: %w", name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ifindex.Store(int32(ifc.Index))
	if err := pinFD(r.fd4, false, ifc.Index); err != nil {
		return fmt.Errorf("move pass-through raw socket to %s: %w", name, err)
	}
	for _, fd := range r.fd6 {
		if fd != 0 {
			if err := pinFD(fd-1, true, ifc.Index); err != nil {
				return fmt.Errorf("move pass-through raw IPv6 socket to %s: %w", name, err)
			}
		}
	}
	return nil
}

// Close closes the sockets. Calling it again does nothing.
func (r *RawSocket) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := unix.Close(r.fd4)
	for i, fd := range r.fd6 {
		if fd != 0 {
			if e := unix.Close(fd - 1); e != nil && err == nil {
				err = e
			}
			r.fd6[i] = 0
		}
	}
	if err != nil {
		return fmt.Errorf("close raw socket: %w", err)
	}
	return nil
}
