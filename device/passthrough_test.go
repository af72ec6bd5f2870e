package device

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/probe"
)

// fakeRaw records what the device passed through; with fail set, SendIP
// returns an error instead.
type fakeRaw struct {
	mu     sync.Mutex
	sent   [][]byte
	fail   bool
	closed int
}

func (r *fakeRaw) SendIP(pkt []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("fake raw socket: send failed")
	}
	r.sent = append(r.sent, append([]byte(nil), pkt...))
	return nil
}

func (r *fakeRaw) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	return nil
}

func (r *fakeRaw) packets() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.sent...)
}

// ipPacket builds an IPv4 or IPv6 packet of protocol proto carrying l4.
func ipPacket(src, dst netip.Addr, proto uint8, l4 []byte) []byte {
	if src.Is4() {
		b := make([]byte, IPv4HeaderLen+len(l4))
		b[0] = 0x45
		binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
		b[8] = 64
		b[9] = proto
		s, d := src.As4(), dst.As4()
		copy(b[12:16], s[:])
		copy(b[16:20], d[:])
		copy(b[20:], l4)
		return b
	}
	b := make([]byte, IPv6HeaderLen+len(l4))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:6], uint16(len(l4)))
	b[6] = proto
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	copy(b[40:], l4)
	return b
}

// udpHeader is a UDP header from sport to dport followed by payload, with
// no checksum (classifyTUN does not check it).
func udpHeader(sport, dport uint16, payload string) []byte {
	b := make([]byte, UDPHeaderLen+len(payload))
	binary.BigEndian.PutUint16(b[0:2], sport)
	binary.BigEndian.PutUint16(b[2:4], dport)
	binary.BigEndian.PutUint16(b[4:6], uint16(len(b)))
	copy(b[8:], payload)
	return b
}

// withExt puts an IPv6 extension header of type ext (next header proto)
// in front of l4.
func withExt(ext, proto uint8, l4 []byte) []byte {
	h := make([]byte, 8)
	h[0] = proto
	if ext == protoFragment {
		binary.BigEndian.PutUint16(h[2:4], 1) // M flag: first fragment
	}
	return append(h, l4...)
}

// icmpError is an ICMP (v4: type 3, v6: type 1) destination unreachable
// quoting a UDP datagram from qsrc to qdst.
func icmpError(qsrc, qdst netip.AddrPort) []byte {
	quoted := ipPacket(qsrc.Addr(), qdst.Addr(), protoUDP, udpHeader(qsrc.Port(), qdst.Port(), "IAX2 plaintext"))
	typ := byte(3)
	if qsrc.Addr().Is6() {
		typ = 1
	}
	return append([]byte{typ, 3, 0, 0, 0, 0, 0, 0}, quoted...)
}

