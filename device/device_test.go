package device

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

const appPort = 4569

var (
	appA  = netip.MustParseAddr("10.0.0.1")
	appB  = netip.MustParseAddr("10.0.0.2")
	sockA = netip.MustParseAddrPort("10.0.0.1:4570")
	sockB = netip.MustParseAddrPort("10.0.0.2:4570")
)

// fakeEngine forwards everything unchanged, counts Expire calls and hands
// out whatever the test queued as injected.
type fakeEngine struct {
	mu       sync.Mutex
	injected []engine.Packet
	expires  atomic.Int64
	dropAll  atomic.Bool
}

func (e *fakeEngine) Outbound(now time.Time, peer netip.AddrPort, frame, out []byte) engine.Result {
	if e.dropAll.Load() {
		return engine.Result{Verdict: engine.Drop}
	}
	return engine.Result{Verdict: engine.Forward, Packet: frame}
}

func (e *fakeEngine) Inbound(now time.Time, peer netip.AddrPort, pkt, out []byte) engine.Result {
	if e.dropAll.Load() {
		return engine.Result{Verdict: engine.Drop}
	}
	// Copy into out, as a decrypting engine would.
	return engine.Result{Verdict: engine.Forward, Packet: append(out[:0], pkt...)}
}

func (e *fakeEngine) TakeInjected(dst []engine.Packet) []engine.Packet {
	e.mu.Lock()
	defer e.mu.Unlock()
	dst = append(dst, e.injected...)
	e.injected = nil
	return dst
}

func (e *fakeEngine) Expire(time.Time) { e.expires.Add(1) }

func (e *fakeEngine) inject(p engine.Packet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.injected = append(e.injected, p)
}

