package engine

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// switchGrace bounds how long after the switch a cleartext frame from the
// peer can still be one it sent before it switched (a retransmission or a
// frame overtaken on the way). Later cleartext is never taken.
const switchGrace = 5 * time.Second

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
	if crypt.IsEncryptedTrunk(pkt) {
		return e.inboundEncryptedTrunk(now, peer, pkt, out)
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
			// Media never crosses in clear once a side has keys: the
			// peer's daemon seals all of it after the switch.
			if c.Data.encrypted() || c.Data.peerSwitched {
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
	if c == nil || c.LocalCall != h.ReceiverCall {
		// Before the ACCEPT arrives the caller does not know the callee's
		// call number yet; find the call by its own to count it right.
		if c = e.calls.LookupByDst(iax.FromPeer, peer, h.ReceiverCall); c == nil || c.Data.session != nil {
			return e.drop(now, peer, nil, DropUnknownEncrypted)
		}
	}
	s := c.Data
	if s.session == nil {
		if s.initiator == nil && s.offerMade && s.status == StatusCleartext {
			// We offered, the peer's ACCEPT came without an answer, and
			// now the peer seals: it did answer, and the answer was
			// removed on the way.
			e.downgradeSeen(now, c, iax.FromPeer, "the peer encrypts but its answer never arrived: it was removed on the way")
		}
		return e.drop(now, peer, c, DropNoKeys)
	}
	if h.ReceiverCall != c.LocalCall {
		return e.drop(now, peer, c, DropCallNumber)
	}
	plain, _, err := s.session.Open(out[:0], pkt)
	if err != nil {
		return e.openFailed(now, c, err)
	}
	if r, refused := e.peerProved(now, c); refused {
		return r
	}
	// The frame inside must be one of this call's, from the peer: it may
	// not name or start another call.
	if !e.innerBelongs(c, plain) {
		return e.drop(now, peer, c, DropInnerMismatch)
	}
	s.playSAS(plain)
	s.rx++
	e.stats.OpenedPackets++
	if plain[0]&0x80 != 0 { // a full frame: follow the call's signalling
		if f, err := iax.ParseFull(plain); err == nil {
			e.calls.ObserveCall(now, c, iax.FromPeer, &f)
			e.noteEnd(now, c)
			return forward(plain)
		}
	}
	e.calls.Touch(c, now)
	return forward(plain)
}

// openFailed counts a frame of c that did not open. A caller's
// confirmation that does not check fails the call: someone in the middle
// answered the caller, or the peer is broken.
func (e *Engine) openFailed(now time.Time, c *iax.Call[*callState], err error) Result {
	switch {
	case errors.Is(err, crypt.ErrReplayed):
		return e.drop(now, c.Peer, c, DropReplay)
	case errors.Is(err, crypt.ErrConfirmation):
		if c.Data.status != StatusFailed {
			e.refuseCall(now, c, "the caller's confirmation does not check: someone in the middle, or a broken peer")
		}
	}
	return e.drop(now, c.Peer, c, DropAuthentication)
}

// peerProved runs after a frame of the peer opened: the peer has switched.
// On the callee's side the call becomes encrypted once the caller's
// confirmation checked (its identity and the SAS are then known), unless
// the policy refuses that identity.
func (e *Engine) peerProved(now time.Time, c *iax.Call[*callState]) (Result, bool) {
	s := c.Data
	s.peerSwitched = true
	if c.Outgoing || s.status != StatusNegotiating || !s.session.Confirmed() {
		return Result{}, false
	}
	if refuse, why := e.checkIdentity(now, c, s.session.PeerIdentity); refuse {
		e.refuseCall(now, c, "encryption required: "+why)
		return e.drop(now, c.Peer, c, DropPolicy), true
	}
	e.setStatus(now, c, StatusEncrypted, "", nil)
	return Result{}, false
}

// innerBelongs checks a frame that came out of c's envelope: a full, mini
// or video frame whose source is the peer's call number and, for a full
// frame, whose destination is ours; never a NEW (a call cannot start inside
// another) and never a meta frame.
func (e *Engine) innerBelongs(c *iax.Call[*callState], plain []byte) bool {
	kind, err := iax.Classify(plain)
	if err != nil {
		return false
	}
	switch kind {
	case iax.KindFull:
		f, err := iax.ParseFull(plain)
		if err != nil || f.SrcCall != c.RemoteCall || (f.DstCall != c.LocalCall && f.DstCall != 0) {
			return false
		}
		sub, isIAX := f.IAXSubclass()
		return !(isIAX && sub == iax.IAXNew)
	case iax.KindMini, iax.KindVideo:
		src, ok := iax.PeekSrcCall(plain)
		return ok && src == c.RemoteCall
	default:
		return false
	}
}

func (e *Engine) inboundFull(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	f, err := iax.ParseFull(pkt)
	if err != nil {
		return e.malformed(now, iax.FromPeer, peer, pkt)
	}
	sub, isIAX := f.IAXSubclass()
	isNew, isAccept := isIAX && sub == iax.IAXNew, isIAX && sub == iax.IAXAccept
	// A cleartext frame for a call that has keys is checked before it can
	// change anything: a NEW that reuses the numbers of an ended call is a
	// new call, everything else must prove it left before the peer
	// switched.
	if c := e.calls.LookupFull(iax.FromPeer, peer, &f); c != nil && (c.Data.encrypted() || c.Data.peerSwitched) &&
		!(isNew && c.State == iax.CallEnded) {
		if r, done := e.clearAfterSwitch(now, c, &f, isAccept, out); done {
			return r
		}
	} else if c == nil && !isNew && !passesUntracked(&f) {
		// The source names a call with keys but the destination is not
		// its: a cleartext frame claiming that call all the same.
		if k := e.calls.Lookup(iax.FromPeer, peer, f.SrcCall); k != nil && (k.Data.encrypted() || k.Data.peerSwitched) {
			return e.drop(now, peer, k, DropCleartextAfterSwitch)
		}
	}
	c, created := e.calls.Observe(now, iax.FromPeer, peer, &f)
	if c == nil && isAccept {
		c = e.adopt(now, iax.FromPeer, peer, &f)
	}
	if c == nil {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	if c.Opaque {
		return e.opaque(now, c, &f, iax.FromPeer, pkt, out)
	}
	switch {
	case isNew:
		return e.inboundNew(now, c, &f, pkt, out, created)
	case isAccept && c.Outgoing:
		return e.inboundAccept(now, c, &f, pkt, out)
	}
	c.Data.rx++
	e.stats.ClearPackets++
	e.noteEnd(now, c)
	return forward(pkt)
}

// clearAfterSwitch decides on a cleartext full frame from the peer for a
// call that has keys. It returns done=false to let the frame through the
// normal path: it provably left the peer before the peer switched, or it
// proves that the peer never switched (the answer was stripped), which
// turns the call visible.
func (e *Engine) clearAfterSwitch(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, isAccept bool, out []byte) (Result, bool) {
	s := c.Data
	if isAccept && c.Outgoing {
		// Only the exact retransmission of the ACCEPT that carried the
		// answer, which stays in clear.
		return e.acceptRetransmission(now, c, f, out), true
	}
	inGrace := now.Sub(s.switchedAt) < switchGrace
	// Before the switch only IAX signalling goes by (CALLTOKEN, AUTHREQ,
	// AUTHREP, ACK, a cancelling HANGUP...): voice, text, DTMF and control
	// frames in clear are never taken.
	if inGrace && !isAccept && f.Type == iax.FrameIAX && e.sentBeforePeerSwitched(c, f) {
		return Result{}, false
	}
	if inGrace && !s.peerSwitched && !c.Outgoing && !isAccept {
		// We answered; the caller acknowledges our ACCEPT in clear: it
		// got the ACCEPT without the answer.
		if r, refused := e.downgradeSeen(now, c, iax.FromPeer, "the caller goes on in clear after our answer: the answer was removed on the way"); refused {
			return r, true
		}
		return Result{}, false
	}
	return e.drop(now, c.Peer, c, DropCleartextAfterSwitch), true
}

// sentBeforePeerSwitched reports whether a cleartext full frame from the
// peer provably left before the peer switched. The callee switched when it
// sent its ACCEPT: its earlier frames carry a lower OSeq. The caller
// switched when it got our ACCEPT: its earlier frames do not acknowledge it
// (their ISeq is at most the ACCEPT's OSeq).
func (e *Engine) sentBeforePeerSwitched(c *iax.Call[*callState], f *iax.FullFrame) bool {
	s := c.Data
	if c.Outgoing {
		return seqBefore(f.OSeq, s.acceptSeq)
	}
	return !seqBefore(s.acceptSeq, f.ISeq)
}

// seqBefore compares 8-bit IAX2 sequence numbers with wrap-around.
func seqBefore(a, b uint8) bool { return int8(a-b) < 0 }

// acceptRetransmission passes a cleartext ACCEPT for a call whose keys it
// set only if it is that ACCEPT again (same numbers, OSeq, timestamp, IEs
// and answer; the ISeq may have moved on), without its marker.
func (e *Engine) acceptRetransmission(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, out []byte) Result {
	s := c.Data
	marker, found, err := iax.FindIE(f.Payload, crypt.MarkerIE)
	same := found && err == nil && s.answer != nil && bytes.Equal(marker, s.answer) &&
		f.SrcCall == c.RemoteCall && f.DstCall == c.LocalCall && f.OSeq == s.acceptSeq && f.Timestamp == s.acceptTS
	if same {
		if b, err := appendWithoutMarker(out[:0], f); err == nil && bytes.Equal(b[iax.FullHeaderLen:], s.acceptIEs) {
			s.rx++
			return forward(b)
		}
	}
	return e.drop(now, c.Peer, c, DropAcceptMismatch)
}

// downgradeSeen handles proof that one side negotiated encryption and the
// other went on in clear. Under require the call is refused on both sides;
// otherwise it goes on in clear, flagged. It reports whether it refused
// (and then the Result to return).
func (e *Engine) downgradeSeen(now time.Time, c *iax.Call[*callState], from iax.Direction, reason string) (Result, bool) {
	s := c.Data
	s.warning = WarnDowngradeSuspected
	if c.Data.policy == PolicyRequire {
		e.refuseCall(now, c, "encryption required: "+reason)
		return e.drop(now, c.Peer, c, DropPolicy), true
	}
	e.dropKeys(c)
	s.peerSwitched = false
	e.setStatus(now, c, StatusCleartext, reason, nil)
	return Result{}, false
}

// inboundNew keeps the caller's offer (syntax checked only: no
// Diffie-Hellman work until the application accepts) and hands the NEW to
// the application without it. The first offer that parses is kept: a NEW
// without a marker, or with one that does not parse, does not decide the
// call (it may be spoofed); the application's ACCEPT does.
func (e *Engine) inboundNew(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, pkt, out []byte, created bool) Result {
	s := c.Data
	s.rx++
	e.stats.ClearPackets++
	if created {
		e.initCall(c, f)
	}
	if s.policy == PolicyOff {
		if created {
			e.setStatus(now, c, StatusCleartext, "policy off for this peer", nil)
		}
		return forward(pkt)
	}
	marker, found, err := iax.FindIE(f.Payload, crypt.MarkerIE)
	if err != nil || !found {
		if created {
			e.setStatus(now, c, StatusCleartext, offerProblem(nil), err)
		}
		return forward(pkt)
	}
	stripped, err := appendWithoutMarker(out[:0], f)
	if err != nil {
		return forward(pkt)
	}
	if s.offer == nil && s.answer == nil && s.session == nil && c.State < iax.CallAccepted {
		if _, err := crypt.ParseOffer(marker); err != nil {
			s.badOffer = err
			if created {
				e.setStatus(now, c, StatusCleartext, offerProblem(err), err)
			}
		} else {
			newIEs, err := crypt.ContextIEs(nil, f.Payload)
			if err != nil {
				s.badOffer = err
				return forward(stripped)
			}
			s.offer, s.newIEs = bytes.Clone(marker), newIEs
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
	init := s.initiator
	s.initiator = nil
	if init == nil {
		// We made no offer (or already gave up on this call).
		if c.Data.policy == PolicyRequire && s.status != StatusFailed {
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
		if c.Data.policy == PolicyRequire {
			return e.refuseAccept(now, c, f, iax.FromPeer, out, "encryption required: the peer did not answer (no iaxcrypt there?)")
		}
		e.setStatus(now, c, StatusCleartext, "the peer did not answer the offer (no iaxcrypt there?)", ieErr)
		s.rx++
		e.stats.ClearPackets++
		return forward(pkt)
	}
	acceptIEs, err := crypt.ContextIEs(nil, f.Payload)
	var sess *crypt.Session
	if err == nil {
		sess, err = init.Finish(marker, f.SrcCall, acceptIEs)
	}
	init.Wipe()
	if err != nil {
		// The callee has switched to encryption; the call cannot go on in
		// clear. Fail it visibly on both sides.
		return e.refuseAccept(now, c, f, iax.FromPeer, out, "handshake failed: "+err.Error())
	}
	if refuse, why := e.checkIdentity(now, c, sess.PeerIdentity); refuse {
		return e.refuseAccept(now, c, f, iax.FromPeer, out, "encryption required: "+why)
	}
	b, err := appendWithoutMarker(out[:0], f)
	if err != nil {
		return e.refuseAccept(now, c, f, iax.FromPeer, out, "the peer's ACCEPT does not parse")
	}
	e.setSession(c, sess)
	s.codec = codecOf(f)
	s.answer = bytes.Clone(marker)
	s.acceptIEs = bytes.Clone(b[iax.FullHeaderLen:])
	s.switchedAt, s.acceptSeq, s.acceptTS = now, f.OSeq, f.Timestamp
	s.rx++
	e.setStatus(now, c, StatusEncrypted, "", nil)
	return forward(b)
}

// inboundEncryptedTrunk opens an encrypted trunk frame: each entry with its
// own call's keys. The application gets the trunk frame its peer's
// application sent, byte for byte, less the entries that did not open
// (counted on their calls).
func (e *Engine) inboundEncryptedTrunk(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	r, err := crypt.ReadTrunk(pkt)
	if err != nil {
		return e.drop(now, peer, nil, DropMalformed)
	}
	dst := r.AppendHeader(out[:0])
	opened := 0
	for r.Next() {
		en := r.Entry()
		c := e.calls.Lookup(iax.FromPeer, peer, en.SenderCall)
		if c == nil || c.Data.session == nil {
			e.drop(now, peer, c, DropUnknownEncrypted)
			continue
		}
		n := len(dst)
		var err error
		if dst, _, err = c.Data.session.OpenTrunkEntry(dst, en, c.LocalCall); err != nil {
			e.openFailed(now, c, err)
			continue
		}
		if _, refused := e.peerProved(now, c); refused {
			dst = dst[:n]
			continue
		}
		e.calls.Touch(c, now)
		c.Data.rx++
		opened++
	}
	if r.Err() != nil {
		e.drop(now, peer, nil, DropMalformed)
	}
	if opened == 0 {
		return Result{Verdict: Drop, Reason: DropAuthentication}
	}
	e.stats.OpenedPackets++
	return forward(dst)
}

// inboundTrunk removes the entries of calls that have keys: the peer's
// daemon never sends them in clear, so they would be cleartext injected
// into an encrypted call.
func (e *Engine) inboundTrunk(now time.Time, peer netip.AddrPort, pkt, out []byte) Result {
	t, err := iax.ParseTrunk(pkt)
	if err != nil {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	keyed := func(s *callState) bool { return s.encrypted() || s.peerSwitched }
	if !e.trunkHasEncrypted(iax.FromPeer, peer, &t, keyed) {
		e.stats.ClearPackets++
		return forward(pkt)
	}
	rest := out[:0]
	hdr := iax.TrunkFrame{CmdData: t.CmdData, Timestamp: t.Timestamp}
	rest = hdr.AppendTo(rest)
	kept := 0
	_ = t.Range(func(en iax.TrunkEntry) bool {
		if c := e.calls.Lookup(iax.FromPeer, peer, en.SrcCall); c != nil && keyed(c.Data) {
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
