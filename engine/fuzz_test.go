package engine

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// fuzzPair is two engines with the same identities and ephemeral keys on
// every run (seeded ChaCha8), with one call encrypted both ways: frames
// sealed by a live session in the seed corpus open again when the fuzzer
// replays them.
func fuzzPair(t testing.TB) (*link, *host, *host) {
	mk := func(name string, addr netip.AddrPort, seed byte) *host {
		rng := rand.NewChaCha8([32]byte{seed})
		id, err := crypt.GenerateIdentity(rng)
		if err != nil {
			t.Fatal(err)
		}
		h := &host{name: name, addr: addr}
		h.eng, err = New(Config{Identity: id, Rand: rng})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b := mk("A", addrA, 1), mk("B", addrB, 2)
	l := newLink(t, a, b)
	establish(t, l)
	l.mustArrive("B", mini(callB, 30, 20)) // the caller has seen the callee switch
	return l, a, b
}

// Directions of the fuzz input's datagrams.
const (
	fuzzFromAppA = iota // A's application sends
	fuzzToA             // arrives at A from the network (as if from B)
	fuzzFromAppB        // B's application sends
	fuzzToB             // arrives at B from the network (as if from A)
	numFuzzDirections
)

// FuzzEngine feeds a random sequence of datagrams into both sides of an
// encrypted call: from either application and from the network into
// either daemon, asking for Calls and expiring after each. Nothing may
// panic, no datagram of the encrypted call may leave in clear, and no
// cleartext datagram claiming the call may reach an application.
func FuzzEngine(f *testing.F) {
	l, _, _ := fuzzPair(f)
	seed := func(parts ...[]byte) []byte {
		var in []byte
		for i := 0; i+1 < len(parts); i += 2 {
			in = append(in, parts[i][0], byte(len(parts[i+1])))
			in = append(in, parts[i+1]...)
		}
		return in
	}
	d := func(dir byte) []byte { return []byte{dir} }
	// Frames sealed by the live session, in the order the fuzz body's
	// fresh pair will expect their counters.
	fromB := l.out("B", mini(callB, 50, 20))
	hangupB := l.out("B", iaxFrame(fb{src: callB, dst: callA, ts: 60, oseq: 1, iseq: 2}, iax.IAXHangup))
	textA := l.out("A", full(fb{src: callA, dst: callB, ts: 61, oseq: 2, iseq: 1}, iax.FrameText, 0, []byte("hi")))
	innerNew := l.out("A", iaxFrame(fb{src: callA, ts: 62}, iax.IAXNew))
	tr := iax.TrunkFrame{CmdData: 1, Timestamp: 70, Entries: iax.AppendTrunkEntry(nil, true, iax.TrunkEntry{SrcCall: callA, Timestamp: 70, HasTimestamp: true, Data: []byte{1, 2, 3, 4}})}
	trunkA := l.out("A", tr.AppendTo(nil))
	f.Add(seed(d(fuzzToA), fromB, d(fuzzToA), hangupB, d(fuzzToA), fromB))
	f.Add(seed(d(fuzzToB), textA, d(fuzzToB), innerNew, d(fuzzToB), trunkA))
	f.Add(seed(d(fuzzFromAppA), mini(callA, 0x10, 1), d(fuzzToA), iaxFrame(fb{src: callB, dst: callA, ts: 9, oseq: 1, iseq: 2}, iax.IAXHangup)))
	f.Add(seed(d(fuzzFromAppA), newFrame(0), d(fuzzToB), newFrame(0)))
	f.Add(seed(d(fuzzToA), []byte{0, 0, crypt.MetaCommand, crypt.Version, 0x02, 0x02, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4}))
	f.Add(seed(d(fuzzFromAppB), tr.AppendTo(nil), d(fuzzToB), []byte{0, 0, crypt.TrunkMetaCommand, crypt.Version, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 3}))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, a, b := fuzzPair(t)
		out := make([]byte, 0, 4096)
		now := l.now
		for len(data) >= 2 {
			dir, n := data[0]%numFuzzDirections, int(data[1])
			data = data[2:]
			n = min(n, len(data))
			pkt := data[:n]
			data = data[n:]
			switch dir {
			case fuzzFromAppA:
				checkOutbound(t, a, addrB, callA, now, pkt, out)
			case fuzzFromAppB:
				checkOutbound(t, b, addrA, callB, now, pkt, out)
			case fuzzToA:
				checkInbound(t, a, addrB, callB, now, pkt, out)
			case fuzzToB:
				checkInbound(t, b, addrA, callA, now, pkt, out)
			}
			for _, h := range []*host{a, b} {
				h.eng.TakeInjected(nil)
				h.eng.Calls(now)
				h.eng.Expire(now)
			}
			now = now.Add(200 * time.Millisecond)
		}
	})
}

// checkOutbound: a frame of h's encrypted call (local number local) from
// its application never leaves in clear.
func checkOutbound(t *testing.T, h *host, peer netip.AddrPort, local uint16, now time.Time, pkt, out []byte) {
	encrypted := encryptedCall(h, now, local)
	r := h.eng.Outbound(now, peer, pkt, out)
	src, ok := iax.PeekSrcCall(pkt)
	if !ok || src != local || !encrypted || r.Verdict != Forward || isSealed(r.Packet) || hasMarker(r.Packet) {
		return
	}
	k, err := iax.Classify(pkt)
	if err != nil || k == iax.KindMeta || k == iax.KindTrunk {
		return
	}
	// A NEW without the R bit from the application starts a new call even
	// with the number of an answered one (the application restarted).
	if f, err := iax.ParseFull(pkt); err == nil && !f.Retransmit {
		if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXNew {
			return
		}
	}
	t.Fatalf("%s: a frame of the encrypted call left in clear: in %x out %x", h.name, pkt, r.Packet)
}

// checkInbound: no cleartext frame claiming h's encrypted call (the peer's
// number remote) reaches the application.
func checkInbound(t *testing.T, h *host, peer netip.AddrPort, remote uint16, now time.Time, pkt, out []byte) {
	encrypted := encryptedCall(h, now, 0) // any live encrypted call with the peer
	r := h.eng.Inbound(now, peer, pkt, out)
	src, ok := iax.PeekSrcCall(pkt)
	if !ok || src != remote || !encrypted || r.Verdict != Forward || isSealed(pkt) || hasMarker(pkt) {
		return
	}
	k, err := iax.Classify(pkt)
	if err != nil || k == iax.KindMeta || k == iax.KindTrunk {
		return
	}
	if f, err := iax.ParseFull(pkt); err == nil && f.Type == iax.FrameIAX && now.Sub(t0) < switchGrace {
		// IAX signalling the peer provably sent before it switched (its
		// sequence numbers say so) is taken for a few seconds.
		return
	}
	t.Fatalf("%s: a cleartext frame claiming the encrypted call reached the application: %x", h.name, pkt)
}

// encryptedCall reports whether h has a live encrypted call with local
// number local (0: any).
func encryptedCall(h *host, now time.Time, local uint16) bool {
	for _, ci := range h.eng.Calls(now) {
		if ci.Ended.IsZero() && ci.Status == StatusEncrypted && (local == 0 || ci.LocalCall == local) {
			return true
		}
	}
	return false
}
