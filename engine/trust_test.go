package engine

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// memTrust is a Trust in memory: the known-peers store and the per-peer
// configuration reduced to maps.
type memTrust struct {
	policy    map[netip.Addr]Policy
	pinned    map[netip.Addr]crypt.PublicKey
	known     map[netip.Addr]crypt.PublicKey
	encrypted map[netip.Addr]bool
	users     []string
}

func newMemTrust() *memTrust {
	return &memTrust{policy: map[netip.Addr]Policy{}, pinned: map[netip.Addr]crypt.PublicKey{},
		known: map[netip.Addr]crypt.PublicKey{}, encrypted: map[netip.Addr]bool{}}
}

func (m *memTrust) PeerPolicy(peer netip.AddrPort, user string) (Policy, *crypt.PublicKey, bool) {
	m.users = append(m.users, user)
	p, ok := m.policy[peer.Addr()]
	var pin *crypt.PublicKey
	if k, found := m.pinned[peer.Addr()]; found {
		pin, ok = &k, true
	}
	return p, pin, ok
}

func (m *memTrust) CheckIdentity(peer netip.AddrPort, _ string, id crypt.PublicKey) IdentityCheck {
	k, ok := m.known[peer.Addr()]
	switch {
	case !ok:
		return IdentityNew
	case k == id:
		return IdentityKnown
	}
	return IdentityChanged
}

func (m *memTrust) EncryptedBefore(peer netip.AddrPort, _ string) bool {
	return m.encrypted[peer.Addr()]
}

func (m *memTrust) NoteCall(peer netip.AddrPort, _ string, id crypt.PublicKey, encrypted bool, _ time.Time) {
	if encrypted {
		m.known[peer.Addr()], m.encrypted[peer.Addr()] = id, true
	}
}

func withTrust(h *host, tr Trust) *host {
	h.eng.cfg.Trust = tr
	return h
}

func otherKey(t *testing.T) crypt.PublicKey {
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id.Public()
}

func TestTrustIdentityChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		pin    bool
	}{
		{"known peer, opportunistic", PolicyOpportunistic, false},
		{"known peer, require", PolicyRequire, false},
		{"pinned peer, opportunistic", PolicyOpportunistic, true},
		{"pinned peer, require", PolicyRequire, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Both sides remember another key for the other (a man in the
			// middle with his own key looks like this).
			ta, tb := newMemTrust(), newMemTrust()
			if tc.pin {
				ta.pinned[addrB.Addr()], tb.pinned[addrA.Addr()] = otherKey(t), otherKey(t)
				ta.policy[addrB.Addr()], tb.policy[addrA.Addr()] = tc.policy, tc.policy
			} else {
				ta.known[addrB.Addr()], tb.known[addrA.Addr()] = otherKey(t), otherKey(t)
			}
			a := withTrust(newHost(t, "A", addrA, tc.policy), ta)
			b := withTrust(newHost(t, "B", addrB, tc.policy), tb)
			l := newLink(t, a, b)
			l.mustArrive("A", newFrame(0))
			got, _ := l.send("B", acceptFrame(5, 0, 1))
			ca := a.call(t, l.now, callA)
			if ca.Warning != WarnIdentityChanged || !hasEvent(a.events, EventWarning) {
				t.Fatalf("caller: warning %q, want identity_changed and an event", ca.Warning)
			}
			if tc.policy == PolicyRequire {
				if f, err := iax.ParseFull(got); err != nil || f.Subclass != uint8(iax.IAXReject) || ca.Status != StatusFailed {
					t.Fatalf("under require the caller got %x, status %v; want a REJECT", got, ca.Status)
				}
				return
			}
			if ca.Status != StatusEncrypted {
				t.Fatalf("caller %v, want encrypted (flagged)", ca.Status)
			}
			l.mustArrive("A", iaxFrame(fb{src: callA, dst: callB, ts: 6, oseq: 1, iseq: 1}, iax.IAXAck))
			if cb := b.call(t, l.now, callB); cb.Warning != WarnIdentityChanged || cb.Status != StatusEncrypted {
				t.Fatalf("callee %+v", cb)
			}
		})
	}
}

