//go:build !linux

package load

import "net"

const oobSize = 0

func setBuffers(c *net.UDPConn, size int) {
	c.SetReadBuffer(size)
	c.SetWriteBuffer(size)
}

// enableRxStamps does nothing here: datagrams are timed when read.
func enableRxStamps(*net.UDPConn) {}

func rxStamp([]byte) int64 { return 0 }
