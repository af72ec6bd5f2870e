package engine

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// callFrames is the rest of a call after ACCEPT: signalling, voice, video,
// text, DTMF, from both sides.
func callFrames() []struct {
	from  string
	frame []byte
} {
	a := func(ts uint32, o, i uint8) fb { return fb{src: callA, dst: callB, ts: ts, oseq: o, iseq: i} }
	b := func(ts uint32, o, i uint8) fb { return fb{src: callB, dst: callA, ts: ts, oseq: o, iseq: i} }
	return []struct {
		from  string
		frame []byte
	}{
		{"B", full(b(10, 1, 2), iax.FrameControl, uint8(iax.ControlRinging), nil)},
		{"A", iaxFrame(a(11, 2, 2), iax.IAXAck)},
		{"B", full(b(20, 2, 2), iax.FrameControl, uint8(iax.ControlAnswer), nil)},
		{"A", iaxFrame(a(21, 2, 3), iax.IAXAck)},
		{"B", full(b(40, 3, 3), iax.FrameVoice, 4, bytes.Repeat([]byte{0xff}, 160))},
		{"A", full(a(40, 2, 4), iax.FrameVoice, 4, bytes.Repeat([]byte{0x7f}, 160))},
		{"A", mini(callA, 60, 160)},
		{"B", mini(callB, 60, 160)},
		{"A", video(callA, 0x8010, 900)},
		{"B", video(callB, 0x0010, 300)},
		{"A", full(a(70, 3, 4), iax.FrameText, 0, []byte("secret text"))},
		{"A", full(a(80, 4, 4), iax.FrameDTMFEnd, '5', nil)},
		{"B", iaxFrame(b(90, 4, 5), iax.IAXPing)},
		{"A", iaxFrame(a(91, 5, 5), iax.IAXPong)},
		{"B", iaxFrame(b(92, 5, 6), iax.IAXLagRq)},
		{"A", iaxFrame(a(93, 6, 6), iax.IAXLagRp)},
	}
}

func TestEncryptedCallBothWays(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)

	newWire := l.mustArrive("A", newFrame(0))
	if !hasMarker(newWire) {
		t.Fatal("the NEW left A without the offer marker")
	}
	if ci := b.call(t, l.now, 0); ci.Status != StatusNegotiating {
		// B knows the call only by the caller's number until it answers.
		t.Fatalf("B status after NEW = %v, want negotiating", ci.Status)
	}
	acceptWire := l.mustArrive("B", acceptFrame(5, 0, 1))
	if !hasMarker(acceptWire) {
		t.Fatal("the ACCEPT left B without the answer marker")
	}
	switchIndex := len(l.wire)
	for _, cf := range callFrames() {
		wire := l.mustArrive(cf.from, cf.frame)
		if !crypt.IsEncryptedFrame(wire) {
			t.Fatalf("frame from %s left in clear: %x", cf.from, wire)
		}
		if len(wire) > len(cf.frame)+Overhead {
			t.Fatalf("overhead %d > %d", len(wire)-len(cf.frame), Overhead)
		}
		l.tick(20 * time.Millisecond)
	}
	l.mustArrive("B", iaxFrame(fb{src: callB, dst: callA, ts: 100, oseq: 6, iseq: 7}, iax.IAXHangup, ie(iax.IECause, "bye")))
	l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 101, oseq: 7, iseq: 7}, iax.IAXAck))
	assertNoCleartextAfter(t, l, "A", switchIndex)
	assertNoCleartextAfter(t, l, "B", switchIndex)

	ca, cb := a.call(t, l.now, callA), b.call(t, l.now, callB)
	if !ca.Encrypted || !cb.Encrypted {
		t.Fatalf("not encrypted: A %+v B %+v", ca, cb)
	}
	if ca.SAS != cb.SAS || ca.SAS.Base32() == "" {
		t.Fatalf("SAS differ: A %s B %s", ca.SAS, cb.SAS)
	}
	if ca.PeerIdentity != b.eng.Identity() || cb.PeerIdentity != a.eng.Identity() {
		t.Fatal("peer identities are not the other side's keys")
	}
	if ca.Status != StatusEnded || cb.Status != StatusEnded {
		t.Fatalf("after HANGUP: A %v B %v, want ended", ca.Status, cb.Status)
	}
	if ca.RemoteCall != callB || cb.RemoteCall != callA {
		t.Fatalf("call numbers: A %+v B %+v", ca, cb)
	}
	// The ended call stays listed for a minute after it ended, then goes.
	ended := l.now
	a.eng.Expire(ended.Add(iax.DefaultLinger + time.Second))
	if cs := a.eng.Calls(ended.Add(59 * time.Second)); len(cs) != 1 || cs[0].Status != StatusEnded {
		t.Fatalf("A lists %+v 59 s after the end, want the ended call", cs)
	}
	a.eng.Expire(ended.Add(61 * time.Second))
	if n := len(a.eng.Calls(ended.Add(61 * time.Second))); n != 0 {
		t.Fatalf("A still lists %d calls 61 s after the end", n)
	}
}

