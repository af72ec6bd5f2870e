package engine

import (
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// asteriskCall runs chan_iax2's call set-up between two engines, as the
// captures in iax/testdata/captures/asterisk22 show it: the first NEW is
// answered with a CALLTOKEN from the placeholder call number 1, the NEW
// comes back with the token, and the callee's real number (calleeCall)
// first appears in the AUTHREQ; then MD5 authentication and ACCEPT.
func asteriskCall(t *testing.T, l *link, callerCall, calleeCall uint16) {
	t.Helper()
	nw := func(token string) []byte {
		return iaxFrame(fb{src: callerCall, ts: 6}, iax.IAXNew, ie(iax.IEVersion, "\x00\x02"), ie(iax.IECalledNumber, "200B"),
			ie(iax.IEUsername, "pbxA"), ie(iax.IECallToken, token))
	}
	l.mustArrive("A", nw(""))
	l.mustArrive("B", iaxFrame(fb{src: 1, dst: callerCall, ts: 6, oseq: 0, iseq: 1}, iax.IAXCallToken, ie(iax.IECallToken, "1764500000?0123abcd")))
	l.mustArrive("A", nw("1764500000?0123abcd"))
	l.mustArrive("B", iaxFrame(fb{src: calleeCall, dst: callerCall, ts: 7, oseq: 0, iseq: 1}, iax.IAXAuthReq,
		ie(iax.IEAuthMethods, "\x00\x02"), ie(iax.IEChallenge, "123456789"), ie(iax.IEUsername, "pbxA")))
	l.mustArrive("A", iaxFrame(fb{src: callerCall, dst: calleeCall, ts: 8, oseq: 1, iseq: 1}, iax.IAXAuthRep, ie(iax.IEMD5Result, "0123456789abcdef0123456789abcdef")))
	l.mustArrive("B", iaxFrame(fb{src: calleeCall, dst: callerCall, ts: 8, oseq: 1, iseq: 2}, iax.IAXAccept, ie(iax.IEFormat, "\x00\x00\x00\x04")))
	l.mustArrive("A", iaxFrame(fb{src: callerCall, dst: calleeCall, ts: 8, oseq: 2, iseq: 2}, iax.IAXAck))
}

func TestAsteriskCallFlowEncryptedWithRealCallNumbers(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	const caller, callee = 26044, 7778
	asteriskCall(t, l, caller, callee)
	switchAt := len(l.wire)
	for i := range 50 {
		l.mustArrive("B", mini(callee, uint16(40+20*i), 160))
		l.mustArrive("A", mini(caller, uint16(40+20*i), 160))
	}
	l.mustArrive("B", iaxFrame(fb{src: callee, dst: caller, ts: 2000, oseq: 2, iseq: 3}, iax.IAXLagRq))
	l.mustArrive("A", iaxFrame(fb{src: caller, dst: callee, ts: 2000, oseq: 3, iseq: 3}, iax.IAXLagRp))
	l.mustArrive("A", iaxFrame(fb{src: caller, dst: callee, ts: 2001, oseq: 4, iseq: 3}, iax.IAXPing))
	l.mustArrive("B", iaxFrame(fb{src: callee, dst: caller, ts: 2001, oseq: 3, iseq: 5}, iax.IAXPong))
	l.mustArrive("B", iaxFrame(fb{src: callee, dst: caller, ts: 2002, oseq: 4, iseq: 5}, iax.IAXVNAK))
	assertNoCleartextAfter(t, l, "A", switchAt)
	assertNoCleartextAfter(t, l, "B", switchAt)
	ca, cb := a.call(t, l.now, caller), b.call(t, l.now, callee)
	if ca.RemoteCall != callee || cb.RemoteCall != caller {
		t.Fatalf("call numbers: caller knows the callee as %d, callee knows the caller as %d", ca.RemoteCall, cb.RemoteCall)
	}
	if !ca.Encrypted || !cb.Encrypted || ca.SAS != cb.SAS || ca.Dropped+cb.Dropped != 0 {
		t.Fatalf("caller %+v\ncallee %+v", ca, cb)
	}
}

// A call, its HANGUP, and a new call with the same call numbers a second
// later: both encrypted (an application that restarts numbers its calls
// from 1 again).
func TestCallNumberReuseAfterHangup(t *testing.T) {
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	l := newLink(t, a, b)
	var sas [2]crypt.SAS
	for i := range 2 {
		establish(t, l)
		l.mustArrive("A", mini(callA, 30, 160))
		if wire := l.mustArrive("B", mini(callB, 30, 160)); !crypt.IsEncryptedFrame(wire) {
			t.Fatalf("call %d: voice in clear", i)
		}
		ca, cb := a.call(t, l.now, callA), b.call(t, l.now, callB)
		for _, c := range a.eng.Calls(l.now) {
			if c.Ended.IsZero() {
				ca = c
			}
		}
		for _, c := range b.eng.Calls(l.now) {
			if c.Ended.IsZero() {
				cb = c
			}
		}
		if ca.Status != StatusEncrypted || cb.Status != StatusEncrypted || ca.SAS != cb.SAS {
			t.Fatalf("call %d: caller %v callee %v", i, ca.Status, cb.Status)
		}
		sas[i] = ca.SAS
		l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 100, oseq: 2, iseq: 1}, iax.IAXHangup))
		l.mustArrive("B", iaxFrame(fb{src: callB, dst: callA, ts: 101, oseq: 1, iseq: 3}, iax.IAXAck))
		l.tick(time.Second)
	}
	if sas[0] == sas[1] {
		t.Fatal("the second call reused the first call's keys")
	}
}

