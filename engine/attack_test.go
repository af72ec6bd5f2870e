package engine

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// One test per finding of the protocol review (issue 7): each plays the
// attacker in-process against two engines back to back.

// sealAs seals frame as host h's engine would for its call with local
// number local: what a peer daemon (honest or not) holding the call's keys
// can send.
func sealAs(t *testing.T, h *host, local uint16, frame []byte) []byte {
	t.Helper()
	var sealed []byte
	h.eng.calls.Range(func(c *iax.Call[*callState]) bool {
		if c.LocalCall == local && c.Data.session != nil {
			var err error
			sealed, err = c.Data.session.Seal(nil, frame, c.LocalCall, c.RemoteCall)
			if err != nil {
				t.Fatal(err)
			}
			return false
		}
		return true
	})
	if sealed == nil {
		t.Fatalf("%s has no keys for call %d", h.name, local)
	}
	return sealed
}

// Finding 1: a sealed inner NEW with a fresh call number once crashed the
// daemon (a tracked call without state). It is dropped and nothing panics.
func TestInnerNewDoesNotCreateACall(t *testing.T) {
	for _, src := range []uint16{callA, 0x0333} {
		t.Run(fmt.Sprintf("inner source %#x", src), func(t *testing.T) {
			a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
			l := newLink(t, a, b)
			establish(t, l)
			inner := iaxFrame(fb{src: src, ts: 50, oseq: 0}, iax.IAXNew, ie(iax.IECalledNumber, "1"))
			if got := l.in("A", sealAs(t, a, callA, inner)); got != nil {
				t.Fatalf("inner NEW delivered: %x", got)
			}
			if n := b.eng.Stats().Dropped[DropInnerMismatch]; n != 1 {
				t.Fatalf("inner-mismatch drops %d, want 1", n)
			}
			b.eng.Calls(l.now)
			l.in("A", mini(src, 60, 160))
			b.eng.Expire(l.now.Add(time.Hour))
			b.eng.Calls(l.now.Add(time.Hour))
			if n := b.eng.Stats().Calls.Created; n != 1 {
				t.Fatalf("B created %d calls, want 1", n)
			}
		})
	}
}

// Finding 8: a frame inside an envelope that names another call is dropped
// and does not touch that call.
func TestInnerFrameMustMatchItsEnvelope(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	establish(t, l)
	for _, inner := range [][]byte{
		iaxFrame(fb{src: 0x0444, dst: callB, ts: 50, oseq: 2, iseq: 1}, iax.IAXHangup),
		iaxFrame(fb{src: callA, dst: 0x0555, ts: 50, oseq: 2, iseq: 1}, iax.IAXHangup),
		mini(0x0444, 60, 160),
		(&iax.TrunkFrame{CmdData: 1, Timestamp: 1}).AppendTo(nil),
	} {
		if got := l.in("A", sealAs(t, a, callA, inner)); got != nil {
			t.Fatalf("inner frame %x delivered", inner)
		}
	}
	if n := b.eng.Stats().Dropped[DropInnerMismatch]; n != 4 {
		t.Fatalf("inner-mismatch drops %d, want 4", n)
	}
	if st := b.call(t, l.now, callB).Status; st != StatusEncrypted {
		t.Fatalf("call is %v after frames naming other calls, want encrypted", st)
	}
}

