package doctor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// shareControl sets SO_REUSEADDR and SO_REUSEPORT. XNU's in_pcbbind
// (bsd/netinet/in_pcb.c) then checks only for a socket bound to the very
// same local address and port: a probe socket on the wildcard address
// binds next to an application bound to a LAN address, and one on a LAN
// address next to an application on the wildcard; the same address
// needs SO_REUSEPORT on both. (The check of the owner's uid is skipped
// for root.)
func shareControl(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}
	}); err != nil {
		return err
	}
	return serr
}