func TestHangupFromCaller(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	establish(t, l)
	wire := l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 50, oseq: 2, iseq: 1}, iax.IAXHangup, ie(iax.IECause, "done")))
	if !crypt.IsEncryptedFrame(wire) {
		t.Fatal("HANGUP left in clear")
	}
	l.mustArrive("B", iaxFrame(fb{src: callB, dst: callA, ts: 51, oseq: 1, iseq: 3}, iax.IAXAck))
	if st := b.call(t, l.now, callB).Status; st != StatusEnded {
		t.Fatalf("B status %v, want ended", st)
	}
	if st := a.call(t, l.now, callA).Status; st != StatusEnded {
		t.Fatalf("A status %v, want ended", st)
	}
}

func TestCallTokenResendKeepsMarker(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	first := l.mustArrive("A", newFrame(0, ie(iax.IECallToken, "")))
	// The callee's application answers with a token challenge, sent before
	// it allocates a call number.
	l.mustArrive("B", iaxFrame(fb{src: 0, dst: callA, ts: 1, oseq: 0, iseq: 1}, iax.IAXCallToken, ie(iax.IECallToken, "1234?abcd")))
	second := l.mustArrive("A", newFrame(0, ie(iax.IECallToken, "1234?abcd")))
	if !bytes.Equal(markerOf(t, first), markerOf(t, second)) {
		t.Fatal("the NEW re-sent with a token carries a different marker")
	}
	l.mustArrive("B", acceptFrame(5, 0, 1))
	wire := l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 6, oseq: 1, iseq: 1}, iax.IAXAck))
	if !crypt.IsEncryptedFrame(wire) {
		t.Fatal("not encrypted after a CALLTOKEN exchange")
	}
}

func TestAuthReqThenAccept(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	l.mustArrive("A", newFrame(0, ie(iax.IEUsername, "alice")))
	l.mustArrive("B", iaxFrame(fb{src: callB, dst: callA, ts: 1, oseq: 0, iseq: 1}, iax.IAXAuthReq,
		ie(iax.IEAuthMethods, "\x00\x02"), ie(iax.IEChallenge, "12345")))
	l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 2, oseq: 1, iseq: 1}, iax.IAXAuthRep, ie(iax.IEMD5Result, "0123456789abcdef")))
	l.mustArrive("B", acceptFrame(3, 1, 2))
	for _, cf := range callFrames() {
		if wire := l.mustArrive(cf.from, cf.frame); !crypt.IsEncryptedFrame(wire) {
			t.Fatalf("frame from %s in clear after ACCEPT", cf.from)
		}
	}
}

func TestRetransmittedNewAndAcceptCarrySameMarker(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	n1 := l.mustArrive("A", newFrame(0))
	n2 := l.mustArrive("A", withRetransmit(newFrame(0)))
	if !bytes.Equal(markerOf(t, n1), markerOf(t, n2)) {
		t.Fatal("retransmitted NEW has another marker")
	}
	a1 := l.mustArrive("B", acceptFrame(5, 0, 1))
	a2 := l.mustArrive("B", withRetransmit(acceptFrame(5, 0, 1)))
	if !bytes.Equal(markerOf(t, a1), markerOf(t, a2)) {
		t.Fatal("retransmitted ACCEPT has another marker")
	}
	l.mustArrive("A", mini(callA, 30, 160)) // B counts the call once A proves its keys
	if l.a.eng.Stats().Encrypted != 1 || l.b.eng.Stats().Encrypted != 1 {
		t.Fatal("a handshake ran more than once")
	}
}

