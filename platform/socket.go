package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
)

// ListenUDP opens the daemon's UDP socket on addr ("host:port", ":4570")
// with opts applied before bind, so that not even the first packet leaves
// without them.
func ListenUDP(addr string, opts SocketOptions) (*net.UDPConn, error) {
	control, err := socketControl(opts)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	lc := net.ListenConfig{Control: control}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listen on UDP %s: %w: another program (another iaxcrypt, or the IAX2 application itself) uses this port; stop it or choose another with --listen", addr, ErrAddressInUse)
		}
		return nil, fmt.Errorf("listen on UDP %s: %w", addr, err)
	}
	return pc.(*net.UDPConn), nil
}
