package attacker

import (
	"fmt"
	"net/netip"

	"github.com/iaxcrypt/iaxcrypt/device"
)

// The IP side reuses the daemon's own parser and builder (package device):
// they are fuzzed and checked against the kernel there, and the attacker
// needs nothing else from an IPv4 header than what they keep. A rewritten
// packet gets a fresh header (TTL 64, DF) with both checksums computed
// again; a packet passed unchanged keeps its bytes.

// datagram is a UDP datagram read from the TUN; Payload aliases the packet.
type datagram = device.UDPPacket

func parseDatagram(pkt []byte) (datagram, error) {
	return device.ParseUDP(pkt)
}

// BuildUDP returns a new IPv4 packet from src to dst carrying payload, with
// valid IP and UDP checksums.
func BuildUDP(src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	b := make([]byte, device.HeaderLen(src.Addr())+len(payload))
	n, err := device.BuildUDP(b, src, dst, payload)
	if err != nil {
		return nil, fmt.Errorf("attacker: build packet %v -> %v: %w", src, dst, err)
	}
	return b[:n], nil
}
