package load

import (
	"encoding/binary"
	"net"

	"golang.org/x/sys/unix"
)

// oobSize holds one SCM_TIMESTAMPNS control message.
const oobSize = 64

// setBuffers asks for big socket buffers, past net.core.*mem_max when the
// process may (CAP_NET_ADMIN), else as big as allowed.
func setBuffers(c *net.UDPConn, size int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, size)
		}
	})
}

// enableRxStamps asks the kernel to tell when each datagram arrived
// (SO_TIMESTAMPNS, CLOCK_REALTIME), so that latency does not include the
// time a datagram waits in the socket for the next tick.
func enableRxStamps(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	})
}

// rxStamp finds the SCM_TIMESTAMPNS message in oob and returns its time in
// Unix nanoseconds, or 0.
func rxStamp(oob []byte) int64 {
	const hdr = unix.SizeofCmsghdr
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < hdr || l > len(oob) {
			return 0
		}
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS && l >= hdr+16 {
			sec := int64(binary.NativeEndian.Uint64(oob[hdr:]))
			nsec := int64(binary.NativeEndian.Uint64(oob[hdr+8:]))
			return sec*1e9 + nsec
		}
		next := (l + 7) &^ 7
		if next >= len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}
