package device

import "errors"

// Errors returned by ParseUDP and BuildUDP. The data path counts them as
// drops; they are exported so tests and callers can tell the cases apart.
var (
	// ErrTruncated means the packet is shorter than its headers say.
	ErrTruncated = errors.New("packet truncated")
	// ErrNotIP means the first nibble is neither 4 nor 6.
	ErrNotIP = errors.New("not an IPv4 or IPv6 packet")
	// ErrNotUDP means the packet carries another protocol (or IPv6
	// extension headers, which the application's datagrams never have).
	ErrNotUDP = errors.New("not a UDP packet")
	// ErrFragment means an IPv4 fragment; the daemon does not reassemble.
	ErrFragment = errors.New("IP fragment")
	// ErrFamilyMismatch means source and destination of a packet to build
	// are not of the same IP family.
	ErrFamilyMismatch = errors.New("source and destination addresses are of different IP families")
	// ErrShortBuffer means the buffer to build into is too small.
	ErrShortBuffer = errors.New("buffer too small for packet")
	// ErrTooBig means the payload does not fit in one UDP datagram.
	ErrTooBig = errors.New("payload too large for a UDP datagram")
)

// errInvalidConfig is wrapped by New for missing configuration.
var errInvalidConfig = errors.New("invalid device configuration")
