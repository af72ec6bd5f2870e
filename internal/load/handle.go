package load

import (
	"errors"
	"net/netip"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Handle takes one datagram received from peer at now.
func (h *Host) Handle(now int64, peer netip.AddrPort, pkt []byte, out *Outbox) {
	kind, err := iax.Classify(pkt)
	if err != nil {
		h.totals.foreign++
		return
	}
	switch kind {
	case iax.KindFull:
		f, err := iax.ParseFull(pkt)
		if err != nil {
			h.totals.foreign++
			return
		}
		h.handleFull(now, peer, &f, out)
	case iax.KindMini:
		m, err := iax.ParseMini(pkt)
		if err != nil {
			h.totals.foreign++
			return
		}
		h.voiceIn(now, h.byRemoteCall(peer, m.SrcCall), m.Payload, out)
	case iax.KindTrunk:
		t, err := iax.ParseTrunk(pkt)
		if err != nil {
			h.totals.foreign++
			return
		}
		if err := t.Range(func(e iax.TrunkEntry) bool {
			h.voiceIn(now, h.byRemoteCall(peer, e.SrcCall), e.Data, out)
			return true
		}); err != nil {
			h.totals.foreign++
		}
	default:
		h.totals.foreign++
	}
}

func (h *Host) byRemoteCall(peer netip.AddrPort, remote uint16) *call {
	local, ok := h.byRemote[remoteKey{peer, remote}]
	if !ok {
		return nil
	}
	return h.calls[local]
}

func (h *Host) handleFull(now int64, peer netip.AddrPort, f *iax.FullFrame, out *Outbox) {
	sub, isIAX := f.IAXSubclass()
	if isIAX && sub == iax.IAXNew && f.DstCall == 0 {
		h.handleNew(now, peer, f, out)
		return
	}
	c := h.calls[f.DstCall]
	if c == nil || c.phase == phaseFree || c.peer != peer || (c.remote != 0 && c.remote != f.SrcCall) {
		h.totals.unknownCall++
		return
	}
	if c.remote == 0 {
		if !(isIAX && (sub == iax.IAXAccept || sub == iax.IAXReject)) {
			h.totals.unknownCall++
			return
		}
		c.remote = f.SrcCall
		h.byRemote[remoteKey{peer, c.remote}] = c.local
	}
	c.ackUpTo(f.ISeq)
	if !isCounted(f) {
		if isIAX && sub == iax.IAXVNAK {
			for i := range c.pending {
				c.pending[i].next = now // resend from the wheel right away
			}
			h.schedule(c, now)
		}
		h.afterAck(now, c)
		return
	}
	if f.OSeq != c.iseq {
		if seqBefore(f.OSeq, c.iseq) {
			// A retransmission of a frame taken already: its ACK was lost.
			if acked(f) {
				h.sendUncounted(c, iax.IAXAck, f.Timestamp, out)
			}
		} else {
			// A gap: ask for what is missing.
			h.totals.outOfOrder++
			h.sendUncounted(c, iax.IAXVNAK, c.ts(now), out)
		}
		return
	}
	c.iseq++
	if acked(f) {
		h.sendUncounted(c, iax.IAXAck, f.Timestamp, out)
	}
	switch {
	case f.Type == iax.FrameVoice:
		h.voiceIn(now, c, f.Payload, out)
	case f.Type == iax.FrameControl && f.Subclass == uint8(iax.ControlAnswer):
		if h.cfg.Role == Caller && (c.phase == phaseCalling || c.phase == phaseAccepted) {
			c.phase, c.answered = phaseUp, now
			h.totals.answered++
			h.totals.setup.Add(now - c.start)
			h.totals.lastAnswer = max(h.totals.lastAnswer, now)
			c.hangupAt = now + int64(h.cfg.Hold)
			h.lastDue = max(h.lastDue, c.hangupAt)
			h.startVoice(now, c)
			h.schedule(c, now)
		}
	case isIAX && sub == iax.IAXAccept:
		if c.phase == phaseCalling {
			c.phase, c.accepted = phaseAccepted, now
			h.schedule(c, now+int64(answerTimeout))
		}
	case isIAX && sub == iax.IAXHangup:
		h.end(now, c, phaseEnded, "hung up by the peer")
	case isIAX && sub == iax.IAXReject:
		h.fail(now, c, "rejected by the peer")
	case isIAX && sub == iax.IAXPing:
		fr := c.frame(now, iax.FrameIAX, uint8(iax.IAXPong), nil)
		fr.Timestamp = f.Timestamp
		h.sendReliable(now, c, &fr, "PONG", out)
	case isIAX && sub == iax.IAXLagRq:
		fr := c.frame(now, iax.FrameIAX, uint8(iax.IAXLagRp), nil)
		fr.Timestamp = f.Timestamp
		h.sendReliable(now, c, &fr, "LAGRP", out)
	}
	h.afterAck(now, c)
}

// acked says whether a counted frame gets an ACK: all but those answered
// by a frame of their own (NEW by ACCEPT, PING by PONG, LAGRQ by LAGRP).
func acked(f *iax.FullFrame) bool {
	sub, ok := f.IAXSubclass()
	return !ok || (sub != iax.IAXNew && sub != iax.IAXPing && sub != iax.IAXLagRq)
}

// afterAck ends a Caller's call whose HANGUP was acknowledged.
func (h *Host) afterAck(now int64, c *call) {
	if c.phase == phaseHangup && len(c.pending) == 0 {
		h.end(now, c, phaseEnded, "")
	}
}

// handleNew answers a NEW (Callee): ACCEPT, ANSWER, then voice.
func (h *Host) handleNew(now int64, peer netip.AddrPort, f *iax.FullFrame, out *Outbox) {
	if h.cfg.Role != Callee {
		h.totals.unknownCall++
		return
	}
	if _, dup := h.byRemote[remoteKey{peer, f.SrcCall}]; dup {
		return // a retransmission: our ACCEPT is on its way or will be resent
	}
	local := h.allocLocal()
	if local == 0 {
		h.totals.noCallNumber++
		return
	}
	index, ok := calledIndex(f.Payload)
	if !ok {
		index = uint32(local)
	}
	c := &call{index: index, local: local, remote: f.SrcCall, peer: peer, phase: phaseUp, start: now, answered: now,
		tsBase: now - h.tsOffset, iseq: f.OSeq + 1}
	h.calls[local] = c
	h.byRemote[remoteKey{peer, f.SrcCall}] = local
	h.active++
	h.totals.attempted++
	h.totals.answered++
	acc := c.frame(now, iax.FrameIAX, uint8(iax.IAXAccept), acceptIEs)
	h.sendReliable(now, c, &acc, "ACCEPT", out)
	ans := c.frame(now, iax.FrameControl, uint8(iax.ControlAnswer), nil)
	h.sendReliable(now, c, &ans, "ANSWER", out)
	h.startVoice(now, c)
	h.schedule(c, now)
}

// voiceIn takes a voice payload that arrived for c (nil: no such call).
func (h *Host) voiceIn(now int64, c *call, pl []byte, out *Outbox) {
	if c == nil {
		h.totals.unknownCall++
		return
	}
	p, err := ParsePayload(pl)
	switch {
	case errors.Is(err, ErrNotLoad):
		h.totals.foreign++
		return
	case err != nil:
		c.corrupt++
		return
	case p.Index != c.index:
		c.misrouted++
		return
	}
	if p.Echo != 0 && h.cfg.Role == Caller {
		if c.rx.Observe(p.Seq, p.Echo, now) {
			h.totals.echoForward.Add(p.Echo - p.Sent)
		}
	} else {
		c.rx.Observe(p.Seq, p.Sent, now)
	}
	if h.cfg.Role == Callee && h.cfg.Echo && c.live() {
		b := h.scratch[:len(pl)]
		copy(b, pl)
		stampEcho(b, now)
		h.voiceOut(now, c, c.ts(now), b, out)
		c.txVoice++
		h.totals.txVoice++
	}
}
