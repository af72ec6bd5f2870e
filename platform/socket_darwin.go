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
