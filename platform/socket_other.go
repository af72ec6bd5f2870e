//go:build !linux && !darwin

package platform

import "syscall"

// socketControl applies nothing: other systems are not supported, and
// ListenUDP there gives a plain socket for tests.
func socketControl(opts SocketOptions) (func(network, address string, c syscall.RawConn) error, error) {
	return nil, nil
}
