package engine

import (
	"errors"
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Outbound handles a datagram the local application sent to peer (the
// address and port the application sent it to). out is scratch space for
// the result and must not overlap frame; with a capacity of at least
// len(frame)+MarkerOverhead the engine does not allocate.
func (e *Engine) Outbound(now time.Time, peer netip.AddrPort, frame, out []byte) Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.Policy == PolicyOff {
		e.stats.ClearPackets++
		return forward(frame)
	}
	kind, err := iax.Classify(frame)
	if err != nil {
		return e.malformed(now, iax.FromApp, peer, frame)
	}
	switch kind {
	case iax.KindFull:
		return e.outboundFull(now, peer, frame, out)
	case iax.KindMini, iax.KindVideo:
		src, _ := iax.PeekSrcCall(frame)
		c := e.calls.Lookup(iax.FromApp, peer, src)
		if c == nil {
			// Possibly a call that was encrypted before the daemon
			// restarted: never send it in clear.
			return e.drop(now, peer, nil, DropUnknownCall)
		}
		e.calls.Touch(c, now)
		return e.sealOrPass(now, c, frame, out)
	case iax.KindTrunk:
		return e.outboundTrunk(now, peer, frame, out)
	default:
		// Other meta commands belong to no call.
		e.stats.ClearPackets++
		return forward(frame)
	}
}

func (e *Engine) outboundFull(now time.Time, peer netip.AddrPort, frame, out []byte) Result {
	f, err := iax.ParseFull(frame)
	if err != nil {
		return e.malformed(now, iax.FromApp, peer, frame)
	}
	sub, isIAX := f.IAXSubclass()
	c, created := e.calls.Observe(now, iax.FromApp, peer, &f)
	if c == nil && isIAX && sub == iax.IAXAccept {
		c = e.adopt(now, iax.FromApp, peer, &f)
	}
	if c == nil {
		// The source names a call with keys but the destination is not its
		// peer's number: a frame of that call all the same, never in clear.
		if k := e.calls.Lookup(iax.FromApp, peer, f.SrcCall); k != nil && k.Data.encrypted() {
			return e.drop(now, peer, k, DropUnknownCall)
		}
		if passesUntracked(&f) {
			e.stats.ClearPackets++
			return forward(frame)
		}
		return e.drop(now, peer, nil, DropUnknownCall)
	}
	if c.Opaque {
		return e.opaque(now, c, &f, iax.FromApp, frame, out)
	}
	switch {
	case isIAX && sub == iax.IAXNew:
		return e.outboundNew(now, c, &f, frame, out, created)
	case isIAX && sub == iax.IAXAccept && !c.Outgoing:
		return e.outboundAccept(now, c, &f, frame, out)
	}
	r := e.sealOrPass(now, c, frame, out)
	e.noteEnd(now, c)
	return r
}

// outboundNew adds the offer marker to the application's NEW. A
// retransmitted NEW, or one re-sent with a CALLTOKEN, gets the very same
// marker: the handshake runs once per call.
func (e *Engine) outboundNew(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, frame, out []byte, created bool) Result {
	s := c.Data
	if s.session != nil {
		// A NEW after the switch (a very late retransmission): it is a
		// frame of the encrypted call like any other.
		return e.sealOrPass(now, c, frame, out)
	}
	if created {
		e.initCall(c, f)
	}
	if created && s.policy == PolicyOff {
		e.setStatus(now, c, StatusCleartext, "policy off for this peer", nil)
	}
	if created && s.policy != PolicyOff {
		newIEs, err := crypt.ContextIEs(nil, f.Payload)
		var init *crypt.Initiator
		var offer []byte
		if err == nil {
			init, offer, err = crypt.NewInitiator(e.cfg.Identity, f.SrcCall, newIEs, e.cfg.Ciphers, e.cfg.Rand)
		}
		if err != nil {
			e.setStatus(now, c, StatusCleartext, "could not start the handshake", err)
		} else {
			s.initiator, s.offer, s.offerMade = init, offer, true
			e.setStatus(now, c, StatusNegotiating, "offer sent", nil)
		}
	}
	s.tx++
	if s.offer == nil {
		e.stats.ClearPackets++
		return forward(frame)
	}
	b, err := appendWithMarker(out[:0], f, s.offer)
	if err != nil {
		// The application's own IEs do not parse; leave its frame alone.
		e.stats.ClearPackets++
		return forward(frame)
	}
	return forward(b)
}

// outboundAccept answers the caller's offer when the local application
// accepts an incoming call. This is the first Diffie-Hellman work the
// callee does for the call.
func (e *Engine) outboundAccept(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, frame, out []byte) Result {
	s := c.Data
	s.tx++
	if s.answer != nil {
		// A retransmitted ACCEPT: the same answer, in clear like the first.
		if b, err := appendWithMarker(out[:0], f, s.answer); err == nil {
			return forward(b)
		}
		return forward(frame)
	}
	if s.offer == nil {
		why := offerProblem(s.badOffer)
		if c.Data.policy == PolicyRequire {
			return e.refuseAccept(now, c, f, iax.FromApp, out, "encryption required: "+why)
		}
		if s.status != StatusCleartext || s.reason != why {
			e.setStatus(now, c, StatusCleartext, why, nil)
		}
		e.stats.ClearPackets++
		return forward(frame)
	}
	acceptIEs, err := crypt.ContextIEs(nil, f.Payload)
	var sess *crypt.Session
	var answer []byte
	if err == nil {
		sess, answer, err = crypt.Respond(e.cfg.Identity, s.offer, c.RemoteCall, f.SrcCall, s.newIEs, acceptIEs, e.cfg.Ciphers, e.cfg.Rand)
	}
	s.offer, s.newIEs = nil, nil
	if err != nil {
		if c.Data.policy == PolicyRequire {
			return e.refuseAccept(now, c, f, iax.FromApp, out, "encryption required: handshake failed")
		}
		e.setStatus(now, c, StatusCleartext, "handshake with the caller failed", err)
		e.stats.ClearPackets++
		return forward(frame)
	}
	b, err := appendWithMarker(out[:0], f, answer)
	if err != nil {
		e.setStatus(now, c, StatusCleartext, "the application's ACCEPT does not parse", err)
		e.stats.ClearPackets++
		return forward(frame)
	}
	e.setSession(c, sess)
	s.codec = codecOf(f)
	s.answer = answer
	s.switchedAt, s.acceptSeq, s.acceptTS = now, f.OSeq, f.Timestamp
	// Encrypted once the caller proves it holds the keys: its first
	// encrypted frame.
	e.setStatus(now, c, StatusNegotiating, "answered; waiting for the caller's first encrypted frame", nil)
	return forward(b)
}

// sealOrPass encrypts the frame if its call is encrypted.
func (e *Engine) sealOrPass(now time.Time, c *iax.Call[*callState], frame, out []byte) Result {
	s := c.Data
	if s.session == nil {
		s.tx++
		e.stats.ClearPackets++
		return forward(frame)
	}
	b, err := s.session.Seal(out[:0], frame, c.LocalCall, c.RemoteCall)
	if err != nil {
		return e.drop(now, c.Peer, c, DropSealFailed)
	}
	s.tx++
	e.stats.SealedPackets++
	return forward(b)
}

// outboundTrunk encrypts a trunk frame: the entries of encrypted calls
// leave together in one encrypted trunk frame, each sealed with its own
// call's keys (docs/protocol.md); the entries of calls in clear stay in a
// cleartext trunk frame of their own. An entry of a caller's call still
// sending its confirmation leaves as an encrypted mini frame.
func (e *Engine) outboundTrunk(now time.Time, peer netip.AddrPort, frame, out []byte) Result {
	t, err := iax.ParseTrunk(frame)
	if err != nil {
		// Its entries cannot be told apart; some may be encrypted calls'.
		return e.drop(now, peer, nil, DropMalformed)
	}
	keyed := func(s *callState) bool { return s.encrypted() }
	if e.keyedCalls[peer] == 0 && !e.trunkHasEncrypted(iax.FromApp, peer, &t, keyed) {
		e.stats.ClearPackets++
		return forward(frame)
	}
	b := &e.trunk
	b.Start(out[:0], t.CmdData, t.Timestamp)
	var rest []byte
	err = t.Range(func(en iax.TrunkEntry) bool {
		c := e.calls.Lookup(iax.FromApp, peer, en.SrcCall)
		switch {
		case c == nil:
			// Encrypted calls with this peer exist: an entry of a call
			// we cannot name may be one of theirs.
			e.drop(now, peer, nil, DropUnknownTrunkEntry)
			return true
		case !c.Data.encrypted():
			rest = iax.AppendTrunkEntry(rest, t.HasTimestamps(), en)
			c.Data.tx++
			return true
		}
		e.calls.Touch(c, now)
		err := b.Add(c.Data.session, c.RemoteCall, en)
		if errors.Is(err, crypt.ErrConfirming) {
			err = e.sealEntryAsMini(c, &t, en)
		}
		if err != nil {
			e.drop(now, peer, c, DropSealFailed)
			return true
		}
		c.Data.tx++
		e.stats.SealedPackets++
		return true
	})
	if err != nil {
		return e.drop(now, peer, nil, DropMalformed)
	}
	var clear []byte
	if len(rest) > 0 {
		t.Entries = rest
		clear = t.AppendTo(nil)
		e.stats.ClearPackets++
	}
	switch {
	case b.Entries() > 0 && clear != nil:
		e.inject(ToNetwork, peer, clear)
		return forward(b.Packet())
	case b.Entries() > 0:
		return forward(b.Packet())
	case clear != nil:
		return forward(clear)
	}
	return absorbed()
}

// sealEntryAsMini seals a trunk entry as an encrypted mini frame of its
// own, injected toward the peer.
func (e *Engine) sealEntryAsMini(c *iax.Call[*callState], t *iax.TrunkFrame, en iax.TrunkEntry) error {
	ts := en.Timestamp
	if !en.HasTimestamp {
		ts = uint16(t.Timestamp)
	}
	mini := iax.MiniFrame{SrcCall: en.SrcCall, Timestamp: ts, Payload: en.Data}
	sealed, err := c.Data.session.Seal(nil, mini.AppendTo(nil), c.LocalCall, c.RemoteCall)
	if err != nil {
		return err
	}
	e.inject(ToNetwork, c.Peer, sealed)
	return nil
}

func (e *Engine) trunkHasEncrypted(dir iax.Direction, peer netip.AddrPort, t *iax.TrunkFrame, pred func(*callState) bool) bool {
	found := false
	_ = t.Range(func(en iax.TrunkEntry) bool {
		if c := e.calls.Lookup(dir, peer, en.SrcCall); c != nil && pred(c.Data) {
			found = true
			return false
		}
		return true
	})
	return found
}

// passesUntracked says whether a full frame of a call the engine does not
// track may go in clear: signalling that belongs to no call (registrations,
// POKE and its PONG, firmware and provisioning, CALLTOKEN), the
// acknowledgements that go with it, and call set-up (whose half-open entry
// may have been evicted). Everything else of an unknown call, keep-alives
// and HANGUP included, may belong to a call that was encrypted before a
// daemon restart; the peer's daemon would refuse it in clear anyway.
func passesUntracked(f *iax.FullFrame) bool {
	sub, ok := f.IAXSubclass()
	if !ok {
		return false
	}
	switch sub {
	case iax.IAXAck, iax.IAXPong, iax.IAXPoke, iax.IAXInval, iax.IAXVNAK,
		iax.IAXRegReq, iax.IAXRegAuth, iax.IAXRegAck, iax.IAXRegRej, iax.IAXRegRel,
		iax.IAXCallToken, iax.IAXUnsupport, iax.IAXReject, iax.IAXAuthReq, iax.IAXAuthRep,
		iax.IAXFwDownl, iax.IAXFwData, iax.IAXProvision, iax.IAXMWI:
		return true
	}
	return false
}

// adopt starts tracking a call seen first at its ACCEPT; it goes on in
// clear since no offer was seen.
func (e *Engine) adopt(now time.Time, dir iax.Direction, peer netip.AddrPort, f *iax.FullFrame) *iax.Call[*callState] {
	c := e.calls.Adopt(now, dir, peer, f)
	if c == nil {
		return nil
	}
	e.initCall(c, nil)
	if dir == iax.FromApp && e.lostOffers.has(peer, f.DstCall) {
		c.Data.warning = WarnOfferLost
		e.setStatus(now, c, StatusCleartext, "the caller's offer was pushed out of a full call table before the call was answered", nil)
		return c
	}
	e.setStatus(now, c, StatusCleartext, "call first seen at its ACCEPT (daemon started mid-setup or table full)", nil)
	return c
}

// malformed handles a frame that does not parse: dropped if it claims an
// encrypted call, passed untouched otherwise (it is the application's or
// the peer's business).
func (e *Engine) malformed(now time.Time, dir iax.Direction, peer netip.AddrPort, frame []byte) Result {
	if src, ok := iax.PeekSrcCall(frame); ok {
		if c := e.calls.Lookup(dir, peer, src); c != nil && (c.Data.encrypted() || c.Data.peerSwitched) {
			return e.drop(now, peer, c, DropMalformed)
		}
	}
	e.stats.ClearPackets++
	return forward(frame)
}

// noteEnd emits the ended event once, when HANGUP or REJECT went by.
func (e *Engine) noteEnd(now time.Time, c *iax.Call[*callState]) {
	if c.State == iax.CallEnded && !c.Data.endNoted {
		c.Data.endNoted = true
		e.emit(Event{Kind: EventEnded, Time: now, Peer: c.Peer, LocalCall: c.LocalCall,
			RemoteCall: c.RemoteCall, Outgoing: c.Outgoing, Reason: "hangup"})
	}
}

// opaque handles a full frame of a call that the applications encrypt
// themselves (Asterisk's encryption=aes128): from their AUTHREQ on, chan_iax2
// encrypts every frame past the call numbers, so the ACCEPT cannot carry an
// answer and iaxcrypt cannot add its own layer. The call goes on in clear
// as far as iaxcrypt is concerned (encrypted by Asterisk with a key derived
// from the peers' shared secret: no forward secrecy, no SAS); under require
// it is refused at that AUTHREQ.
func (e *Engine) opaque(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, from iax.Direction, frame, out []byte) Result {
	s := c.Data
	switch s.status {
	case StatusFailed:
		return e.drop(now, c.Peer, c, DropPolicy)
	case StatusCleartext:
	default:
		const why = "the applications encrypt this call themselves (Asterisk encryption=aes128): iaxcrypt cannot add its own"
		if c.Data.policy == PolicyRequire {
			return e.refuseAccept(now, c, f, from, out, "encryption required: "+why)
		}
		e.dropKeys(c)
		e.setStatus(now, c, StatusCleartext, why, nil)
	}
	if from == iax.FromApp {
		s.tx++
	} else {
		s.rx++
	}
	e.stats.ClearPackets++
	return forward(frame)
}

// offerProblem says why a callee has no offer to answer: none came, or the
// one that came (err) was not usable.
func offerProblem(err error) string {
	switch {
	case err == nil:
		return "the caller offered no encryption (no iaxcrypt there?)"
	case errors.Is(err, crypt.ErrOldVersion):
		return "the caller runs iaxcrypt protocol 1, this daemon speaks 2: upgrade the caller's iaxcrypt"
	}
	return "the caller's offer does not parse: " + err.Error()
}
