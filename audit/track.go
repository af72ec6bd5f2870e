package audit

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// track is the auditor's state of one call, beside the call's report.
//
// When a side has switched, and what is a leak, follows docs/protocol.md
// ("The switch"): the callee seals everything from its ACCEPT with the
// answer on, so any later cleartext frame from it is a leak, except that
// ACCEPT sent again unchanged. The caller seals from the moment that ACCEPT
// reaches it, which a capture taken anywhere on the path cannot see
// directly; its cleartext frames after the ACCEPT are leaks when something
// proves it had the ACCEPT when it sent them: its own earlier encrypted
// frame, media (which a caller sends only once accepted), or an ISeq that
// acknowledges the ACCEPT. Cleartext signalling without such proof was in
// flight at the switch and is counted, not reported as a leak.
type track struct {
	call *Call
	// established is set once the call got past set-up (an ACCEPT, media
	// or encrypted frames): a NEW that reuses its caller circuit then
	// starts a new call. ended is set by HANGUP or REJECT.
	established, ended bool
	// partial: the call was first seen encrypted, so both sides had
	// switched before the capture started.
	partial bool
	// switched tells, per side, whether that side is known to encrypt.
	switched [2]bool
	// acceptIEs and acceptOSeq are those of the ACCEPT with the answer:
	// the first to recognise its retransmissions, the second to tell
	// whether a caller frame acknowledges it.
	acceptIEs  []byte
	acceptOSeq uint8
}

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
	t.acceptIEs = bytes.Clone(f.Payload)
	t.acceptOSeq = f.OSeq
	t.switchSide(callee, p)
}

// encryptedFrom records an encrypted frame sent by side s.
func (t *track) encryptedFrom(p Point, s side) { t.switchSide(s, p) }

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
	why := t.leakProof(s, kind, f)
	if why == "" {
		return
	}
	t.call.Leaks = append(t.call.Leaks, Leak{Point: p, From: from, To: to, Side: s.String(), Kind: kind, Frame: name, SrcCall: src, Why: why})
	a.report.Leaks++
}

// leakProof returns why a cleartext frame from side s is a leak, or ""
// when it is not one.
func (t *track) leakProof(s side, kind string, f *iax.FullFrame) string {
	c := t.call
	switch {
	case t.partial:
		return fmt.Sprintf("the call was already encrypted when the capture started (first encrypted frame: packet %d)", c.Start.Packet)
	case t.switched[s] && s == callee:
		if f != nil && t.acceptIEs != nil && isAccept(f) && bytes.Equal(f.Payload, t.acceptIEs) {
			c.AcceptRetransmissions++
			return ""
		}
		return fmt.Sprintf("the callee encrypts from packet %d", c.CalleeEncrypts.Packet)
	case t.switched[s]:
		return fmt.Sprintf("the caller encrypts from packet %d", c.CallerEncrypts.Packet)
	case s == caller && t.switched[callee]:
		switch {
		case f == nil:
			return fmt.Sprintf("%s frame after the callee's switch (packet %d): a caller sends media only once it has the ACCEPT",
				kind, c.CalleeEncrypts.Packet)
		case t.acceptIEs != nil && acknowledges(f.ISeq, t.acceptOSeq):
			return fmt.Sprintf("its iseq %d acknowledges the ACCEPT with the answer (packet %d, oseq %d): the caller had it",
				f.ISeq, c.Answer.Packet, t.acceptOSeq)
		}
		c.InFlight++
	}
	return ""
}

func isAccept(f *iax.FullFrame) bool {
	sub, ok := f.IAXSubclass()
	return ok && sub == iax.IAXAccept
}

// acknowledges reports whether a frame's ISeq (the next sequence number its
// sender expects) is past oseq, in the 8-bit sequence space.
func acknowledges(iseq, oseq uint8) bool {
	return iseq-(oseq+1) < 128
}