// Finding 2, first half: the answer stripped from the ACCEPT. The caller
// goes on in clear; the callee must not say encrypted while it takes
// cleartext: the caller's first frame that acknowledges the ACCEPT in clear
// proves the strip.
func TestStrippedAnswerIsSeenAsDowngrade(t *testing.T) {
	for _, policy := range []Policy{PolicyOpportunistic, PolicyRequire} {
		t.Run(policy.String(), func(t *testing.T) {
			a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, policy)
			l := newLink(t, a, b)
			l.mustArrive("A", newFrame(0))
			acceptWire := l.out("B", acceptFrame(5, 0, 1))
			stripped, err := appendWithoutMarker(nil, mustParse(t, acceptWire))
			if err != nil {
				t.Fatal(err)
			}
			if got := l.in("B", stripped); !bytes.Equal(got, acceptFrame(5, 0, 1)) {
				t.Fatalf("stripped ACCEPT arrived as %x", got)
			}
			if st := b.call(t, l.now, callB).Status; st == StatusEncrypted {
				t.Fatal("callee says encrypted before the caller proved its keys")
			}
			// A's ACK of the ACCEPT leaves in clear (A has no keys).
			ack, wire := l.send("A", iaxFrame(fb{src: callA, dst: callB, ts: 6, oseq: 1, iseq: 1}, iax.IAXAck))
			if crypt.IsEncryptedFrame(wire) {
				t.Fatal("A sealed without keys")
			}
			cb := b.call(t, l.now, callB)
			if cb.Warning != WarnDowngradeSuspected {
				t.Fatalf("callee warning %q, want downgrade_suspected", cb.Warning)
			}
			if policy == PolicyRequire {
				if ack != nil || cb.Status != StatusFailed {
					t.Fatalf("under require: ACK delivered %v, status %v; want refused", ack != nil, cb.Status)
				}
				inj := b.injected()
				if len(inj) != 2 {
					t.Fatalf("refusal injected %d packets, want a HANGUP each way", len(inj))
				}
				return
			}
			if ack == nil || cb.Status != StatusCleartext {
				t.Fatalf("opportunistic: ACK delivered %v, status %v; want cleartext, flagged", ack != nil, cb.Status)
			}
			// The call goes on in clear on both sides, flagged, never
			// shown encrypted.
			for i := range 500 {
				l.mustArrive("A", mini(callA, uint16(100+20*i), 160))
			}
			l.mustArrive("A", full(fb{src: callA, dst: callB, ts: 200, oseq: 2, iseq: 1}, iax.FrameText, 0, []byte("hello")))
			if wire := l.mustArrive("B", mini(callB, 300, 160)); crypt.IsEncryptedFrame(wire) {
				t.Fatal("B still seals after the downgrade: A cannot read it")
			}
			if cb := b.call(t, l.now, callB); cb.Status != StatusCleartext || cb.Encrypted {
				t.Fatalf("callee %+v", cb)
			}
		})
	}
}

// Finding 2, second half: an on-path attacker drops one side's sealed
// frames and injects cleartext voice, text or a HANGUP into the other.
func TestCleartextInjectionAfterTheSwitch(t *testing.T) {
	t.Run("into the caller", func(t *testing.T) {
		a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
		l := newLink(t, a, b)
		establish(t, l)
		// Nothing sealed from B reached A (dropped on the way).
		for _, f := range [][]byte{
			mini(callB, 100, 160),
			video(callB, 100, 300),
			full(fb{src: callB, dst: callA, ts: 100, oseq: 1, iseq: 2}, iax.FrameText, 0, []byte("pay now")),
			iaxFrame(fb{src: callB, dst: callA, ts: 101, oseq: 1, iseq: 2}, iax.IAXHangup),
		} {
			if got := l.in("B", f); got != nil {
				t.Fatalf("cleartext %x reached A's application", f)
			}
		}
		if ca := a.call(t, l.now, callA); ca.Status != StatusEncrypted || ca.Drops[DropCleartextAfterSwitch] != 4 {
			t.Fatalf("caller %v, drops %v", ca.Status, ca.Drops)
		}
	})
	t.Run("into the callee after the caller switched", func(t *testing.T) {
		a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
		l := newLink(t, a, b)
		establish(t, l)
		l.tick(10 * time.Second) // past the grace: nothing in clear any more
		for _, f := range [][]byte{
			mini(callA, 100, 160),
			full(fb{src: callA, dst: callB, ts: 100, oseq: 2, iseq: 1}, iax.FrameText, 0, []byte("pay now")),
			iaxFrame(fb{src: callA, dst: callB, ts: 101, oseq: 2, iseq: 1}, iax.IAXHangup),
			// Even one that looks sent before the switch: too late.
			iaxFrame(fb{src: callA, dst: callB, ts: 1, oseq: 0, iseq: 0}, iax.IAXAck),
		} {
			if got := l.in("A", f); got != nil {
				t.Fatalf("cleartext %x reached B's application", f)
			}
		}
		if cb := b.call(t, l.now, callB); cb.Status != StatusEncrypted || cb.Drops[DropCleartextAfterSwitch] != 4 {
			t.Fatalf("callee %v, drops %v", cb.Status, cb.Drops)
		}
	})
}

