package audit

import "errors"

// Why a packet could not be decoded down to its UDP payload. The decoder
// returns these sentinels unwrapped; the report counts packets by them.
var (
	// ErrNotUDP means the packet is readable but carries no UDP datagram
	// (ARP, TCP, ICMP...): it is counted as other traffic.
	ErrNotUDP = errors.New("audit: not a UDP datagram")
	// ErrFragment means an IPv4 or IPv6 fragment. Fragments are not
	// reassembled, so their contents cannot be checked.
	ErrFragment = errors.New("audit: IP fragment")
	// ErrTruncated means the packet ends before its headers say it does
	// (cut by the capture's snap length, or a bad length field).
	ErrTruncated = errors.New("audit: packet truncated")
	// ErrMalformed means a link, IP or UDP header that does not make sense.
	ErrMalformed = errors.New("audit: malformed header")
	// ErrLinkType means a link-layer type the decoder does not read.
	ErrLinkType = errors.New("audit: unsupported link type")
)

// ErrCapture means the file is not a capture this package can read, or is
// corrupt beyond the packet it fails at.
var ErrCapture = errors.New("audit: cannot read the capture")
