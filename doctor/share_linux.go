package doctor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// shareControl sets SO_REUSEADDR, so the probe socket can bind the
// application's port while the application, with SO_REUSEADDR as well,
// holds it. Not SO_REUSEPORT: on Linux that would put the probe socket
// into the application's load-balancing group.
func shareControl(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	}); err != nil {
		return err
	}
	return serr
}
