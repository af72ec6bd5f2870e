package attacker

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

func TestPassFollowsTheCall(t *testing.T) {
	r := newRig(t, Settings{Mode: ModePass})
	r.establish()
	r.talk(10)
	c := r.atk.Counters(r.now)
	want := CallCounters{Caller: addrA.String(), Callee: addrB.String(), CallerCall: callA, CalleeCall: callB,
		MarkerVersion: crypt.Version, News: 1, Accepts: 1, SealedFromCaller: 11, SealedFromCallee: 10}
	if c.Call != want {
		t.Fatalf("call counters\n%+v\nwant\n%+v", c.Call, want)
	}
	if c.Packets != 23 || c.Dropped != 0 || c.CallsSeen != 1 {
		t.Fatalf("packets %d dropped %d", c.Packets, c.Dropped)
	}
	if ca, cb := r.call(r.a), r.call(r.b); ca.Status != engine.StatusEncrypted || ca.SAS != cb.SAS {
		t.Fatalf("untouched call: A %v %v, B %v %v", ca.Status, ca.SAS, cb.Status, cb.SAS)
	}
}

func TestStripModes(t *testing.T) {
	for _, tt := range []struct {
		mode Mode
		sub  iax.IAXSubclass
		// to is the host whose engine gets the stripped frame.
		to netip.AddrPort
	}{
		{ModeStripNew, iax.IAXNew, addrB},
		{ModeStripAccept, iax.IAXAccept, addrA},
	} {
		t.Run(string(tt.mode), func(t *testing.T) {
			r := newRig(t, Settings{Mode: tt.mode})
			r.establish()
			var stripped []byte
			for _, pkt := range r.wire {
				d, _ := parseDatagram(pkt)
				if f, err := iax.ParseFull(d.Payload); err == nil && d.Dst == tt.to {
					if s, ok := f.IAXSubclass(); ok && s == tt.sub {
						stripped = d.Payload
					}
				}
			}
			if stripped == nil {
				t.Fatalf("no %v reached %v", tt.sub, tt.to)
			}
			if hasMarker(stripped) {
				t.Fatalf("%v reached %v with its marker", tt.sub, tt.to)
			}
			c := r.atk.Counters(r.now)
			n := c.StrippedNew + c.StrippedAccept
			if n != 1 {
				t.Fatalf("stripped %d frames, want 1", n)
			}
			// The call cannot be encrypted on both sides any more.
			if r.call(r.a).Status == engine.StatusEncrypted && r.call(r.b).Status == engine.StatusEncrypted {
				t.Fatal("both engines encrypted after the marker was stripped")
			}
		})
	}
}

func hasMarker(frame []byte) bool {
	f, err := iax.ParseFull(frame)
	if err != nil {
		return false
	}
	_, ok := markerOf(&f)
	return ok
}

// TestMITM: both hosts complete a handshake, each with one of the
// attacker's engines; their SAS values differ and match the attacker's
// legs, and the applications still talk through it.
func TestMITM(t *testing.T) {
	r := newRig(t, Settings{Mode: ModeMITM})
	r.establish()
	ca, cb := r.call(r.a), r.call(r.b)
	if ca.Status != engine.StatusEncrypted || cb.Status != engine.StatusEncrypted {
		t.Fatalf("A %v, B %v: want both encrypted", ca.Status, cb.Status)
	}
	if ca.SAS == cb.SAS {
		t.Fatalf("A and B show the same SAS %v through a man in the middle", ca.SAS)
	}
	m := r.atk.Counters(r.now).MITM
	if m == nil || m.SASWithCaller != ca.SAS.String() || m.SASWithCallee != cb.SAS.String() {
		t.Fatalf("attacker legs %+v; A shows %v, B shows %v", m, ca.SAS, cb.SAS)
	}
	if ca.PeerIdentity.Fingerprint() != m.Identity1 || cb.PeerIdentity.Fingerprint() != m.Identity2 {
		t.Fatalf("peer identities A %v B %v, attacker's %s %s", ca.PeerIdentity, cb.PeerIdentity, m.Identity1, m.Identity2)
	}
	before := len(r.toApp[addrB])
	voice := miniFrame(callA, 500)
	r.send(addrA, voice)
	if got := r.toApp[addrB]; len(got) != before+1 || !bytes.Equal(got[len(got)-1], voice) {
		t.Fatal("A's voice did not reach B's application through the man in the middle")
	}
	r.send(addrB, miniFrame(callB, 500))
	for _, pkt := range r.wire[len(r.wire)-2:] {
		d, _ := parseDatagram(pkt)
		if !isSealedFrame(d.Payload) {
			t.Fatalf("voice crossed in clear: %x", d.Payload)
		}
	}
}