// Finding 7: a forged cleartext ACCEPT reaches neither application once
// keys are set; only the exact retransmission of the real one passes.
func TestForgedAcceptsAfterTheSwitch(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	l.mustArrive("A", newFrame(0))
	realWire := l.mustArrive("B", acceptFrame(5, 0, 1))
	l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 6, oseq: 1, iseq: 1}, iax.IAXAck))
	// To the callee, which never receives an ACCEPT.
	forged := iaxFrame(fb{src: callA, dst: callB, ts: 7, oseq: 2, iseq: 1}, iax.IAXAccept, ie(iax.IEFormat, "\x00\x00\x00\x04"))
	if got := l.in("A", forged); got != nil {
		t.Fatal("a cleartext ACCEPT reached the callee's application")
	}
	// To the caller: the real ACCEPT with other sequence numbers or
	// timestamp.
	for _, mut := range []func(f *iax.FullFrame){
		func(f *iax.FullFrame) { f.OSeq = 9 },
		func(f *iax.FullFrame) { f.Timestamp = 999 },
		func(f *iax.FullFrame) { f.Payload = append(bytes.Clone(f.Payload), ie(iax.IECause, "x")...) },
	} {
		f := *mustParse(t, realWire)
		mut(&f)
		if got := l.in("B", f.AppendTo(nil)); got != nil {
			t.Fatalf("a modified copy of the ACCEPT reached the caller's application: %x", got)
		}
	}
	// The faithful retransmission (R bit, later ISeq) still passes.
	re := *mustParse(t, realWire)
	re.Retransmit, re.ISeq = true, 2
	if got := l.in("B", re.AppendTo(nil)); got == nil {
		t.Fatal("the real ACCEPT's retransmission was dropped")
	}
	if n := a.call(t, l.now, callA).Drops[DropAcceptMismatch]; n != 3 {
		t.Fatalf("accept-mismatch drops %d, want 3", n)
	}
}

// Finding 9: a spoofed NEW whose marker does not parse, sent before the
// real NEW, no longer decides the call.
func TestSpoofedBadOfferFirstDoesNotDowngrade(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	spoof := newFrame(0, mustIE(t, crypt.MarkerIE, []byte{crypt.Version, crypt.MarkerOffer, 1, 2, 3}))
	l.in("A", spoof)
	noMarker := newFrame(0)
	l.in("A", noMarker)
	establish(t, l)
	l.mustArrive("A", mini(callA, 30, 160))
	if ca, cb := a.call(t, l.now, callA), b.call(t, l.now, callB); !ca.Encrypted || cb.Status != StatusEncrypted || ca.SAS != cb.SAS {
		t.Fatalf("after a spoofed first NEW: caller %+v callee %+v", ca, cb)
	}
}

