package platform

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// RawSocket sends whole IP packets, headers included, unchanged on the
// real network: the daemon's pass-through for traffic to a routed peer
// that is not the application's IAX2. On Linux it is a pair of
// socket(AF_INET|AF_INET6, SOCK_RAW, IPPROTO_RAW) (the header is the
// caller's: IP_HDRINCL is implied for IPv4, and IPV6_HDRINCL, Linux 4.5 and
// later, is set for IPv6) carrying SO_MARK FwMark, so that the rules of
// package route send its packets past the TUN. The sockets are
// non-blocking: a full send buffer is an error, never a stall of the data
// path. They receive nothing (IPPROTO_RAW sockets get no packets).
//
// Open it before DropPrivileges: creating it needs CAP_NET_RAW, sending
// on it afterwards does not. SendIP is not safe for concurrent use.
type RawSocket struct {
	fd4, fd6 int
	err6     error // why there is no IPv6 socket
	sa4      unix.SockaddrInet4
	sa6      unix.SockaddrInet6
}

// OpenRawSocket opens the pass-through sockets with opts.FwMark set. An
// IPv6 socket that cannot be opened (IPv6 disabled, a kernel before 4.5)
// is not fatal: SendIP then fails for IPv6 packets with the reason, which
// IPv6Err also returns.
func OpenRawSocket(opts SocketOptions) (*RawSocket, error) {
	if fd4, fd6, err6, ok := takeInheritedRaw(); ok {
		return adoptRaw(fd4, fd6, err6, opts.FwMark)
	}
	fd4, err := openRaw(unix.AF_INET, opts.FwMark)
	if err != nil {
		return nil, fmt.Errorf("open raw IPv4 socket for pass-through: %w", err)
	}
	r := &RawSocket{fd4: fd4, fd6: -1}
	if fd6, err := openRaw(unix.AF_INET6, opts.FwMark); err != nil {
		r.err6 = fmt.Errorf("open raw IPv6 socket for pass-through: %w", err)
	} else {
		r.fd6 = fd6
	}
	return r, nil
}

// adoptRaw makes the RawSocket of the sockets PrepareDropPrivileges opened
// before re-executing (creating them needs CAP_NET_RAW, which this image
// does not have; setting SO_MARK needs CAP_NET_ADMIN, which it has).
func adoptRaw(fd4, fd6 int, err6 string, mark uint32) (*RawSocket, error) {
	r := &RawSocket{fd4: fd4, fd6: fd6}
	for _, fd := range []*int{&r.fd4, &r.fd6} {
		if *fd < 0 {
			continue
		}
		if err := setMark(*fd, mark); err != nil {
			r.Close()
			return nil, fmt.Errorf("raw socket for pass-through: %w", err)
		}
	}
	if r.fd6 < 0 {
		if err6 == "" {
			err6 = "not opened"
		}
		r.err6 = fmt.Errorf("open raw IPv6 socket for pass-through (before re-executing): %s", err6)
	}
	return r, nil
}

func openRaw(family int, mark uint32) (int, error) {
	fd, err := socketRaw(family, unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if err := setMark(fd, mark); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// socketRaw opens a non-blocking IPPROTO_RAW socket of family (flags:
// SOCK_CLOEXEC or 0), with IPV6_HDRINCL for IPv6.
func socketRaw(family, flags int) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|flags, unix.IPPROTO_RAW)
	if errors.Is(err, unix.EPERM) {
		return -1, fmt.Errorf("socket: %w (%w)", ErrNotRoot, err)
	}
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_HDRINCL, 1); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("set IPV6_HDRINCL (Linux 4.5 or later): %w", err)
		}
	}
	return fd, nil
}

// setMark sets SO_MARK mark on fd (nothing for 0).
func setMark(fd int, mark uint32) error {
	if mark == 0 {
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(mark)); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set SO_MARK %#x: %w (%w)", mark, ErrNotRoot, err)
		}
		return fmt.Errorf("set SO_MARK %#x: %w", mark, err)
	}
	return nil
}

// IPv6Err returns why IPv6 packets cannot be passed through, or nil.
func (r *RawSocket) IPv6Err() error { return r.err6 }

// SendIP sends pkt, a whole IPv4 or IPv6 packet, to its destination
// address. The kernel fills in the IPv4 header checksum (and an ID of
// zero); nothing else is changed. SendIP does not allocate.
func (r *RawSocket) SendIP(pkt []byte) error {
	if len(pkt) == 0 {
		return errShortPacket
	}
	var err error
	switch pkt[0] >> 4 {
	case 4:
		if r.fd4 < 0 {
			return errClosed
		}
		if len(pkt) < 20 {
			return errShortPacket
		}
		copy(r.sa4.Addr[:], pkt[16:20])
		err = unix.Sendto(r.fd4, pkt, 0, &r.sa4)
	case 6:
		if r.fd6 < 0 {
			return r.err6
		}
		if len(pkt) < 40 {
			return errShortPacket
		}
		copy(r.sa6.Addr[:], pkt[24:40])
		err = unix.Sendto(r.fd6, pkt, 0, &r.sa6)
	default:
		return errNotIP
	}
	if err != nil {
		return fmt.Errorf("raw send: %w", err)
	}
	return nil
}

// Close closes the sockets. Calling it again does nothing.
func (r *RawSocket) Close() error {
	var err error
	for _, fd := range []*int{&r.fd4, &r.fd6} {
		if *fd < 0 {
			continue
		}
		if e := unix.Close(*fd); e != nil && err == nil {
			err = e
		}
		*fd = -1
	}
	if r.err6 == nil {
		r.err6 = errClosed
	}
	if err != nil {
		return fmt.Errorf("close raw socket: %w", err)
	}
	return nil
}

// Repin reports ErrUnsupported: on Linux the raw socket carries the
// daemon's fwmark and follows the routing table, whatever the interface.
func (r *RawSocket) Repin(name string) error { return ErrUnsupported }
