package device

import (
	"net/netip"

	"github.com/iaxcrypt/iaxcrypt/engine"
)

// injector sends the packets the engine made itself. Each routine has its
// own, so its buffers are never shared.
type injector struct {
	d    *Device
	pkts []engine.Packet
	msgs []Message
	bufs [][]byte
	out  [][]byte
}

func newInjector(d *Device) *injector { return &injector{d: d} }

// flush takes the engine's injected packets and sends them: ToNetwork from
// the socket, ToApp into the TUN as if from the peer.
func (j *injector) flush() {
	j.pkts = j.d.eng.TakeInjected(j.pkts[:0])
	if len(j.pkts) == 0 {
		return
	}
	j.msgs, j.out = j.msgs[:0], j.out[:0]
	nbuf := 0
	for _, p := range j.pkts {
		peer := netip.AddrPortFrom(p.Peer.Addr().Unmap(), p.Peer.Port())
		switch p.Dir {
		case engine.ToNetwork:
			j.msgs = append(j.msgs, Message{Buf: p.Data, Addr: peer})
		case engine.ToApp:
			local, ok := j.d.appAddrFor(peer.Addr(), netip.Addr{})
			if !ok {
				j.d.stats.noAppAddr.Add(1)
				continue
			}
			need := tunOffset + HeaderLen(peer.Addr()) + len(p.Data)
			if nbuf == len(j.bufs) {
				j.bufs = append(j.bufs, nil)
			}
			if cap(j.bufs[nbuf]) < need {
				j.bufs[nbuf] = make([]byte, need)
			}
			b := j.bufs[nbuf][:need]
			n, err := BuildUDP(b[tunOffset:], peer, netip.AddrPortFrom(local, j.d.appPort), p.Data)
			if err != nil {
				j.d.stats.writeErrors.Add(1)
				continue
			}
			nbuf++
			j.out = append(j.out, b[:tunOffset+n])
		}
	}
	clear(j.pkts) // drop references to the engine's buffers
	j.d.sendToNetwork(j.msgs)
	clear(j.msgs)
	step := clampBatch(j.d.tun.BatchSize())
	for i := 0; i < len(j.out); i += step {
		j.d.writeToTUN(j.out[i:min(i+step, len(j.out))])
	}
}
