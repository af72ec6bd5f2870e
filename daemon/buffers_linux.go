package daemon

import (
	"net"

	"golang.org/x/sys/unix"
)

// socketBuffer is the receive and send buffer of the daemon's UDP socket:
// a G.711 frame takes about 1 KiB of socket memory (its skb), so the
// default 208 KiB holds some 200 frames, 7 ms of 300 calls: one scheduling
// hiccup of the daemon on a busy host and the kernel drops voice. 8 MiB
// holds about a quarter of a second of 2,000 calls.
const socketBuffer = 8 << 20

// growBuffers sets the socket's buffers to socketBuffer, past the system's
// limit (net.core.rmem_max) where the process may (root, before dropping
// privileges), else as far as the limit allows. A failure only leaves the
// default: it is not an error.
func growBuffers(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], socketBuffer) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], socketBuffer)
			}
		}
	})
}