// TestReplayMode: every duplicate and replayed copy is one the receiving
// engine has opened before, so it must count exactly that many replay
// drops; the reordered frames, seen once, all arrive.
func TestReplayMode(t *testing.T) {
	r := newRig(t, Settings{Mode: ModeReplay})
	r.establish()
	r.talk(200)
	r.tick(time.Second) // releases a frame still held back
	c := r.atk.Counters(r.now)
	if c.Duplicated == 0 || c.Replayed == 0 || c.Reordered == 0 {
		t.Fatalf("counters %+v: want duplicates, replays and reorders", c)
	}
	replays := r.a.Stats().Dropped[engine.DropReplay] + r.b.Stats().Dropped[engine.DropReplay]
	if replays != c.Duplicated+c.Replayed {
		t.Fatalf("engines dropped %d replays, attacker sent %d duplicates and %d replays", replays, c.Duplicated, c.Replayed)
	}
	for _, host := range []netip.AddrPort{addrA, addrB} {
		seen := map[string]bool{}
		minis := 0
		for _, f := range r.toApp[host] {
			if k, _ := iax.Classify(f); k != iax.KindMini {
				continue
			}
			if seen[string(f)] {
				t.Fatalf("%v's application got a frame twice", host)
			}
			seen[string(f)] = true
			minis++
		}
		if minis != 200 {
			t.Fatalf("%v's application got %d voice frames, want 200", host, minis)
		}
	}
}

// TestBitFlipMode: each tampered copy goes ahead of its original; the
// engine drops every copy and still takes every original.
func TestBitFlipMode(t *testing.T) {
	r := newRig(t, Settings{Mode: ModeBitFlip, FlipEvery: 3})
	r.establish()
	r.talk(120)
	c := r.atk.Counters(r.now)
	for _, f := range SealedFields() {
		if c.Flipped[f.String()] == 0 {
			t.Fatalf("no copy with a flipped %v: %v", f, c.Flipped)
		}
	}
	var drops uint64
	for _, e := range []*engine.Engine{r.a, r.b} {
		st := e.Stats()
		for _, n := range st.Dropped {
			drops += n
		}
		if st.Dropped[engine.DropReplay] != 0 {
			t.Fatalf("an original was dropped as a replay after its tampered copy: %v", st.Dropped)
		}
	}
	if drops != c.FlippedTotal() {
		t.Fatalf("engines dropped %d, attacker flipped %d", drops, c.FlippedTotal())
	}
	for _, host := range []netip.AddrPort{addrA, addrB} {
		minis := 0
		for _, f := range r.toApp[host] {
			if k, _ := iax.Classify(f); k == iax.KindMini {
				minis++
			}
		}
		if minis != 120 {
			t.Fatalf("%v's application got %d voice frames, want 120", host, minis)
		}
	}
}

// TestInjectMode: after both sides have sent InjectAfter encrypted frames,
// rounds of forged cleartext frames go both ways, each carrying the tag,
// with the call's numbers; engines that have switched drop them all.
func TestInjectMode(t *testing.T) {
	r := newRig(t, Settings{Mode: ModeInject, InjectAfter: 5, InjectRounds: 2, InjectIntervalMS: 100})
	r.establish()
	r.talk(4)
	if n := r.tick(time.Second); n != 0 {
		t.Fatalf("%d packets forged before %d encrypted frames each way", n, 5)
	}
	r.talk(2)
	if n := r.tick(0); n != 4 { // round 1: mini and text each way
		t.Fatalf("first round: %d packets, want 4", n)
	}
	if n := r.tick(50 * time.Millisecond); n != 0 {
		t.Fatalf("%d packets before the second round", n)
	}
	if n := r.tick(50 * time.Millisecond); n != 6 { // round 2 adds the HANGUPs
		t.Fatalf("second round: %d packets, want 6", n)
	}
	c := r.atk.Counters(r.now)
	if c.InjectedTotal() != 10 || c.Injected["hangup/to-callee"] != 1 || c.Injected["hangup/to-caller"] != 1 {
		t.Fatalf("injected %v", c.Injected)
	}
	for _, pkt := range r.wire[len(r.wire)-10:] {
		d, _ := parseDatagram(pkt)
		if !bytes.Contains(d.Payload, []byte(InjectedTag)) {
			t.Fatalf("forged frame without the tag: %x", d.Payload)
		}
		src, _ := iax.PeekSrcCall(d.Payload)
		if (d.Src == addrA && src != callA) || (d.Src == addrB && src != callB) {
			t.Fatalf("forged frame from %v with call number %d", d.Src, src)
		}
	}
	for host, frames := range r.toApp {
		for _, f := range frames {
			if bytes.Contains(f, []byte(InjectedTag)) {
				t.Fatalf("a forged frame reached %v's application: %x", host, f)
			}
		}
	}
}