// Asterisk's own encryption (encryption=aes128 on both peers) encrypts
// every frame past the call numbers from the AUTHREQ on: the ACCEPT cannot
// carry an answer. The call completes in clear as far as iaxcrypt goes,
// says why, and nothing of it is dropped; under require it is refused.
func TestAsteriskOwnEncryptionPassesThrough(t *testing.T) {
	for _, policy := range []Policy{PolicyOpportunistic, PolicyRequire} {
		t.Run(policy.String(), func(t *testing.T) {
			a, b := newHost(t, "A", addrA, policy), newHost(t, "B", addrB, PolicyOpportunistic)
			l := newLink(t, a, b)
			const caller, callee = 100, 200
			l.mustArrive("A", iaxFrame(fb{src: caller, ts: 6}, iax.IAXNew, ie(iax.IECalledNumber, "200B"), ie(iax.IEEncryption, "\x00\x01")))
			authreq := iaxFrame(fb{src: callee, dst: caller, ts: 7, oseq: 0, iseq: 1}, iax.IAXAuthReq,
				ie(iax.IEAuthMethods, "\x00\x02"), ie(iax.IEChallenge, "123456789"), ie(iax.IEEncryption, "\x00\x01"))
			got, _ := l.send("B", authreq)
			if policy == PolicyRequire {
				if f, err := iax.ParseFull(got); err != nil || f.Subclass != uint8(iax.IAXReject) {
					t.Fatalf("caller's application got %x, want a REJECT", got)
				}
				if ca := a.call(t, l.now, caller); ca.Status != StatusFailed {
					t.Fatalf("caller %v, want failed", ca.Status)
				}
				return
			}
			// AES-encrypted full frames: clear call numbers, the rest
			// random-looking; some decode as a HANGUP or NEW.
			for i, sub := range []byte{byte(iax.IAXHangup), byte(iax.IAXNew), byte(iax.IAXAccept), 0x77} {
				opaque := []byte{0x80 | callee>>8, callee & 0xff, caller >> 8, caller & 0xff, 0x12, 0x34, 0x56, byte(i), 0x9a, 0xbc, byte(iax.FrameIAX), sub, 0xde, 0xad}
				l.mustArrive("B", opaque)
				opaque[0], opaque[1], opaque[2], opaque[3] = 0x80|caller>>8, caller&0xff, callee>>8, callee&0xff
				l.mustArrive("A", opaque)
			}
			for i := range 20 {
				l.mustArrive("A", []byte{caller >> 8, caller & 0xff, byte(i), 0x55, 0x66, 0x77})
				l.mustArrive("B", []byte{callee >> 8, callee & 0xff, byte(i), 0x55, 0x66, 0x77})
			}
			l.tick(90 * time.Second) // past the half-open timeout: the call is still followed
			a.eng.Expire(l.now)
			b.eng.Expire(l.now)
			l.mustArrive("A", []byte{caller >> 8, caller & 0xff, 1, 2, 3, 4})
			for _, h := range []*host{a, b} {
				cs := h.eng.Calls(l.now)
				if len(cs) != 1 || cs[0].Status != StatusCleartext || cs[0].Dropped != 0 || cs[0].Reason == "" {
					t.Fatalf("%s: %+v", h.name, cs)
				}
			}
		})
	}
}
