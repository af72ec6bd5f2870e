package audit

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// track is the auditor's state of one call, beside the call's report.
//
// When a side has switched, and what is a leak, follows docs/protocol.md
// ("The switch"), so that the audit calls a leak exactly what the receiving
// daemon must refuse in clear. The callee seals everything from its ACCEPT
// with the answer on; the caller from the moment that ACCEPT reaches it,
// which a capture taken anywhere on the path cannot see directly. A
// cleartext frame of the call after the callee's switch is in flight — sent
// before its sender switched, not a leak — only if it is IAX signalling
// seen within 5 s of that switch that proves it: from the caller, an ISeq
// that does not acknowledge the ACCEPT (and no encrypted frame from the
// caller before it); from the callee, an OSeq before the ACCEPT's. The
// exact retransmission of the ACCEPT (same call numbers, OSeq, timestamp
// and IEs) stays in clear by design. Everything else — media, text,
// control, HANGUP, and signalling that acknowledges the ACCEPT or comes
// late — is a leak.
type track struct {
	call *Call
	// established is set once the call got past set-up (an ACCEPT, media
	// or encrypted frames): a NEW that reuses its caller circuit then
	// starts a new call. ended is set by HANGUP or REJECT.
	established, ended bool
	// partial: the call was first seen encrypted, so both sides had
	// switched before the capture started.
	partial bool
	// switched tells, per side, whether that side is known to encrypt;
	// sealed is the packet of its first encrypted frame.
	switched [2]bool
	sealed   [2]*Point
	// accept is the ACCEPT with the answer (its payload cloned), to
	// recognise its retransmissions and to tell whether a frame was sent
	// before or after it.
	accept *iax.FullFrame
}

// switchGrace is how long after the callee's switch a cleartext frame may
// still be in flight; the receiving daemon takes none after it.
const switchGrace = 5 * time.Second

// sideOf tells which side owns a circuit of this call.
func (t *track) sideOf(ep netip.AddrPort, call uint16) side {
	if ep == t.call.Caller && call == t.call.CallerCall {
		return caller
	}
	return callee
}

// learnCallee records the callee's call number from a frame the callee
// sent: the first frame from the callee's endpoint that is not one of
// chan_iax2's replies from a placeholder call number (CALLTOKEN, and the
// REJECT and INVAL it sends before a call number exists).
func (t *track) learnCallee(a *auditor, from netip.AddrPort, f *iax.FullFrame, sub iax.IAXSubclass, isIAX bool) {
	src := f.SrcCall
	if src == 0 || src == t.call.CalleeCall {
		return
	}
	placeholder := isIAX && (sub == iax.IAXCallToken || sub == iax.IAXReject || sub == iax.IAXInval)
	if t.call.CalleeCall == 0 && !placeholder && from == t.call.Callee {
		t.call.CalleeCall = src
		a.circuits[circuit{from, src}] = t
		return
	}
	if !slices.Contains(t.call.CalleePlaceholders, src) {
		t.call.CalleePlaceholders = append(t.call.CalleePlaceholders, src)
	}
}

// state follows the call's set-up and end as seen in clear.
func (t *track) state(sub iax.IAXSubclass, isIAX bool, f *iax.FullFrame) {
	c := t.call
	if ctl, ok := f.ControlSubclass(); ok && ctl == iax.ControlAnswer && !t.ended {
		c.State, t.established = "answered", true
	}
	if !isIAX {
		return
	}
	switch sub {
	case iax.IAXAuthReq:
		if c.State == "offered" {
			c.State = "authenticating"
		}
	case iax.IAXAccept:
		if c.State == "offered" || c.State == "authenticating" {
			c.State = "accepted"
		}
		t.established = true
	case iax.IAXHangup:
		c.State, t.ended = "ended", true
	case iax.IAXReject:
		c.State, t.ended = "rejected", true
	}
}

// answered records the callee's ACCEPT with the answer: the callee
// encrypts from here.
func (t *track) answered(p Point, m *Marker, f *iax.FullFrame) {
	t.call.Answer = m
	t.call.Encryption = "encrypted"
	accept := *f
	accept.Payload = bytes.Clone(f.Payload)
	t.accept = &accept
	t.switchSide(callee, p)
}

// encryptedFrom records an encrypted frame sent by side s.
func (t *track) encryptedFrom(p Point, s side) {
	if t.sealed[s] == nil {
		at := p
		t.sealed[s] = &at
	}
	t.switchSide(s, p)
}

