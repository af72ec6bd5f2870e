//go:build !darwin

package platform

import (
	"fmt"
	"net"
)

// PinToInterface reports ErrUnsupported: only macOS pins the daemon's
// sockets to an interface (Linux marks them).
func PinToInterface(c *net.UDPConn, network, name string) error {
	return fmt.Errorf("pin socket to interface %s: %w", name, ErrUnsupported)
}
