//go:build !linux

package device

// WithOffload returns c: UDP segmentation offload is Linux's (see
// offload_linux.go).
func WithOffload(c UDPConn) UDPConn { return c }