func TestLostAccept(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	l.mustArrive("A", newFrame(0))
	if l.out("B", acceptFrame(5, 0, 1)) == nil { // lost on the network
		t.Fatal("ACCEPT not sent")
	}
	ringing := full(fb{src: callB, dst: callA, ts: 10, oseq: 1, iseq: 1}, iax.FrameControl, uint8(iax.ControlRinging), nil)
	if got, wire := l.send("B", ringing); got != nil || !crypt.IsEncryptedFrame(wire) {
		t.Fatalf("RINGING before A has keys: delivered %x, wire %x; want encrypted and dropped", got, wire)
	}
	if n := a.eng.Stats().Dropped[DropNoKeys]; n != 1 {
		t.Fatalf("no-keys drops = %d, want 1", n)
	}
	l.mustArrive("B", withRetransmit(acceptFrame(5, 0, 1)))
	l.mustArrive("B", withRetransmit(ringing))
}

func TestReorderingAcrossSwitch(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	l.mustArrive("A", newFrame(0))
	// B's application sends a cleartext frame before ACCEPT; the network
	// delivers it after the ACCEPT: A must still accept it.
	early := l.out("B", iaxFrame(fb{src: callB, dst: callA, ts: 1, oseq: 0, iseq: 1}, iax.IAXPing))
	l.mustArrive("B", acceptFrame(5, 1, 1))
	if got := l.in("B", early); got == nil {
		t.Fatal("cleartext frame sent before the switch was dropped")
	}
	// An ACK A sent in clear before it got the ACCEPT (its ISeq does not
	// acknowledge the ACCEPT) arrives at B late: B takes it.
	lateAck := iaxFrame(fb{src: callA, dst: callB, ts: 2, oseq: 1, iseq: 1}, iax.IAXAck)
	if got := l.in("A", lateAck); got == nil {
		t.Fatal("B dropped a cleartext frame from A before A's first encrypted frame")
	}
	l.mustArrive("A", mini(callA, 60, 160))
	l.mustArrive("B", mini(callB, 60, 160))
	// From now on cleartext for the call is refused in both directions.
	if got := l.in("A", mini(callA, 80, 160)); got != nil {
		t.Fatal("B accepted a cleartext mini frame after the switch")
	}
	if got := l.in("B", full(fb{src: callB, dst: callA, ts: 90, oseq: 1, iseq: 2}, iax.FrameText, 0, []byte("inject"))); got != nil {
		t.Fatal("A accepted a cleartext text frame after the switch")
	}
	if got := l.in("B", iaxFrame(fb{src: callB, dst: callA, ts: 91, oseq: 1, iseq: 2}, iax.IAXHangup)); got != nil {
		t.Fatal("A accepted a cleartext HANGUP after the switch")
	}
	if st := a.call(t, l.now, callA).Status; st != StatusEncrypted {
		t.Fatalf("an injected cleartext HANGUP changed A's call to %v", st)
	}
	if n := a.eng.Stats().Dropped[DropCleartextAfterSwitch]; n != 2 {
		t.Fatalf("A cleartext-after-switch drops = %d, want 2", n)
	}
}

func TestReplayAndTamperDropped(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	establish(t, l)
	wire := l.mustArrive("A", mini(callA, 60, 160))
	if got := l.in("A", wire); got != nil {
		t.Fatal("replayed frame delivered")
	}
	tampered := bytes.Clone(l.out("A", mini(callA, 80, 160)))
	tampered[len(tampered)-20] ^= 1
	if got := l.in("A", tampered); got != nil {
		t.Fatal("tampered frame delivered")
	}
	st := b.eng.Stats()
	if st.Dropped[DropReplay] != 1 || st.Dropped[DropAuthentication] != 1 {
		t.Fatalf("drops: replay %d auth %d, want 1 and 1", st.Dropped[DropReplay], st.Dropped[DropAuthentication])
	}
	if ci := b.call(t, l.now, callB); ci.Dropped != 2 {
		t.Fatalf("call dropped counter %d, want 2", ci.Dropped)
	}
}

