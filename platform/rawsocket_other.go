//go:build !linux && !darwin

package platform

import "fmt"

// RawSocket is not available on this system; OpenRawSocket reports
// ErrUnsupported.
type RawSocket struct{}

// OpenRawSocket reports ErrUnsupported.
func OpenRawSocket(opts SocketOptions) (*RawSocket, error) {
	return nil, fmt.Errorf("open raw socket for pass-through: %w", ErrUnsupported)
}

// IPv6Err reports ErrUnsupported.
func (r *RawSocket) IPv6Err() error { return ErrUnsupported }

// SendIP reports ErrUnsupported.
func (r *RawSocket) SendIP(pkt []byte) error { return ErrUnsupported }

// Close does nothing.
func (r *RawSocket) Close() error { return nil }

// Repin reports ErrUnsupported.
func (r *RawSocket) Repin(name string) error { return ErrUnsupported }