func realEngine(t testing.TB) *engine.Engine {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// side is one host of a back-to-back test: its TUN and its device.
type side struct {
	tun *chanTUN
	dev *Device
}

// pair starts two devices connected by an in-memory network and checks at
// cleanup that closing them leaves no goroutine behind.
func pair(t testing.TB, engA, engB Engine) (a, b side, mn *memNet) {
	t.Helper()
	before := runtime.NumGoroutine()
	mn = &memNet{}
	mk := func(eng Engine, sock netip.AddrPort) side {
		tn := newChanTUN(4)
		d, err := New(Config{TUN: tn, Conn: mn.listen(sock), Engine: eng, AppPort: appPort, ExpireInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return side{tn, d}
	}
	a, b = mk(engA, sockA), mk(engB, sockB)
	t.Cleanup(func() {
		for _, s := range []side{a, b} {
			if err := s.dev.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
	})
	return a, b, mn
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func appPacket(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	t.Helper()
	b := make([]byte, HeaderLen(src.Addr())+len(payload))
	n, err := BuildUDP(b, src, dst, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

// receive takes the next packet the device wrote into tn, verifies its
// checksums independently and parses it.
func receive(t testing.TB, tn *chanTUN) UDPPacket {
	t.Helper()
	select {
	case pkt := <-tn.fromDevice:
		verifyUDPChecksums(t, pkt)
		p, err := ParseUDP(pkt)
		if err != nil {
			t.Fatalf("device wrote an unparseable packet: %v", err)
		}
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet came out of the TUN")
	}
	return UDPPacket{}
}

// send has app A (or B) send payload from its app port to the other
// daemon's socket address, and returns what the other TUN delivered.
func send(t testing.TB, from, to side, src netip.Addr, dst netip.AddrPort, payload []byte) UDPPacket {
	t.Helper()
	from.tun.toDevice <- appPacket(t, netip.AddrPortFrom(src, appPort), dst, payload)
	return receive(t, to.tun)
}

func TestDeviceBackToBackPassThrough(t *testing.T) {
	a, b, _ := pair(t, &fakeEngine{}, &fakeEngine{})
	for i, payload := range [][]byte{[]byte("first"), {}, bytes.Repeat([]byte{7}, 1400)} {
		got := send(t, a, b, appA, sockB, payload)
		if got.Src != sockA || got.Dst != netip.AddrPortFrom(appB, appPort) || !bytes.Equal(got.Payload, payload) {
			t.Fatalf("A->B %d: got %v -> %v %d bytes; want %v -> %v:%d %d bytes", i, got.Src, got.Dst, len(got.Payload), sockA, appB, appPort, len(payload))
		}
		got = send(t, b, a, appB, sockA, payload)
		if got.Src != sockB || got.Dst != netip.AddrPortFrom(appA, appPort) || !bytes.Equal(got.Payload, payload) {
			t.Fatalf("B->A %d: got %v -> %v; want %v -> %v:%d", i, got.Src, got.Dst, sockB, appA, appPort)
		}
	}
	if s := a.dev.Stats(); s.FromApp != 3 || s.ToNetwork != 3 || s.FromNetwork != 3 || s.ToApp != 3 {
		t.Errorf("A stats %+v, want 3 each way", s)
	}
}

func TestDeviceIPv6(t *testing.T) {
	mn := &memNet{}
	s6A, s6B := netip.MustParseAddrPort("[fd00::1]:4570"), netip.MustParseAddrPort("[fd00::2]:4570")
	tA, tB := newChanTUN(1), newChanTUN(1)
	dA, err := New(Config{TUN: tA, Conn: mn.listen(s6A), Engine: &fakeEngine{}, AppPort: appPort})
	if err != nil {
		t.Fatal(err)
	}
	defer dA.Close()
	dB, err := New(Config{TUN: tB, Conn: mn.listen(s6B), Engine: &fakeEngine{}, AppPort: appPort})
	if err != nil {
		t.Fatal(err)
	}
	defer dB.Close()
	got := send(t, side{tA, dA}, side{tB, dB}, s6A.Addr(), s6B, []byte("v6"))
	if got.Src != s6A || got.Dst != netip.AddrPortFrom(s6B.Addr(), appPort) || string(got.Payload) != "v6" {
		t.Fatalf("got %+v", got)
	}
}

// iaxFull builds an IAX2 full frame of type IAX.
func iaxFull(src, dst uint16, ts uint32, oseq, iseq uint8, sub iax.IAXSubclass, ies ...[]byte) []byte {
	f := iax.FullFrame{SrcCall: src, DstCall: dst, Timestamp: ts, OSeq: oseq, ISeq: iseq,
		Type: iax.FrameIAX, Subclass: uint8(sub), Payload: bytes.Join(ies, nil)}
	return f.AppendTo(nil)
}

func iaxIE(t testing.TB, id iax.IEID, data string) []byte {
	b, err := iax.AppendIE(nil, id, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeviceEncryptedCall(t *testing.T) {
	engA, engB := realEngine(t), realEngine(t)
	a, b, mn := pair(t, engA, engB)
	var wireMu sync.Mutex
	var wire [][]byte
	mn.tap = func(_, _ netip.AddrPort, p []byte) {
		wireMu.Lock()
		defer wireMu.Unlock()
		wire = append(wire, bytes.Clone(p))
	}
	const callA, callB = 0x0101, 0x0202
	newF := iaxFull(callA, 0, 1, 0, 0, iax.IAXNew,
		iaxIE(t, iax.IEVersion, "\x00\x02"), iaxIE(t, iax.IECalledNumber, "100"),
		iaxIE(t, iax.IEFormat, "\x00\x00\x00\x04"), iaxIE(t, iax.IECapability, "\x00\x00\x00\x0c"))
	accept := iaxFull(callB, callA, 5, 0, 1, iax.IAXAccept, iaxIE(t, iax.IEFormat, "\x00\x00\x00\x04"))
	ack := iaxFull(callA, callB, 6, 1, 1, iax.IAXAck)

	// The applications see their own frames, markers removed.
	for _, step := range []struct {
		from, to side
		src      netip.Addr
		dst      netip.AddrPort
		frame    []byte
	}{
		{a, b, appA, sockB, newF},
		{b, a, appB, sockA, accept},
		{a, b, appA, sockB, ack},
	} {
		got := send(t, step.from, step.to, step.src, step.dst, step.frame)
		if !bytes.Equal(got.Payload, step.frame) {
			t.Fatalf("frame arrived changed:\n got %x\nwant %x", got.Payload, step.frame)
		}
	}
	for name, e := range map[string]*engine.Engine{"A": engA, "B": engB} {
		calls := e.Calls(time.Now())
		if len(calls) != 1 || calls[0].Status != engine.StatusEncrypted {
			t.Fatalf("engine %s calls %+v, want one encrypted call", name, calls)
		}
	}
	// Voice in mini frames: delivered intact, never on the wire in clear.
	voice := bytes.Repeat([]byte("VOICE-"), 27)
	m := iax.MiniFrame{SrcCall: callA, Timestamp: 20, Payload: voice}
	mini := m.AppendTo(nil)
	got := send(t, a, b, appA, sockB, mini)
	if !bytes.Equal(got.Payload, mini) {
		t.Fatalf("mini frame arrived as %x", got.Payload)
	}
	wireMu.Lock()
	defer wireMu.Unlock()
	last := wire[len(wire)-1]
	if bytes.Contains(last, voice[:12]) {
		t.Fatalf("voice went on the wire in clear: %x", last)
	}
}

func TestDeviceDropsNonIAX(t *testing.T) {
	a, b, _ := pair(t, &fakeEngine{}, &fakeEngine{})
	tcp := appPacket(t, netip.AddrPortFrom(appA, appPort), sockB, []byte("x"))
	tcp[9] = 6
	for _, p := range [][]byte{
		tcp,
		appPacket(t, netip.AddrPortFrom(appA, 5060), sockB, []byte("sip")), // other port
		{0x45, 0, 0},     // truncated
		{0xff},           // not IP
		{},               // empty
		make([]byte, 60), // zero version
	} {
		a.tun.toDevice <- p
	}
	// Still working afterwards, and the drops were counted.
	got := send(t, a, b, appA, sockB, []byte("after"))
	if string(got.Payload) != "after" {
		t.Fatalf("got %q", got.Payload)
	}
	waitFor(t, "NotIAX count", func() bool { return a.dev.Stats().NotIAX == 6 })
}

func TestDeviceHostileNetwork(t *testing.T) {
	engB := realEngine(t)
	a, b, mn := pair(t, &fakeEngine{}, engB)
	evil := mn.listen(netip.MustParseAddrPort("10.6.6.6:666"))
	// Garbage and truncated IAX from the network must not stop B.
	junk := [][]byte{{}, {0}, {0x80}, {0, 0, 0x45}, bytes.Repeat([]byte{0xff}, 300), {0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 1, 0xc3, 200}}
	for _, j := range junk {
		if _, err := evil.WriteBatch([]Message{{Buf: j, Addr: sockB}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "junk to be handled", func() bool {
		s := b.dev.Stats()
		return s.FromNetwork == uint64(len(junk)) && s.ToApp+s.EngineDrops == uint64(len(junk))
	})
	for len(b.tun.fromDevice) > 0 {
		<-b.tun.fromDevice // junk the engine let through in clear
	}
	got := send(t, a, b, appA, sockB, []byte("still alive"))
	if string(got.Payload) != "still alive" {
		t.Fatalf("got %q", got.Payload)
	}
}

func TestDeviceInjected(t *testing.T) {
	engA := &fakeEngine{}
	a, b, _ := pair(t, engA, &fakeEngine{})
	// Teach A the application's address toward B's daemon first.
	send(t, a, b, appA, sockB, []byte("hello"))
	engA.inject(engine.Packet{Dir: engine.ToNetwork, Peer: sockB, Data: []byte("hangup to peer")})
	engA.inject(engine.Packet{Dir: engine.ToApp, Peer: sockB, Data: []byte("reject to app")})
	// Injected packets go out after the next batch.
	send(t, a, b, appA, sockB, []byte("trigger"))
	if got := receive(t, b.tun); string(got.Payload) != "hangup to peer" || got.Src != sockA {
		t.Fatalf("peer got %+v", got)
	}
	got := receive(t, a.tun)
	if string(got.Payload) != "reject to app" || got.Src != sockB || got.Dst != netip.AddrPortFrom(appA, appPort) {
		t.Fatalf("app got %v -> %v %q", got.Src, got.Dst, got.Payload)
	}
}

func TestDeviceEngineDrop(t *testing.T) {
	engA := &fakeEngine{}
	a, b, _ := pair(t, engA, &fakeEngine{})
	engA.dropAll.Store(true)
	a.tun.toDevice <- appPacket(t, netip.AddrPortFrom(appA, appPort), sockB, []byte("dropped"))
	waitFor(t, "engine drop count", func() bool { return a.dev.Stats().EngineDrops == 1 })
	engA.dropAll.Store(false)
	if got := send(t, a, b, appA, sockB, []byte("kept")); string(got.Payload) != "kept" {
		t.Fatalf("got %q after a drop", got.Payload)
	}
}

func TestDeviceNoAppAddress(t *testing.T) {
	mn := &memNet{}
	tn := newChanTUN(1)
	conn := mn.listen(netip.AddrPortFrom(netip.IPv4Unspecified(), 4570))
	d, err := New(Config{TUN: tn, Conn: conn, Engine: &fakeEngine{}, AppPort: appPort})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	other := mn.listen(sockB)
	other.WriteBatch([]Message{{Buf: []byte("x"), Addr: conn.addr}})
	waitFor(t, "NoAppAddr count", func() bool { return d.Stats().NoAppAddr == 1 })
}

func TestDeviceFallbackAddress(t *testing.T) {
	mn := &memNet{}
	tn := newChanTUN(1)
	conn := mn.listen(netip.AddrPortFrom(netip.IPv4Unspecified(), 4570))
	d, err := New(Config{TUN: tn, Conn: conn, Engine: &fakeEngine{}, AppPort: appPort,
		FallbackAppAddrs: []netip.Addr{netip.MustParseAddr("fd00::9"), netip.MustParseAddr("192.0.2.9")}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	mn.listen(sockB).WriteBatch([]Message{{Buf: []byte("x"), Addr: conn.addr}})
	if got := receive(t, tn); got.Dst != netip.MustParseAddrPort("192.0.2.9:4569") {
		t.Fatalf("delivered to %v, want the IPv4 fallback", got.Dst)
	}
}

func TestDeviceExpireTimer(t *testing.T) {
	eng := &fakeEngine{}
	mn := &memNet{}
	d, err := New(Config{TUN: newChanTUN(1), Conn: mn.listen(sockA), Engine: eng, AppPort: appPort, ExpireInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	waitFor(t, "Expire calls", func() bool { return eng.expires.Load() >= 3 })
}

func TestDeviceCloseTwice(t *testing.T) {
	before := runtime.NumGoroutine()
	d, err := New(Config{TUN: newChanTUN(1), Conn: (&memNet{}).listen(sockA), Engine: &fakeEngine{}, AppPort: appPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestNewInvalid(t *testing.T) {
	tn, conn, eng := newChanTUN(1), (&memNet{}).listen(sockA), &fakeEngine{}
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no tun", Config{Conn: conn, Engine: eng, AppPort: 1}},
		{"no conn", Config{TUN: tn, Engine: eng, AppPort: 1}},
		{"no engine", Config{TUN: tn, Conn: conn, AppPort: 1}},
		{"no port", Config{TUN: tn, Conn: conn, Engine: eng}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); !errors.Is(err, errInvalidConfig) {
				t.Fatalf("got %v, want an invalid-config error", err)
			}
		})
	}
}

func BenchmarkDevicePath(b *testing.B) {
	for _, tt := range []struct {
		name string
		eng  func() Engine
	}{
		{"fake-engine", func() Engine { return &fakeEngine{} }},
		{"real-engine-clear", func() Engine { return realEngine(b) }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			a, bb, _ := pair(b, tt.eng(), tt.eng())
			pkt := appPacket(b, netip.AddrPortFrom(appA, appPort), sockB, make([]byte, 172))
			b.ReportAllocs()
			b.SetBytes(int64(len(pkt)))
			for b.Loop() {
				a.tun.toDevice <- pkt
				<-bb.tun.fromDevice
			}
		})
	}
}
