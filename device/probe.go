package device

import (
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/probe"
)

// recordProbe remembers a doctor's probe read from the TUN. The probe
// proves that a datagram sent the way the application sends its IAX2 is
// routed into the daemon; it goes no further (not to the engine, not to
// pass-through), so it never reaches the network.
func (d *Device) recordProbe(p UDPPacket, now time.Time) {
	n, ok := probe.Parse(p.Payload)
	if !ok {
		return
	}
	d.stats.probes.Add(1)
	d.probes.Record(n, probe.Sighting{
		Src: netip.AddrPortFrom(p.Src.Addr().Unmap(), p.Src.Port()),
		Dst: netip.AddrPortFrom(p.Dst.Addr().Unmap(), p.Dst.Port()),
		At:  now,
	})
}

// ProbeSeen reports whether the probe with nonce n arrived in the TUN
// (among the last few probes), and where from and to.
func (d *Device) ProbeSeen(n probe.Nonce) (probe.Sighting, bool) {
	return d.probes.Seen(n)
}