func TestClassifyTUN(t *testing.T) {
	var (
		me4   = netip.MustParseAddr("192.0.2.1")
		peer4 = netip.MustParseAddr("198.51.100.7")
		me6   = netip.MustParseAddr("2001:db8::1")
		peer6 = netip.MustParseAddr("2001:db8:1::7")
		ll6   = netip.MustParseAddr("fe80::1")
	)
	frag4 := ipPacket(me4, peer4, protoUDP, udpHeader(40000, 53, "big dns"))
	frag4[6] = 0x20 // more fragments
	later4 := ipPacket(me4, peer4, protoUDP, []byte("rest of a datagram"))
	binary.BigEndian.PutUint16(later4[6:8], 185) // offset, no header
	tcpFromAppPort := ipPacket(me4, peer4, 6, udpHeader(appPort, 80, ""))
	probeBytes := probe.Payload(probe.Nonce{1, 2, 3})
	tests := []struct {
		name string
		pkt  []byte
		want tunVerdict
	}{
		{"IAX2 from the app port (v4)", ipPacket(me4, peer4, protoUDP, udpHeader(appPort, 4569, "iax")), verdictIAX},
		{"IAX2 from the app port (v6)", ipPacket(me6, peer6, protoUDP, udpHeader(appPort, 4569, "iax")), verdictIAX},
		{"DNS to a routed peer", ipPacket(me4, peer4, protoUDP, udpHeader(40000, 53, "q")), verdictPass},
		{"NTP to a routed peer (v6)", ipPacket(me6, peer6, protoUDP, udpHeader(123, 123, "ntp")), verdictPass},
		{"UDP to the peer's IAX2 port from another port", ipPacket(me4, peer4, protoUDP, udpHeader(5000, 4569, "x")), verdictPass},
		{"TCP (macOS host route)", ipPacket(me4, peer4, 6, make([]byte, 20)), verdictPass},
		{"TCP from the app port number is not IAX2", tcpFromAppPort, verdictPass},
		{"ICMP echo", ipPacket(me4, peer4, protoICMP, []byte{8, 0, 0, 0, 0, 1, 0, 1}), verdictPass},
		{"ICMPv6 echo", ipPacket(me6, peer6, protoICMPv6, []byte{128, 0, 0, 0, 0, 1, 0, 1}), verdictPass},
		{"IPv6 UDP behind a destination option, other port", ipPacket(me6, peer6, protoDstOpts, withExt(protoDstOpts, protoUDP, udpHeader(40000, 53, "q"))), verdictPass},
		{"IPv6 TCP fragment", ipPacket(me6, peer6, protoFragment, withExt(protoFragment, 6, make([]byte, 20))), verdictPass},

		{"IPv4 UDP first fragment", frag4, verdictDrop},
		{"IPv4 UDP later fragment", later4, verdictDrop},
		{"IPv6 UDP fragment", ipPacket(me6, peer6, protoFragment, withExt(protoFragment, protoUDP, udpHeader(40000, 53, "q"))), verdictDrop},
		{"IPv6 UDP from the app port behind an option", ipPacket(me6, peer6, protoHopOpts, withExt(protoHopOpts, protoUDP, udpHeader(appPort, 4569, "iax"))), verdictDrop},
		{"truncated UDP from the app port", ipPacket(me4, peer4, protoUDP, udpHeader(appPort, 4569, "")[:6]), verdictDrop},
		{"ICMP error quoting IAX2 to the app", ipPacket(me4, peer4, protoICMP, icmpError(netip.AddrPortFrom(peer4, 4569), netip.AddrPortFrom(me4, appPort))), verdictDrop},
		{"ICMPv6 error quoting IAX2 to the app", ipPacket(me6, peer6, protoICMPv6, icmpError(netip.AddrPortFrom(peer6, 4569), netip.AddrPortFrom(me6, appPort))), verdictDrop},
		{"ICMP error quoting other UDP", ipPacket(me4, peer4, protoICMP, icmpError(netip.AddrPortFrom(peer4, 53), netip.AddrPortFrom(me4, 40000))), verdictPass},
		{"IPv6 router solicitation", ipPacket(ll6, netip.MustParseAddr("ff02::2"), protoICMPv6, []byte{133, 0, 0, 0, 0, 0, 0, 0}), verdictDrop},
		{"MLD report from ::", ipPacket(netip.IPv6Unspecified(), netip.MustParseAddr("ff02::16"), protoHopOpts, withExt(protoHopOpts, protoICMPv6, []byte{143, 0, 0, 0, 0, 0, 0, 0})), verdictDrop},
		{"link-local unicast", ipPacket(ll6, netip.MustParseAddr("fe80::2"), protoUDP, udpHeader(546, 547, "dhcp")), verdictDrop},
		{"IPv4 broadcast", ipPacket(me4, netip.MustParseAddr("255.255.255.255"), protoUDP, udpHeader(68, 67, "dhcp")), verdictDrop},
		{"IPv4 multicast", ipPacket(me4, netip.MustParseAddr("224.0.0.251"), protoUDP, udpHeader(5353, 5353, "mdns")), verdictDrop},
		{"IPv4 link-local", ipPacket(netip.MustParseAddr("169.254.1.1"), peer4, protoUDP, udpHeader(5353, 53, "q")), verdictDrop},
		{"loopback destination", ipPacket(me4, netip.MustParseAddr("127.0.0.1"), protoUDP, udpHeader(1, 2, "")), verdictDrop},
		{"unspecified source", ipPacket(netip.IPv4Unspecified(), peer4, protoUDP, udpHeader(68, 67, "")), verdictDrop},
		{"empty", nil, verdictDrop},
		{"not IP", []byte{0xff, 0, 0, 0}, verdictDrop},
		{"truncated IPv4 header", ipPacket(me4, peer4, 6, nil)[:12], verdictDrop},
		{"doctor's probe from the app port", ipPacket(me4, peer4, protoUDP, udpHeader(appPort, probe.DiscardPort, string(probeBytes))), verdictProbe},
		{"doctor's probe to a routed peer (v6)", ipPacket(me6, peer6, protoUDP, udpHeader(40000, probe.DiscardPort, string(probeBytes))), verdictProbe},
		{"probe magic with a byte more from the app port is IAX2", ipPacket(me4, peer4, protoUDP, udpHeader(appPort, 4569, string(probeBytes)+"x")), verdictIAX},
		{"probe magic one byte short to a peer is passed", ipPacket(me4, peer4, protoUDP, udpHeader(40000, 9, string(probeBytes[:probe.Len-1]))), verdictPass},
		{"IPv6 extension header chain too long", ipPacket(me6, peer6, protoDstOpts, bytes.Repeat(withExt(protoDstOpts, protoDstOpts, nil), 9)), verdictDrop},
	}
	for _, tt := range tests {
		_, got := classifyTUN(tt.pkt, appPort)
		if got != tt.want {
			t.Errorf("%s: verdict %d, want %d", tt.name, got, tt.want)
		}
	}
}

