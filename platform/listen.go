package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// UDPSocket is one of the daemon's UDP sockets and what it can reach.
type UDPSocket struct {
	Conn *net.UDPConn
	// Network is "udp4" (IPv4 only), "udp6" (IPv6 only, IPV6_V6ONLY) or
	// "udp" (an IPv6 socket that reaches IPv4 peers too, Linux only).
	Network string
}

// listenSpec is one socket ListenUDPSockets opens.
type listenSpec struct {
	network, addr string
}

// listenPlan says which sockets serve a --listen address. With
// perFamily (macOS, whose IPv6 sockets cannot send to IPv4 peers), a
// wildcard address gets an IPv4 socket and an IPv6-only socket on the
// same port; otherwise (Linux) it gets one dual-stack socket. An address
// of one family gets one socket of that family either way.
func listenPlan(addr string, perFamily bool) ([]listenSpec, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "" {
		if perFamily {
			return []listenSpec{{"udp4", net.JoinHostPort("0.0.0.0", port)}, {"udp6", net.JoinHostPort("::", port)}}, nil
		}
		return []listenSpec{{"udp", addr}}, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: host is not an IP address", addr)
	}
	ip = ip.Unmap()
	switch {
	case ip.Is4():
		return []listenSpec{{"udp4", net.JoinHostPort(ip.String(), port)}}, nil
	case ip.IsUnspecified() && perFamily:
		return []listenSpec{{"udp4", net.JoinHostPort("0.0.0.0", port)}, {"udp6", net.JoinHostPort("::", port)}}, nil
	case ip.IsUnspecified():
		return []listenSpec{{"udp", addr}}, nil
	}
	return []listenSpec{{"udp6", net.JoinHostPort(ip.String(), port)}}, nil
}

// ListenUDPSockets opens the daemon's sockets for addr (see listenPlan;
// perFamily is true on macOS) with opts applied before bind. If one fails,
// those already open are closed.
func ListenUDPSockets(addr string, opts SocketOptions) ([]UDPSocket, error) {
	plan, err := listenPlan(addr, splitFamilies)
	if err != nil {
		return nil, err
	}
	var out []UDPSocket
	for _, s := range plan {
		c, err := listenOne(s.network, s.addr, opts)
		if err != nil {
			for _, o := range out {
				o.Conn.Close()
			}
			return nil, err
		}
		out = append(out, UDPSocket{Conn: c, Network: s.network})
	}
	return out, nil
}

func listenOne(network, addr string, opts SocketOptions) (*net.UDPConn, error) {
	control, err := socketControl(opts)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	lc := net.ListenConfig{Control: control}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen on UDP %s: %w: another program (another iaxcrypt, or the IAX2 application itself) uses this port; stop it or choose another with --listen", addr, ErrAddressInUse)
		}
		return nil, fmt.Errorf("listen on UDP %s: %w", addr, err)
	}
	return pc.(*net.UDPConn), nil
}