func TestUnawarePeerStaysCleartext(t *testing.T) {
	for _, tc := range []struct {
		name      string
		aAware    bool
		bAware    bool
		wantA     Status
		wantB     Status
		checkHost string
	}{
		{name: "callee without iaxcrypt", aAware: true},
		{name: "caller without iaxcrypt", bAware: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &host{name: "A", addr: addrA}
			b := &host{name: "B", addr: addrB}
			if tc.aAware {
				a = newHost(t, "A", addrA, PolicyOpportunistic)
			}
			if tc.bAware {
				b = newHost(t, "B", addrB, PolicyOpportunistic)
			}
			l := newLink(t, a, b)
			newWire, _ := l.send("A", newFrame(0))
			// The unaware callee's application sees the marker as an unknown IE
			// and ignores it; the frame is otherwise the application's own.
			if tc.aAware {
				newWire = l.wire[len(l.wire)-1].data
				stripped, err := appendWithoutMarker(nil, mustParse(t, newWire))
				if err != nil || !bytes.Equal(stripped, newFrame(0)) {
					t.Fatal("the NEW sent to an unaware peer is not the application's NEW plus one IE")
				}
			} else if !bytes.Equal(newWire, newFrame(0)) {
				t.Fatal("NEW from an unaware caller was changed")
			}
			l.mustArrive("B", acceptFrame(5, 0, 1))
			for _, cf := range callFrames() {
				wire := l.mustArrive(cf.from, cf.frame)
				if !bytes.Equal(wire, cf.frame) {
					t.Fatalf("cleartext call frame changed on the wire")
				}
			}
			aware, local := a, uint16(callA)
			if tc.bAware {
				aware, local = b, callB
			}
			if st := aware.call(t, l.now, local).Status; st != StatusCleartext {
				t.Fatalf("status %v, want cleartext", st)
			}
			if !hasEvent(aware.events, EventCleartext) {
				t.Fatal("no cleartext event says why")
			}
		})
	}
}

func mustParse(t testing.TB, b []byte) *iax.FullFrame {
	t.Helper()
	f, err := iax.ParseFull(b)
	if err != nil {
		t.Fatal(err)
	}
	return &f
}

func hasEvent(evs []Event, k EventKind) bool {
	for _, ev := range evs {
		if ev.Kind == k {
			return true
		}
	}
	return false
}

