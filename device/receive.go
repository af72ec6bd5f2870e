package device

import (
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/engine"
)

// RoutineReadFromUDP reads datagrams from conn in batches, passes
// each through Engine.Inbound and writes the results into the TUN as UDP
// packets from the peer to the application's address and port. It returns
// when the socket is closed.
func (d *Device) RoutineReadFromUDP(conn UDPConn) {
	defer d.wg.Done()
	batch := clampBatch(conn.BatchSize())
	msgs := make([]Message, batch)
	rbufs := make([][]byte, batch)
	tbufs := make([][]byte, batch)
	for i := range rbufs {
		rbufs[i] = make([]byte, maxDatagram)
		tbufs[i] = make([]byte, tunOffset+IPv6HeaderLen+UDPHeaderLen+maxDatagram)
	}
	out := make([][]byte, 0, batch)
	inj := newInjector(d)
	var backoff time.Duration
	for {
		for i := range msgs {
			msgs[i] = Message{Buf: rbufs[i]}
		}
		n, err := conn.ReadBatch(msgs)
		if d.isClosing() {
			return
		}
		if err != nil {
			if isClosedErr(err) {
				d.log.Error("UDP socket closed under the daemon; the data path stops", "err", err)
				return
			}
			if !d.pause(&backoff, "read from UDP socket", err) {
				return
			}
			continue
		}
		backoff = 0
		now := d.clock()
		out = out[:0]
		for i := range min(n, len(msgs)) {
			m := &msgs[i]
			if m.N < 0 || m.N > len(m.Buf) {
				d.stats.readErrors.Add(1)
				continue
			}
			d.stats.fromNetwork.Add(1)
			peer := netip.AddrPortFrom(m.Addr.Addr().Unmap(), m.Addr.Port())
			if b, ok := d.buildForApp(tbufs[i], now, peer, m.Buf[:m.N], m.Local); ok {
				out = append(out, b)
			}
		}
		d.writeToTUN(out)
		inj.flush()
	}
}

// buildForApp runs one datagram from peer through the engine, the result
// landing in place after the IP and UDP headers in tbuf, and builds the
// packet for the TUN. It returns tbuf cut to the packet (with headroom).
func (d *Device) buildForApp(tbuf []byte, now time.Time, peer netip.AddrPort, pkt []byte, arrivedOn netip.Addr) ([]byte, bool) {
	local, ok := d.appAddrFor(peer.Addr(), arrivedOn)
	if !ok {
		d.stats.noAppAddr.Add(1)
		return nil, false
	}
	h := HeaderLen(peer.Addr())
	res := d.eng.Inbound(now, peer, pkt, tbuf[tunOffset+h:])
	if res.Verdict != engine.Forward {
		if res.Verdict == engine.Drop {
			d.stats.engineDrops.Add(1)
		}
		return nil, false
	}
	n, err := BuildUDP(tbuf[tunOffset:], peer, netip.AddrPortFrom(local, d.appPort), res.Packet)
	if err != nil {
		d.stats.writeErrors.Add(1)
		return nil, false
	}
	return tbuf[:tunOffset+n], true
}
