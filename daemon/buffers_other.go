//go:build !linux

package daemon

import "net"

// growBuffers asks for bigger socket buffers, as far as the system allows
// (see the Linux version for why).
func growBuffers(c *net.UDPConn) {
	c.SetReadBuffer(8 << 20)
	c.SetWriteBuffer(8 << 20)
}
