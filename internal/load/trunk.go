package load

import (
	"net/netip"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// trunkOut is the trunk frame being filled for one peer.
type trunkOut struct {
	peer netip.AddrPort
	buf  []byte
	// sent holds the offsets of the entries' payloads, stamped with the
	// time the frame leaves.
	sent []int
}

// trunkEntry adds c's voice payload to its peer's trunk frame, sending the
// frame first if the entry would make it longer than the trunk MTU.
func (h *Host) trunkEntry(now int64, c *call, ts uint16, pl []byte, out *Outbox) {
	t := h.trunks[c.peer]
	if t == nil {
		t = &trunkOut{peer: c.peer, buf: make([]byte, 0, h.cfg.TrunkMTU)}
		h.trunks[c.peer] = t
	}
	if len(t.buf) > 0 && len(t.buf)+6+len(pl) > h.cfg.TrunkMTU {
		h.flushTrunk(now, t, out)
	}
	if len(t.buf) == 0 {
		t.buf = trunkHeader(t.buf, uint32((now-h.begin)/1e6))
	}
	t.buf = iax.AppendTrunkEntry(t.buf, true, iax.TrunkEntry{SrcCall: c.local, Timestamp: ts, Data: pl})
	t.sent = append(t.sent, len(t.buf)-len(pl))
}

// flushTrunk sends t's frame, if it has entries, stamped with now.
func (h *Host) flushTrunk(now int64, t *trunkOut, out *Outbox) {
	if len(t.buf) == 0 {
		return
	}
	stamp := stampSent
	if h.cfg.Role == Callee && h.cfg.Echo {
		stamp = stampEcho // echoes keep the caller's send time
	}
	for _, off := range t.sent {
		stamp(t.buf[off:], now)
	}
	out.add(t.peer, t.buf)
	h.totals.txTrunkFrames++
	t.buf, t.sent = t.buf[:0], t.sent[:0]
}
