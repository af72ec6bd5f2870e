package platform

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketControl pins the socket to one interface, as tailscale's
// net/netns does on darwin: a socket bound with IP_BOUND_IF ignores
// routes through other interfaces, the utun's host routes included.
func socketControl(opts SocketOptions) (func(network, address string, c syscall.RawConn) error, error) {
	name := opts.BindInterface
	if name == "" {
		var err error
		if name, err = DefaultInterface(); err != nil {
			return nil, err
		}
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("bind to interface %q: %w", name, err)
	}
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			// Go gives a dual-stack "udp" socket the network "udp6";
			// the bound interface is kept per socket, for both
			// families.
			if network == "udp4" {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BOUND_IF, ifc.Index)
			} else {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_BOUND_IF, ifc.Index)
			}
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			return fmt.Errorf("bind socket to interface %s: %w", name, err)
		}
		return nil
	}, nil
}

// PinToInterface moves an open socket of the daemon to interface name
// (IP_BOUND_IF, or IPV6_BOUND_IF for "udp6"/"udp"): XNU lets a bound
// socket change its bound interface, so the daemon follows a new default
// route without closing its sockets.
func PinToInterface(c *net.UDPConn, network, name string) error {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("pin socket to interface %q: %w", name, err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("pin socket to interface %s: %w", name, err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = pinFD(int(fd), network != "udp4", ifc.Index) }); err != nil {
		return fmt.Errorf("pin socket to interface %s: %w", name, err)
	}
	if serr != nil {
		return fmt.Errorf("pin socket to interface %s: %w", name, serr)
	}
	return nil
}

func pinFD(fd int, v6 bool, index int) error {
	if v6 {
		return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_BOUND_IF, index)
	}
	return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BOUND_IF, index)
}
