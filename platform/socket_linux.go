package platform

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

func socketControl(opts SocketOptions) (func(network, address string, c syscall.RawConn) error, error) {
	if opts.FwMark == 0 {
		return nil, nil
	}
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(opts.FwMark))
		})
		if err == nil {
			err = serr
		}
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set SO_MARK %#x: %w (%w)", opts.FwMark, ErrNotRoot, err)
		}
		if err != nil {
			return fmt.Errorf("set SO_MARK %#x: %w", opts.FwMark, err)
		}
		return nil
	}, nil
}