// TestWithholdInjectMode: the caller's encrypted frames are dropped for the
// window, the callee's pass, and three rounds of forged frames go to the
// callee inside the window, the last with a HANGUP.
func TestWithholdInjectMode(t *testing.T) {
	r := newRig(t, Settings{Mode: ModeWithholdInject, WithholdMS: 400})
	r.establish() // the caller's ACK is its first encrypted frame: withheld
	forged := 0
	for i := 0; i < 30; i++ { // 600 ms of voice
		r.send(addrA, miniFrame(callA, uint16(i)))
		r.send(addrB, miniFrame(callB, uint16(i)))
		forged += r.tick(20 * time.Millisecond)
	}
	c := r.atk.Counters(r.now)
	if c.Withheld != 21 { // the ACK and 20 voice frames of the first 400 ms
		t.Fatalf("withheld %d, want 21", c.Withheld)
	}
	if forged != 7 || c.Injected["mini/to-callee"] != 3 || c.Injected["text/to-callee"] != 3 || c.Injected["hangup/to-callee"] != 1 {
		t.Fatalf("forged %d packets: %v", forged, c.Injected)
	}
	if c.Call.SealedFromCaller != 31 {
		t.Fatalf("sealed frames seen: %+v", c.Call)
	}
}

// TestFloodMode: the NEWs start with the target's NEW and hold its ACCEPT
// back until they are out; the ACCEPTs start once the call's encrypted
// frames flow both ways; every packet comes from the spoof prefix, and
// answers to spoofed sources are dropped.
func TestFloodMode(t *testing.T) {
	const news, accepts, rate = 500, 300, 10_000
	r := newRig(t, Settings{Mode: ModeFlood, FloodTarget: addrA.String(), FloodNews: news, FloodAccepts: accepts, FloodRate: rate})
	if n := r.tick(time.Second); n != 0 {
		t.Fatalf("%d flood packets before the target's NEW", n)
	}
	r.send(addrA, newFrame())
	if n := r.send(addrB, acceptFrame()); n != 0 {
		t.Fatal("the ACCEPT to the target was not held back during the NEW flood")
	}
	sent := 0
	for i := 0; i < 100 && r.atk.Counters(r.now).FloodNews < news; i++ {
		sent += r.tick(2 * time.Millisecond)
	}
	c := r.atk.Counters(r.now)
	if c.FloodNews != news || c.FloodHeldAccepts != 1 || c.FloodAccepts != 0 {
		t.Fatalf("after the NEWs: %+v", c)
	}
	if sent != news+1 { // the NEWs, then the held ACCEPT
		t.Fatalf("sent %d packets, want %d NEWs and the ACCEPT", sent, news)
	}
	if r.callNumbered(r.a, callA).Status != engine.StatusEncrypted {
		t.Fatal("the held ACCEPT never reached A")
	}
	r.send(addrA, fullFrame(callA, callB, 6, 1, 1, iax.FrameIAX, uint8(iax.IAXAck), nil))
	r.talk(acceptsAfterSealed)
	for i := 0; i < 100 && !r.atk.Counters(r.now).FloodDone; i++ {
		r.tick(2 * time.Millisecond)
	}
	c = r.atk.Counters(r.now)
	if !c.FloodDone || c.FloodAccepts != accepts {
		t.Fatalf("after the ACCEPTs: %+v", c)
	}
	prefix := netip.MustParsePrefix(DefaultSpoofPrefix)
	sources := map[netip.AddrPort]bool{}
	for _, pkt := range r.wire {
		d, _ := parseDatagram(pkt)
		if d.Src == addrB || d.Src == addrA {
			continue
		}
		if !prefix.Contains(d.Src.Addr()) || d.Dst != addrA {
			t.Fatalf("flood packet %v -> %v", d.Src, d.Dst)
		}
		sources[d.Src] = true
	}
	if len(sources) < (news+accepts)*9/10 {
		t.Fatalf("%d distinct sources for %d packets", len(sources), news+accepts)
	}
	// A's answer to a spoofed source is dropped.
	var spoofed netip.AddrPort
	for s := range sources {
		spoofed = s
		break
	}
	reply, _ := BuildUDP(addrA, spoofed, fullFrame(1, 2, 0, 0, 1, iax.FrameIAX, uint8(iax.IAXReject), nil))
	if out := r.atk.Handle(r.now, reply); len(out) != 0 || r.atk.Counters(r.now).RepliesToSpoofed != 1 {
		t.Fatal("an answer to a spoofed source was passed on")
	}
}