// Finding 4: a flood of spoofed NEWs while a call rings. Outgoing calls are
// out of the flood's reach; an incoming one pushed out of the table does
// not go on in clear silently.
func TestNewFloodDuringRinging(t *testing.T) {
	limits := iax.TrackerLimits{MaxHalfOpen: 64}
	sent := 0
	flood := func(t *testing.T, b *host, n int) {
		for range n {
			i := sent
			sent++
			peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 4569)
			b.eng.Inbound(t0, peer, iaxFrame(fb{src: uint16(i%30000 + 1)}, iax.IAXNew, ie(iax.IECalledNumber, "1")), make([]byte, 0, 512))
		}
	}
	t.Run("outgoing call survives", func(t *testing.T) {
		a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
		a.eng.calls = iax.NewTracker[*callState](limits)
		a.eng.calls.NewData, a.eng.calls.OnRemove = func() *callState { return &callState{} }, a.eng.forget
		l := newLink(t, a, b)
		l.mustArrive("A", newFrame(0))
		flood(t, a, 5000)
		l.mustArrive("B", acceptFrame(5, 0, 1))
		l.mustArrive("A", mini(callA, 30, 160))
		if ca := a.call(t, l.now, callA); !ca.Encrypted {
			t.Fatalf("caller after the flood: %+v", ca)
		}
	})
	for _, policy := range []Policy{PolicyOpportunistic, PolicyRequire} {
		t.Run("incoming call pushed out, "+policy.String(), func(t *testing.T) {
			a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, policy)
			b.eng.calls = iax.NewTracker[*callState](limits)
			b.eng.calls.NewData, b.eng.calls.OnRemove = func() *callState { return &callState{} }, b.eng.forget
			l := newLink(t, a, b)
			l.mustArrive("A", newFrame(0))
			for range 1000 {
				if b.eng.calls.Lookup(iax.FromPeer, addrA, callA) == nil {
					break
				}
				flood(t, b, 16)
			}
			if b.eng.calls.Lookup(iax.FromPeer, addrA, callA) != nil {
				t.Fatal("the flood never pushed the call out")
			}
			got, _ := l.send("B", acceptFrame(5, 0, 1))
			cb := b.call(t, l.now, callB)
			if cb.Warning != WarnOfferLost {
				t.Fatalf("callee %+v, want warning offer_lost", cb)
			}
			if policy == PolicyRequire {
				if cb.Status != StatusFailed {
					t.Fatalf("under require: %v, want failed", cb.Status)
				}
				if f, err := iax.ParseFull(got); err != nil || f.Subclass != uint8(iax.IAXReject) {
					t.Fatalf("caller got %x, want a REJECT", got)
				}
				return
			}
			if cb.Status != StatusCleartext {
				t.Fatalf("status %v, want cleartext", cb.Status)
			}
		})
	}
}

// Finding 5: a flood of unsolicited ACCEPTs from spoofed sources cannot
// push an encrypted call out of the table, and cleartext "from" its peer
// stays out afterwards.
func TestAcceptFloodKeepsEncryptedCalls(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	a.eng.calls = iax.NewTracker[*callState](iax.TrackerLimits{MaxCalls: 256})
	a.eng.calls.NewData, a.eng.calls.OnRemove = func() *callState { return &callState{} }, a.eng.forget
	l := newLink(t, a, b)
	establish(t, l)
	l.mustArrive("B", mini(callB, 30, 160))
	for i := range 65536 {
		peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), 4569)
		a.eng.Inbound(t0, peer, iaxFrame(fb{src: uint16(i%30000 + 1), dst: uint16(i%30000 + 2), oseq: 0, iseq: 1}, iax.IAXAccept), make([]byte, 0, 512))
	}
	if st := a.eng.Stats().Calls; st.Calls > 256 {
		t.Fatalf("table holds %d calls, cap 256", st.Calls)
	}
	if ca := a.call(t, l.now, callA); ca.Status != StatusEncrypted {
		t.Fatalf("encrypted call after the flood: %+v", ca)
	}
	for _, f := range [][]byte{mini(callB, 100, 160), iaxFrame(fb{src: callB, dst: callA, ts: 101, oseq: 1, iseq: 2}, iax.IAXHangup)} {
		if got := l.in("B", f); got != nil {
			t.Fatalf("cleartext %x from the peer reached the application after the flood", f)
		}
	}
	l.mustArrive("B", mini(callB, 120, 160))
}
