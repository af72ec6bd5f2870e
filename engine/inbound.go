package engine

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Inbound handles a datagram that arrived from peer on the daemon's socket.
// out is scratch space for the result and must not overlap pkt; with a
// capacity of at least len(pkt) the engine does not allocate.
func (e *Engine) Inbound(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.Policy == PolicyOff {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	if crypt.IsEncryptedFrame(pkt) {
		return e.inboundEncrypted(now, peer, pkt, out)
	}
	kind, err := iax.Classify(pkt)
	if err != nil {
		return e.malformed(now, iax.FromPeer, peer, pkt)
	}
	switch kind {
	case iax.KindFull:
		return e.inboundFull(now, peer, pkt, out)
	case iax.KindMini, iax.KindVideo:
		src, _ := iax.PeekSrcCall(pkt)
		c := e.calls.Lookup(iax.FromPeer, peer, src)
		if c != nil {
			if c.Data.peerSwitched {
				return e.drop(now, peer, c, DropCleartextAfterSwitch)
			}
			e.calls.Touch(c, now)
			c.Data.rx++
		}
		e.stats.ClearPackets++
		return forward(pkt)
	case iax.KindTrunk:
		return e.inboundTrunk(now, peer, pkt, out)
	default:
		e.stats.ClearPackets++
		return forward(pkt)
	}
}

func (e *Engine) inboundEncrypted(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	h, err := crypt.ParseHeader(pkt)
	if err != nil {
		return e.drop(now, peer, nil, DropMalformed)
	}
	c := e.calls.Lookup(iax.FromPeer, peer, h.SenderCall)
	if c == nil {
		// Before the ACCEPT arrives the caller does not know the callee's
		// call number yet; find the call by its own to count it right.
		if c = e.calls.LookupByDst(iax.FromPeer, peer, h.ReceiverCall); c == nil || c.Data.session != nil {
			return e.drop(now, peer, nil, DropUnknownEncrypted)
		}
	}
	s := c.Data
	if s.session == nil {
		return e.drop(now, peer, c, DropNoKeys)
	}
	if h.ReceiverCall != c.LocalCall {
		return e.drop(now, peer, c, DropCallNumber)
	}
	plain, _, err := s.session.Opener.Open(out[:0], pkt)
	if err != nil {
		if errors.Is(err, crypt.ErrReplayed) {
			return e.drop(now, peer, c, DropReplay)
		}
		return e.drop(now, peer, c, DropAuthentication)
	}
	s.peerSwitched = true
	s.rx++
	e.stats.OpenedPackets++
	// Follow the call's signalling (HANGUP, ANSWER) inside the envelope.
	if k, err := iax.Classify(plain); err == nil && k == iax.KindFull {
		if f, err := iax.ParseFull(plain); err == nil {
			e.calls.Observe(now, iax.FromPeer, peer, &f)
			e.noteEnd(now, c)
			return forward(plain)
		}
	}
	e.calls.Touch(c, now)
	return forward(plain)
}

func (e *Engine) inboundFull(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	f, err := iax.ParseFull(pkt)
	if err != nil {
		return e.malformed(now, iax.FromPeer, peer, pkt)
	}
	sub, isIAX := f.IAXSubclass()
	isAccept := isIAX && sub == iax.IAXAccept
	// Once the peer's frames arrive encrypted, a cleartext frame for the
	// call is an injection or a very late straggler: refuse it before it
	// can change the call's state. The one exception is a retransmitted
	// ACCEPT carrying the answer, which is always in clear.
	if c := e.lookupFull(peer, &f); c != nil && c.Data.peerSwitched && !isAccept {
		return e.drop(now, peer, c, DropCleartextAfterSwitch)
	}
	c, created := e.calls.Observe(now, iax.FromPeer, peer, &f)
	if c == nil && isAccept {
		c = e.adopt(now, iax.FromPeer, peer, &f)
	}
	if c == nil {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	if created {
		c.Data = &callState{}
	}
	switch {
	case isIAX && sub == iax.IAXNew:
		return e.inboundNew(now, c, &f, pkt, out, created)
	case isAccept && c.Outgoing:
		return e.inboundAccept(now, c, &f, pkt, out)
	}
	c.Data.rx++
	e.stats.ClearPackets++
	e.noteEnd(now, c)
	return forward(pkt)
}

func (e *Engine) lookupFull(peer netip.AddrPort, f *iax.FullFrame) *iax.Call[*callState] {
	if c := e.calls.Lookup(iax.FromPeer, peer, f.SrcCall); c != nil {
		return c
	}
	return e.calls.LookupByDst(iax.FromPeer, peer, f.DstCall)
}

// inboundNew keeps the caller's offer (syntax checked only: no
// Diffie-Hellman work until the application accepts) and hands the NEW to
// the application without it.
func (e *Engine) inboundNew(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, pkt, out []byte, created bool) Result {
	s := c.Data
	s.rx++
	e.stats.ClearPackets++
	marker, found, err := iax.FindIE(f.Payload, crypt.MarkerIE)
	if err != nil || !found {
		if created {
			e.setStatus(now, c, StatusCleartext, "the caller offered no encryption (no iaxcrypt there?)", err)
		}
		return forward(pkt)
	}
	stripped, err := appendWithoutMarker(out[:0], f)
	if err != nil {
		return forward(pkt)
	}
	if s.offer == nil && s.answer == nil && (created || s.status == StatusNegotiating) {
		if _, err := crypt.ParseOffer(marker); err != nil {
			e.setStatus(now, c, StatusCleartext, "the caller's offer does not parse", err)
		} else {
			s.offer = bytes.Clone(marker)
			e.setStatus(now, c, StatusNegotiating, "offer received", nil)
		}
	}
	return forward(stripped)
}

// inboundAccept finishes the handshake with the callee's answer, or lets
// the call go on in clear if the callee has no iaxcrypt.
func (e *Engine) inboundAccept(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, pkt, out []byte) Result {
	s := c.Data
	marker, found, ieErr := iax.FindIE(f.Payload, crypt.MarkerIE)
	if s.answer != nil {
		// Keys are set: only a faithful retransmission may pass.
		if found && ieErr == nil && bytes.Equal(marker, s.answer) {
			if b, err := appendWithoutMarker(out[:0], f); err == nil && bytes.Equal(b[iax.FullHeaderLen:], s.acceptIEs) {
				s.rx++
				return forward(b)
			}
		}
		return e.drop(now, c.Peer, c, DropAcceptMismatch)
	}
	init := s.initiator
	s.initiator = nil
	if init == nil {
		// We made no offer (or already gave up on this call).
		if e.cfg.Policy == PolicyRequire && s.status != StatusFailed {
			return e.refuseAccept(now, c, f, iax.FromPeer, out, "encryption required: no offer could be made for this call")
		}
		s.rx++
		e.stats.ClearPackets++
		if found && ieErr == nil {
			if b, err := appendWithoutMarker(out[:0], f); err == nil {
				return forward(b)
			}
		}
		return forward(pkt)
	}
	if ieErr != nil || !found {
		if e.cfg.Policy == PolicyRequire {
			return e.refuseAccept(now, c, f, iax.FromPeer, out, "encryption required: the peer did not answer (no iaxcrypt there?)")
		}
		e.setStatus(now, c, StatusCleartext, "the peer did not answer the offer (no iaxcrypt there?)", ieErr)
		s.rx++
		e.stats.ClearPackets++
		return forward(pkt)
	}
	sess, err := init.Finish(marker, f.SrcCall)
	if err != nil {
		// The callee has switched to encryption; the call cannot go on in
		// clear. Fail it visibly on both sides.
		return e.refuseAccept(now, c, f, iax.FromPeer, out, "handshake failed: "+err.Error())
	}
	b, err := appendWithoutMarker(out[:0], f)
	if err != nil {
		return e.refuseAccept(now, c, f, iax.FromPeer, out, "the peer's ACCEPT does not parse")
	}
	s.session, s.answer = sess, bytes.Clone(marker)
	s.acceptIEs = bytes.Clone(b[iax.FullHeaderLen:])
	s.rx++
	e.setStatus(now, c, StatusEncrypted, "", nil)
	return forward(b)
}

// inboundTrunk removes the entries of calls whose peer has switched to
// encryption: they would be cleartext injected into an encrypted call.
func (e *Engine) inboundTrunk(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	t, err := iax.ParseTrunk(pkt)
	if err != nil {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	switched := func(s *callState) bool { return s.peerSwitched }
	if !e.trunkHasEncrypted(iax.FromPeer, peer, &t, switched) {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	rest := out[:0]
	hdr := iax.TrunkFrame{CmdData: t.CmdData, Timestamp: t.Timestamp}
	rest = hdr.AppendTo(rest)
	kept := 0
	_ = t.Range(func(en iax.TrunkEntry) bool {
		if c := e.calls.Lookup(iax.FromPeer, peer, en.SrcCall); c != nil && c.Data.peerSwitched {
			e.drop(now, peer, c, DropCleartextAfterSwitch)
			return true
		}
		rest = iax.AppendTrunkEntry(rest, t.HasTimestamps(), en)
		kept++
		return true
	})
	if kept == 0 {
		return Result{Verdict: Drop, Reason: DropCleartextAfterSwitch}
	}
	e.stats.ClearPackets++
	return forward(rest)
}