func (t *track) switchSide(s side, p Point) {
	if t.switched[s] {
		return
	}
	t.switched[s] = true
	at := p
	if s == caller {
		t.call.CallerEncrypts = &at
	} else {
		t.call.CalleeEncrypts = &at
	}
}

// cleartext checks a frame of the call that crossed in clear (f is nil for
// mini, video and trunk entries) and records it as a leak if its sender
// had switched.
func (t *track) cleartext(a *auditor, p Point, from, to netip.AddrPort, s side, kind, name string, src uint16, f *iax.FullFrame) {
	why := t.leakProof(p, s, kind, f)
	if why == "" {
		return
	}
	t.call.Leaks = append(t.call.Leaks, Leak{Point: p, From: from, To: to, Side: s.String(), Kind: kind, Frame: name, SrcCall: src, Why: why})
	a.report.Leaks++
}

// leakProof returns why a cleartext frame from side s is a leak, or ""
// when it is not one (and then counts it as in flight or as the ACCEPT's
// retransmission).
func (t *track) leakProof(p Point, s side, kind string, f *iax.FullFrame) string {
	c := t.call
	if t.partial {
		return fmt.Sprintf("the call was already encrypted when the capture started (first encrypted frame: packet %d)", c.Start.Packet)
	}
	if !t.switched[callee] && !t.switched[s] {
		return "" // before the switch
	}
	if s == callee && f != nil && t.isAcceptRetransmission(f) {
		c.AcceptRetransmissions++
		return ""
	}
	if first := t.sealed[s]; first != nil && (s == caller || t.accept == nil) {
		// Its own encrypted frame went first: it had switched. (With the
		// callee's ACCEPT in the capture, the OSeq rule below is sharper.)
		return fmt.Sprintf("the %s encrypts from packet %d", s, first.Packet)
	}
	switchedAt := c.CalleeEncrypts
	if switchedAt == nil { // the caller switched, the callee did not show it
		switchedAt = c.CallerEncrypts
	}
	switch {
	case f == nil:
		return fmt.Sprintf("%s frame after the switch (packet %d): media is never in flight, a sender switches before its first media",
			kind, switchedAt.Packet)
	case f.Type != iax.FrameIAX:
		return fmt.Sprintf("%s frame after the switch (packet %d): only IAX signalling goes by before the switch", f.Type, switchedAt.Packet)
	case p.Time.Sub(switchedAt.Time) >= switchGrace:
		return fmt.Sprintf("more than %v after the switch (packet %d)", switchGrace, switchedAt.Packet)
	case t.accept == nil:
		// The ACCEPT is not in the capture: nothing to compare with.
	case s == caller && acknowledges(f.ISeq, t.accept.OSeq):
		return fmt.Sprintf("its iseq %d acknowledges the ACCEPT with the answer (packet %d, oseq %d): the caller had switched",
			f.ISeq, c.Answer.Packet, t.accept.OSeq)
	case s == callee && !seqBefore(f.OSeq, t.accept.OSeq):
		return fmt.Sprintf("its oseq %d is not before the ACCEPT's (packet %d, oseq %d): the callee encrypts from there",
			f.OSeq, c.Answer.Packet, t.accept.OSeq)
	}
	c.InFlight++
	return ""
}

// isAcceptRetransmission reports whether f is the ACCEPT with the answer
// sent again: same call numbers, OSeq, timestamp and IEs (the ISeq may
// have moved on).
func (t *track) isAcceptRetransmission(f *iax.FullFrame) bool {
	a := t.accept
	return a != nil && isAccept(f) && f.SrcCall == a.SrcCall && f.DstCall == a.DstCall &&
		f.OSeq == a.OSeq && f.Timestamp == a.Timestamp && bytes.Equal(f.Payload, a.Payload)
}

// seqBefore compares 8-bit IAX2 sequence numbers with wrap-around.
func seqBefore(a, b uint8) bool { return int8(a-b) < 0 }

func isAccept(f *iax.FullFrame) bool {
	sub, ok := f.IAXSubclass()
	return ok && sub == iax.IAXAccept
}

// acknowledges reports whether a frame's ISeq (the next sequence number its
// sender expects) is past oseq, in the 8-bit sequence space.
func acknowledges(iseq, oseq uint8) bool {
	return iseq-(oseq+1) < 128
}