// passSide is a device with a fake raw socket, its TUN, and a socket on
// the in-memory network standing for the peer's daemon.
func passSide(t *testing.T, raw *fakeRaw) (*chanTUN, *Device, *memConn) {
	t.Helper()
	mn := &memNet{}
	tn := newChanTUN(4)
	d, err := New(Config{TUN: tn, Conn: mn.listen(sockA), Engine: &fakeEngine{}, AppPort: appPort, Raw: raw, ExpireInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return tn, d, mn.listen(sockB)
}

func TestDevicePassThrough(t *testing.T) {
	raw := &fakeRaw{}
	tn, d, peer := passSide(t, raw)
	dns := appPacket(t, netip.AddrPortFrom(appA, 40000), netip.AddrPortFrom(sockB.Addr(), 53), []byte("query"))
	ntp6 := appPacket(t, netip.MustParseAddrPort("[2001:db8::1]:123"), netip.MustParseAddrPort("[2001:db8::2]:123"), []byte("ntp"))
	tcp := ipPacket(appA, sockB.Addr(), 6, make([]byte, 20))
	rs := ipPacket(netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::2"), protoICMPv6, []byte{133, 0, 0, 0, 0, 0, 0, 0})
	for _, p := range [][]byte{dns, rs, ntp6, tcp} {
		tn.toDevice <- p
	}
	// The application's IAX2 still goes to the engine and out of the socket.
	tn.toDevice <- appPacket(t, netip.AddrPortFrom(appA, appPort), sockB, []byte("iax"))
	msgs := []Message{{Buf: make([]byte, 100)}}
	if n, err := peer.ReadBatch(msgs); err != nil || n != 1 || string(msgs[0].Buf[:msgs[0].N]) != "iax" {
		t.Fatalf("peer read %d %q, %v; want the IAX2 datagram", n, msgs[0].Buf[:msgs[0].N], err)
	}
	waitFor(t, "pass-through counts", func() bool {
		s := d.Stats()
		return s.PassedThrough == 3 && s.NotIAX == 1
	})
	got := raw.packets()
	want := [][]byte{dns, ntp6, tcp}
	if len(got) != len(want) {
		t.Fatalf("passed %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("packet %d passed through changed:\n got %x\nwant %x", i, got[i], want[i])
		}
	}
	if s := d.Stats(); s.FromApp != 1 || s.ToNetwork != 1 || s.PassThroughErrors != 0 {
		t.Errorf("stats %+v: want 1 IAX2 datagram from the app and to the network, no pass-through errors", s)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if raw.closed != 1 {
		t.Errorf("raw sender closed %d times, want once", raw.closed)
	}
}

func TestDevicePassThroughErrorsCounted(t *testing.T) {
	raw := &fakeRaw{fail: true}
	tn, d, _ := passSide(t, raw)
	for range 3 {
		tn.toDevice <- appPacket(t, netip.AddrPortFrom(appA, 40000), netip.AddrPortFrom(sockB.Addr(), 53), []byte("q"))
	}
	waitFor(t, "pass-through errors", func() bool { return d.Stats().PassThroughErrors == 3 })
	if s := d.Stats(); s.PassedThrough != 0 || s.NotIAX != 0 {
		t.Errorf("stats %+v: want only PassThroughErrors", s)
	}
}

// Without a RawSender nothing is passed through: the old behaviour.
func TestDeviceNoRawSenderDrops(t *testing.T) {
	a, _, _ := pair(t, &fakeEngine{}, &fakeEngine{})
	a.tun.toDevice <- appPacket(t, netip.AddrPortFrom(appA, 40000), netip.AddrPortFrom(sockB.Addr(), 53), []byte("q"))
	waitFor(t, "NotIAX", func() bool { return a.dev.Stats().NotIAX == 1 })
	if s := a.dev.Stats(); s.PassedThrough != 0 {
		t.Errorf("PassedThrough = %d without a RawSender", s.PassedThrough)
	}
}

func BenchmarkClassifyTUN(b *testing.B) {
	pkts := [][]byte{
		ipPacket(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7"), protoUDP, udpHeader(appPort, 4569, "iax")),
		ipPacket(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7"), protoUDP, udpHeader(40000, 53, "dns")),
		ipPacket(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"), protoDstOpts, withExt(protoDstOpts, protoUDP, udpHeader(40000, 53, "q"))),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		classifyTUN(pkts[i%len(pkts)], appPort)
	}
}

// TestDeviceProbesGoNowhere: doctor's probes, from the application's port
// or to a routed peer, are recorded with their addresses and reach neither
// the engine nor the network nor pass-through.
func TestDeviceProbesGoNowhere(t *testing.T) {
	raw := &fakeRaw{}
	tn, d, peer := passSide(t, raw)
	fromApp, toPeer := probe.Nonce{1}, probe.Nonce{2}
	srcApp, dst := netip.AddrPortFrom(appA, appPort), netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), probe.DiscardPort)
	srcOther, dstPeer := netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:9")
	tn.toDevice <- appPacket(t, srcApp, dst, probe.Payload(fromApp))
	tn.toDevice <- appPacket(t, srcOther, dstPeer, probe.Payload(toPeer))
	// Then the application's IAX2, which must still go through: once it
	// arrives, the probes before it have been handled.
	tn.toDevice <- appPacket(t, srcApp, sockB, []byte("iax"))
	msgs := []Message{{Buf: make([]byte, 100)}}
	if n, err := peer.ReadBatch(msgs); err != nil || n != 1 || string(msgs[0].Buf[:msgs[0].N]) != "iax" {
		t.Fatalf("peer read %d %q, %v; want only the IAX2 datagram", n, msgs[0].Buf[:msgs[0].N], err)
	}
	for _, c := range []struct {
		n        probe.Nonce
		src, dst netip.AddrPort
	}{{fromApp, srcApp, dst}, {toPeer, srcOther, dstPeer}} {
		s, ok := d.ProbeSeen(c.n)
		if !ok || s.Src != c.src || s.Dst != c.dst {
			t.Errorf("probe %v: seen %v %+v; want from %v to %v", c.n, ok, s, c.src, c.dst)
		}
	}
	if _, ok := d.ProbeSeen(probe.Nonce{3}); ok {
		t.Error("a probe never sent was seen")
	}
	if s := d.Stats(); s.Probes != 2 || s.FromApp != 1 || s.ToNetwork != 1 || s.PassedThrough != 0 || s.NotIAX != 0 {
		t.Errorf("stats %+v: want 2 probes, 1 IAX2 datagram (FromApp counts what the engine got), nothing passed through", s)
	}
	if p := raw.packets(); len(p) != 0 {
		t.Errorf("%d packets passed through, want none", len(p))
	}
}