func TestSetRejectsBadSettings(t *testing.T) {
	a := New(Config{})
	for _, s := range []Settings{
		{Mode: "nonsense"},
		{Mode: ModeFlood, FloodTarget: "not an address"},
		{Mode: ModeFlood, FloodTarget: "[::1]:4569"},
		{Mode: ModeFlood, FloodTarget: "10.0.0.1:4569", FloodNews: MaxFloodPackets, FloodAccepts: 1},
		{Mode: ModeFlood, FloodTarget: "10.0.0.1:4569", FloodRate: MaxFloodRate + 1},
		{Mode: ModeReplay, ReplayDistance: replayRing + 1},
		{Mode: ModePass, SpoofPrefix: "fd00::/8"},
	} {
		if err := a.Set(s); err == nil {
			t.Errorf("Set(%+v) accepted", s)
		}
	}
	if c := a.Counters(t0); c.Mode != ModePass {
		t.Fatalf("a rejected Set changed the mode to %q", c.Mode)
	}
}

// TestNotIAXPassesUnchanged: packets that are not IAX2 between the hosts
// leave byte for byte as they came.
func TestNotIAXPassesUnchanged(t *testing.T) {
	a := New(Config{})
	if err := a.Set(Settings{Mode: ModeBitFlip, FlipEvery: 1}); err != nil {
		t.Fatal(err)
	}
	dns, _ := BuildUDP(addrA, netip.MustParseAddrPort("10.77.2.1:53"), []byte{1})
	for _, pkt := range [][]byte{{0x45, 0, 0}, dns} {
		out := a.Handle(t0, pkt)
		if len(out) != 1 || !bytes.Equal(out[0], pkt) {
			t.Fatalf("%x came out as %x", pkt, out)
		}
	}
}

// TestFloodSilentNews: a silent NEW still carries an offer the daemon
// finds (so it tracks a half-open call), while its IE list as a whole does
// not parse (so libiax2 drops it without an answer).
func TestFloodSilentNews(t *testing.T) {
	a := New(Config{Seed: 1})
	if err := a.Set(Settings{Mode: ModeFlood, FloodTarget: addrB.String(), FloodNews: 1, FloodSilentNews: true}); err != nil {
		t.Fatal(err)
	}
	_, frame := a.flood.spoofedNew()
	f, err := iax.ParseFull(frame)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := markerOf(&f); !ok {
		t.Fatal("silent NEW: the daemon would find no offer")
	} else if _, err := crypt.ParseOffer(m); err != nil {
		t.Fatalf("silent NEW's offer: %v", err)
	}
	if err := iax.ValidateIEs(f.Payload); err == nil {
		t.Fatal("silent NEW's IEs parse as a whole; iaxmodem would answer it")
	}
	e := newEngine(t)
	res := e.Inbound(t0, netip.MustParseAddrPort("10.99.0.1:5000"), frame, make([]byte, 0, 2048))
	if res.Verdict != engine.Forward || len(e.Calls(t0)) != 1 || e.Calls(t0)[0].Status != engine.StatusNegotiating {
		t.Fatalf("engine: %v, calls %+v", res.Verdict, e.Calls(t0))
	}
}