func TestRequirePolicyRefusesVisibly(t *testing.T) {
	t.Run("caller requires, callee unaware", func(t *testing.T) {
		a := newHost(t, "A", addrA, PolicyRequire)
		l := newLink(t, a, &host{name: "B", addr: addrB})
		if _, wire := l.send("A", newFrame(0)); !hasMarker(wire) {
			t.Fatal("no offer in NEW")
		}
		got, _ := l.send("B", acceptFrame(5, 0, 1))
		f := mustParse(t, got)
		if sub, _ := f.IAXSubclass(); sub != iax.IAXReject {
			t.Fatalf("A's application got %v, want REJECT", sub)
		}
		if cause, ok, _ := iax.FindIE(f.Payload, iax.IECause); !ok || !bytes.Contains(cause, []byte("encryption required")) {
			t.Fatalf("REJECT cause %q does not say why", cause)
		}
		inj := a.injected()
		if len(inj) != 1 || inj[0].Dir != ToNetwork || inj[0].Peer != addrB {
			t.Fatalf("injected %+v, want one HANGUP to B", inj)
		}
		if sub, _ := mustParse(t, inj[0].Data).IAXSubclass(); sub != iax.IAXHangup {
			t.Fatalf("injected %v, want HANGUP", sub)
		}
		if st := a.call(t, l.now, callA).Status; st != StatusFailed {
			t.Fatalf("status %v, want failed", st)
		}
	})
	t.Run("callee requires, caller unaware", func(t *testing.T) {
		b := newHost(t, "B", addrB, PolicyRequire)
		l := newLink(t, &host{name: "A", addr: addrA}, b)
		l.mustArrive("A", newFrame(0))
		got, _ := l.send("B", acceptFrame(5, 0, 1))
		if sub, _ := mustParse(t, got).IAXSubclass(); sub != iax.IAXReject {
			t.Fatalf("the caller got %v, want REJECT", sub)
		}
		inj := b.injected()
		if len(inj) != 1 || inj[0].Dir != ToApp {
			t.Fatalf("injected %+v, want one HANGUP to B's application", inj)
		}
		h := mustParse(t, inj[0].Data)
		if h.SrcCall != callA || h.DstCall != callB || h.OSeq != 1 || h.ISeq != 1 {
			t.Fatalf("HANGUP to the application has header %+v", h)
		}
	})
	t.Run("both aware", func(t *testing.T) {
		l := newLink(t, newHost(t, "A", addrA, PolicyRequire), newHost(t, "B", addrB, PolicyRequire))
		establish(t, l)
		if wire := l.mustArrive("A", mini(callA, 9, 160)); !crypt.IsEncryptedFrame(wire) {
			t.Fatal("not encrypted")
		}
	})
}

func TestTamperedAnswerFailsCall(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	l.mustArrive("A", newFrame(0))
	wire := l.out("B", acceptFrame(5, 0, 1))
	wire[len(wire)-3] ^= 0x01 // inside the answer's ciphertext
	got := l.in("B", wire)
	if sub, _ := mustParse(t, got).IAXSubclass(); sub != iax.IAXReject {
		t.Fatalf("A's application got %v after a bad answer, want REJECT", sub)
	}
	if st := a.call(t, l.now, callA).Status; st != StatusFailed {
		t.Fatalf("status %v, want failed", st)
	}
	if inj := a.injected(); len(inj) != 1 || inj[0].Dir != ToNetwork {
		t.Fatalf("want a HANGUP to B, got %+v", inj)
	}
}

func TestUnknownCallFromAppNotSentInClear(t *testing.T) {
	a := newHost(t, "A", addrA, PolicyOpportunistic)
	l := newLink(t, a, &host{name: "B", addr: addrB})
	// As after a daemon restart: media of a call the engine never saw.
	if wire := l.out("A", mini(callA, 10, 160)); wire != nil {
		t.Fatal("mini frame of an unknown call sent")
	}
	if wire := l.out("A", full(fb{src: callA, dst: callB, ts: 1, oseq: 3, iseq: 3}, iax.FrameText, 0, []byte("x"))); wire != nil {
		t.Fatal("text frame of an unknown call sent")
	}
	// Call-less signalling still goes through.
	for _, sub := range []iax.IAXSubclass{iax.IAXPoke, iax.IAXPong, iax.IAXRegReq, iax.IAXRegAck, iax.IAXAck, iax.IAXCallToken} {
		f := iaxFrame(fb{src: 0x0333, ts: 1}, sub)
		if wire := l.out("A", f); !bytes.Equal(wire, f) {
			t.Fatalf("%v of no call was not passed untouched", sub)
		}
	}
	// Keep-alives and the HANGUP of an unknown call are a call's: not in clear.
	for _, sub := range []iax.IAXSubclass{iax.IAXPing, iax.IAXLagRq, iax.IAXLagRp, iax.IAXHangup} {
		if wire := l.out("A", iaxFrame(fb{src: callA, dst: callB, ts: 9, oseq: 4, iseq: 4}, sub)); wire != nil {
			t.Fatalf("%v of an unknown call sent in clear", sub)
		}
	}
}