func TestTrustRemembersAndFlagsDowngrade(t *testing.T) {
	ta := newMemTrust()
	a := withTrust(newHost(t, "A", addrA, PolicyOpportunistic), ta)
	l := newLink(t, a, newHost(t, "B", addrB, PolicyOpportunistic))
	establish(t, l)
	if ta.known[addrB.Addr()] != l.b.eng.Identity() {
		t.Fatal("the peer's identity was not remembered")
	}
	// The next call with the same peer meets a host without iaxcrypt (or
	// an attacker who strips the marker): flagged.
	l.b = &host{name: "B", addr: addrB}
	l.send("A", newFrame(0))
	l.mustArrive("B", acceptFrame(5, 0, 1))
	for _, ci := range a.eng.Calls(l.now) {
		if ci.Ended.IsZero() && (ci.Status != StatusCleartext || ci.Warning != WarnDowngradeSuspected) {
			t.Fatalf("second call %+v, want cleartext flagged downgrade_suspected", ci)
		}
	}
}

func TestTrustPerPeerPolicy(t *testing.T) {
	ta := newMemTrust()
	ta.policy[addrB.Addr()] = PolicyRequire
	a := withTrust(newHost(t, "A", addrA, PolicyOpportunistic), ta)
	l := newLink(t, a, &host{name: "B", addr: addrB})
	l.send("A", newFrame(0))
	got, _ := l.send("B", acceptFrame(5, 0, 1))
	if f, err := iax.ParseFull(got); err != nil || f.Subclass != uint8(iax.IAXReject) {
		t.Fatalf("a peer set to require was not refused: %x", got)
	}
	if len(ta.users) == 0 || ta.users[0] != "" {
		t.Fatalf("peer named by %q: an outgoing call without USERNAME names the peer by its address only", ta.users)
	}
	// A peer set to off: the NEW leaves as the application sent it.
	tb := newMemTrust()
	tb.policy[addrB.Addr()] = PolicyOff
	a2 := withTrust(newHost(t, "A", addrA, PolicyRequire), tb)
	l2 := newLink(t, a2, &host{name: "B", addr: addrB})
	if _, wire := l2.send("A", newFrame(0)); hasMarker(wire) {
		t.Fatal("an offer was made to a peer set to off")
	}
}

// The SAS played into the call: each side's application hears it in place
// of the peer's first voice frames, then the peer's voice again.
func TestSASAudioReplacesFirstVoiceFrames(t *testing.T) {
	var rendered []crypt.SAS
	render := func(sas crypt.SAS, codec Codec) [][]byte {
		rendered = append(rendered, sas)
		if codec != CodecULaw {
			t.Errorf("codec %v, want µ-law", codec)
		}
		return [][]byte{bytes.Repeat([]byte{0x11}, 160), bytes.Repeat([]byte{0x22}, 160)}
	}
	a, b := newHost(t, "A", addrA, PolicyOpportunistic), newHost(t, "B", addrB, PolicyOpportunistic)
	a.eng.cfg.SASAudio, b.eng.cfg.SASAudio = render, render
	l := newLink(t, a, b)
	establish(t, l) // ACCEPT with FORMAT µ-law
	want := [][]byte{bytes.Repeat([]byte{0x11}, 160), bytes.Repeat([]byte{0x22}, 160), bytes.Repeat([]byte{0xd5}, 160)}
	for i, w := range want {
		got, _ := l.send("B", mini(callB, uint16(100+20*i), 160))
		if !bytes.Equal(got[iax.MiniHeaderLen:], w) {
			t.Fatalf("A's application heard frame %d as %x…, want %x…", i, got[4:8], w[:4])
		}
	}
	got, _ := l.send("A", mini(callA, 100, 160))
	if !bytes.Equal(got[iax.MiniHeaderLen:], want[0]) {
		t.Fatal("B's application did not hear the SAS")
	}
	if len(rendered) != 2 || rendered[0] != rendered[1] {
		t.Fatalf("rendered %v: want the same SAS once on each side", rendered)
	}
}