func TestNoDiffieHellmanBeforeAccept(t *testing.T) {
	b := newHost(t, "B", addrB, PolicyOpportunistic)
	cr := &countingReader{}
	b.eng.cfg.Rand = cr
	caller := newHost(t, "A", addrA, PolicyOpportunistic)
	offerWire := caller.eng.Outbound(t0, addrB, newFrame(0), nil).Packet
	marker := markerOf(t, offerWire)
	// A flood of NEWs with markers from many call numbers.
	for i := 1; i <= 5000; i++ {
		f := iaxFrame(fb{src: uint16(i)}, iax.IAXNew, ie(iax.IECalledNumber, "1"), mustIE(t, crypt.MarkerIE, marker))
		b.eng.Inbound(t0, addrA, f, make([]byte, 0, 512))
	}
	if cr.n != 0 {
		t.Fatalf("the callee used %d random bytes (ephemeral keys) before any ACCEPT", cr.n)
	}
	st := b.eng.Stats().Calls
	if st.HalfOpen > iax.DefaultMaxHalfOpen || st.EvictedHalfOpen == 0 {
		t.Fatalf("half-open %d, evicted %d: the cap did not hold", st.HalfOpen, st.EvictedHalfOpen)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += len(p)
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

func mustIE(t testing.TB, id iax.IEID, data []byte) []byte {
	b, err := iax.AppendIE(nil, id, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPolicyOffRelaysUnchanged(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOff), newHost(t, "B", addrB, PolicyOff)
	l := newLink(t, a, b)
	for _, f := range [][]byte{newFrame(0), acceptFrame(5, 0, 1), mini(callA, 1, 160)} {
		if wire := l.mustArrive("A", f); !bytes.Equal(wire, f) {
			t.Fatal("policy off changed a frame")
		}
	}
}

func TestMalformedFrames(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	establish(t, l)
	// A full frame of the encrypted call whose IE length runs past the end.
	bad := iaxFrame(fb{src: callA, dst: callB, ts: 9, oseq: 2, iseq: 1}, iax.IAXDial, []byte{byte(iax.IECalledNumber), 40, '1'})
	if wire := l.out("A", bad); wire != nil && !crypt.IsEncryptedFrame(wire) {
		t.Fatal("a malformed frame of an encrypted call left in clear")
	}
	// Garbage of no call passes untouched in both directions.
	for _, g := range [][]byte{{0x80}, {0x81, 0x01, 0x00}, {0x00, 0x00}} {
		if wire := l.out("A", g); wire != nil && !bytes.Equal(wire, g) {
			t.Fatalf("garbage %x changed", g)
		}
	}
	// A truncated encrypted frame is dropped, not delivered.
	if got := l.in("A", []byte{0, 0, crypt.MetaCommand, 1, 1, 1}); got != nil {
		t.Fatal("truncated encrypted frame delivered")
	}
}

func TestRequirePolicyWithoutOfferRefuses(t *testing.T) {
	a := newHost(t, "A", addrA, PolicyRequire)
	a.eng.cfg.Rand = failingReader{} // no ephemeral key: no offer
	l := newLink(t, a, newHost(t, "B", addrB, PolicyOpportunistic))
	if _, wire := l.send("A", newFrame(0)); hasMarker(wire) {
		t.Fatal("an offer went out without randomness")
	}
	got, _ := l.send("B", acceptFrame(5, 0, 1))
	if sub, _ := mustParse(t, got).IAXSubclass(); sub != iax.IAXReject {
		t.Fatalf("A's application got %v, want REJECT under require", sub)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// A caller whose daemon speaks protocol 1: the call goes on in clear (or
// is refused under require) and status says why.
func TestProtocolOneCaller(t *testing.T) {
	b := newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, &host{name: "A", addr: addrA}, b)
	v1 := []byte{1, crypt.MarkerOffer}
	v1 = append(v1, make([]byte, 66)...)
	l.send("A", newFrame(0, mustIE(t, crypt.MarkerIE, v1)))
	l.mustArrive("B", acceptFrame(5, 0, 1))
	cb := b.call(t, l.now, callB)
	if cb.Status != StatusCleartext || !strings.Contains(cb.Reason, "protocol 1") {
		t.Fatalf("callee %v: %q", cb.Status, cb.Reason)
	}
}
