package tun

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"

	"github.com/iaxcrypt/iaxcrypt/platform/nstest"
)

// udp4 builds an IPv4 UDP packet with correct checksums.
func udp4(src, dst netip.AddrPort, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0], p[8], p[9] = 0x45, 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	binary.BigEndian.PutUint16(p[4:], 0x1234)
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	binary.BigEndian.PutUint16(p[10:], ^fold(sum16(p[:20], 0)))
	u := p[20:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(len(u)))
	copy(u[8:], payload)
	binary.BigEndian.PutUint16(u[6:], ^fold(sum16(u, sum16(p[12:20], unix.IPPROTO_UDP+uint32(len(u))))))
	return p
}

// checksumsValid checks the IPv4 header and UDP or TCP checksums of p
// (no IP options).
func checksumsValid(p []byte) bool {
	if fold(sum16(p[:20], 0)) != 0xffff {
		return false
	}
	u := p[20:binary.BigEndian.Uint16(p[2:])]
	return fold(sum16(u, sum16(p[12:20], uint32(p[9])+uint32(len(u))))) == 0xffff
}

func vnet(h vnetHdr) []byte {
	b := make([]byte, vnetHdrLen)
	b[0], b[1] = h.flags, h.gsoType
	binary.NativeEndian.PutUint16(b[2:], h.hdrLen)
	binary.NativeEndian.PutUint16(b[4:], h.gsoSize)
	binary.NativeEndian.PutUint16(b[6:], h.csumStart)
	binary.NativeEndian.PutUint16(b[8:], h.csumOffset)
	return b
}

var (
	srcAP = netip.MustParseAddrPort("10.1.2.3:4571")
	dstAP = netip.MustParseAddrPort("198.51.100.9:4569")
)

func newBufs(n int) ([][]byte, []int) {
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, 16+2000)
	}
	return bufs, make([]int, n)
}

// A packet with a partial checksum (the kernel's checksum offload) comes
// out with the checksum the packet would have had without it.
func TestUnpackCompletesChecksum(t *testing.T) {
	want := udp4(srcAP, dstAP, []byte("a payload of odd length"))
	pkt := append([]byte(nil), want...)
	// What the kernel hands over: the UDP checksum field holds the
	// pseudo-header sum only.
	u := pkt[20:]
	binary.BigEndian.PutUint16(u[6:], fold(sum16(pkt[12:20], unix.IPPROTO_UDP+uint32(len(u)))))
	in := append(vnet(vnetHdr{flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 20, csumOffset: 6}), pkt...)
	bufs, sizes := newBufs(1)
	r := &batchReader{scratch: make([]byte, 70000)}
	n, err := r.unpack(in, bufs, sizes, 16)
	if err != nil || n != 1 || !bytes.Equal(in[vnetHdrLen:vnetHdrLen+sizes[0]], want) {
		t.Fatalf("unpack: %d, %v\n got %x\nwant %x", n, err, in[vnetHdrLen:], want)
	}
	bad := append(vnet(vnetHdr{flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 20, csumOffset: 60}), pkt...)
	if _, err := r.unpack(bad, bufs, sizes, 16); err == nil {
		t.Fatal("a checksum offset past the packet was accepted")
	}
}

// A UDP GSO packet is split into datagrams whose headers and checksums are
// those of separately sent ones.
func TestUnpackSplitsUDPGSO(t *testing.T) {
	payload := make([]byte, 3*500+123)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	big := udp4(srcAP, dstAP, payload)
	in := append(vnet(vnetHdr{flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: unix.VIRTIO_NET_HDR_GSO_UDP_L4,
		hdrLen: 28, gsoSize: 500, csumStart: 20, csumOffset: 6}), big...)
	bufs, sizes := newBufs(8)
	r := &batchReader{scratch: make([]byte, 70000)}
	n, err := r.unpack(in, bufs, sizes, 16)
	if err != nil || n != 4 {
		t.Fatalf("split into %d, %v; want 4", n, err)
	}
	for i := range n {
		seg := bufs[i][16 : 16+sizes[i]]
		want := payload[i*500 : min((i+1)*500, len(payload))]
		if !bytes.Equal(seg[28:], want) || !checksumsValid(seg) || binary.BigEndian.Uint16(seg[4:]) != 0x1234+uint16(i) {
			t.Errorf("segment %d: %d bytes, checksums valid %v, id %#x", i, len(seg), checksumsValid(seg), binary.BigEndian.Uint16(seg[4:]))
		}
	}
	if _, err := r.unpack(in, bufs[:2], sizes[:2], 16); err == nil {
		t.Fatal("a split into more segments than buffers was accepted")
	}
	tcp := append(vnet(vnetHdr{gsoType: unix.VIRTIO_NET_HDR_GSO_TCPV4, hdrLen: 40, gsoSize: 500, csumStart: 20, csumOffset: 16}), big...)
	if _, err := r.unpack(tcp, bufs, sizes, 16); err == nil {
		t.Fatal("TCP GSO accepted")
	}
}

func FuzzUnpack(f *testing.F) {
	f.Add(append(vnet(vnetHdr{flags: 1, csumStart: 20, csumOffset: 6}), udp4(srcAP, dstAP, []byte("x"))...))
	f.Add(append(vnet(vnetHdr{gsoType: unix.VIRTIO_NET_HDR_GSO_UDP_L4, hdrLen: 28, gsoSize: 3, csumStart: 20, csumOffset: 6}), udp4(srcAP, dstAP, []byte("abcdefgh"))...))
	r := &batchReader{scratch: make([]byte, 70000)}
	bufs, sizes := newBufs(64)
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < vnetHdrLen || len(in) > 2000 {
			return
		}
		r.unpack(in, bufs, sizes, 16) // no panic, whatever the header says
	})
}

// In a namespace: datagrams sent into the TUN faster than it is read all
// come out, many per Read, and Read waits while there is none.
func TestKernelBatchRead(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	// No IPv6 on the TUN: its router solicitations and MLD reports would
	// come out of Read while the test waits for nothing to.
	if out, err := exec.Command("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v: %s", err, out)
	}
	dev := routedTUN(t, "iaxtb", 1400)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(nstest.Addr4)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to := &net.UDPAddr{IP: net.ParseIP("10.98.0.7"), Port: 4569}
	const total = 200
	for i := range total {
		if _, err := c.WriteToUDP([]byte{byte(i), 1, 2, 3}, to); err != nil {
			t.Fatal(err)
		}
	}
	bufs, sizes := newBufs(dev.BatchSize())
	got, reads := 0, 0
	for got < total {
		n, err := dev.Read(bufs, sizes, 16)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			p := bufs[i][16 : 16+sizes[i]]
			if p[0]>>4 != 4 || p[9] != unix.IPPROTO_UDP || !checksumsValid(p) {
				continue // the kernel's own chatter (none for IPv4 here) or damage
			}
			if p[28] != byte(got) {
				t.Fatalf("datagram %d came out as %d", got, p[28])
			}
			got++
		}
		reads++
	}
	if reads > total/4 {
		t.Errorf("%d datagrams took %d reads: not batched", total, reads)
	}
	// With nothing waiting, Read blocks until something comes.
	done := make(chan int, 1)
	go func() {
		n, _ := dev.Read(bufs, sizes, 16)
		done <- n
	}()
	select {
	case n := <-done:
		t.Fatalf("Read returned %d packets with nothing sent", n)
	case <-time.After(200 * time.Millisecond):
	}
	c.WriteToUDP([]byte{9}, to)
	select {
	case n := <-done:
		if n != 1 {
			t.Fatalf("Read returned %d packets, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return when a packet came")
	}
}

// A UDP GSO send (UDP_SEGMENT) into the TUN arrives as separate, complete
// datagrams.
func TestKernelBatchReadSplitsGSO(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	dev := routedTUN(t, "iaxtg", 1400)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(nstest.Addr4)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, _ := c.SyscallConn()
	rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT, 100) })
	payload := bytes.Repeat([]byte("0123456789"), 45) // 450 bytes: 5 segments
	if _, err := c.WriteToUDP(payload, &net.UDPAddr{IP: net.ParseIP("10.98.0.7"), Port: 9}); err != nil {
		t.Skipf("UDP GSO send: %v", err)
	}
	bufs, sizes := newBufs(dev.BatchSize())
	var got []byte
	segs := 0
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < len(payload) && time.Now().Before(deadline) {
		n, err := dev.Read(bufs, sizes, 16)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			p := bufs[i][16 : 16+sizes[i]]
			if p[0]>>4 != 4 || p[9] != unix.IPPROTO_UDP {
				continue
			}
			if !checksumsValid(p) || sizes[i] > 128 {
				t.Fatalf("segment %d: %d bytes, checksums valid %v", segs, sizes[i], checksumsValid(p))
			}
			got = append(got, p[28:]...)
			segs++
		}
	}
	if !bytes.Equal(got, payload) || segs != 5 {
		t.Fatalf("%d segments carrying %q", segs, got)
	}
}

// TCP to an address routed into the TUN (a routed peer's traffic that is
// not IAX2, which the daemon passes through) reaches Read as segments no
// larger than the MTU: the kernel segments it itself, since Read splits
// only UDP. The connection is made established without a peer with
// TCP_REPAIR, then a bulk write sends a full congestion window at once,
// which with TCP segmentation offload would come out as one super-packet.
func TestKernelBatchReadTCPSegmented(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	const mtu = 1400
	dev := routedTUN(t, "iaxtt", mtu)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("TCP_REPAIR on", unix.SetsockoptInt(fd, unix.SOL_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_ON))
	must("connect", unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{10, 98, 0, 7}, Port: 80}))
	// struct tcp_repair_window: snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup.
	win := make([]byte, 20)
	binary.NativeEndian.PutUint32(win[4:], 1<<20)
	binary.NativeEndian.PutUint32(win[8:], 1<<20)
	binary.NativeEndian.PutUint32(win[12:], 1<<16)
	must("TCP_REPAIR_WINDOW", unix.SetsockoptString(fd, unix.SOL_TCP, unix.TCP_REPAIR_WINDOW, string(win)))
	must("TCP_REPAIR off", unix.SetsockoptInt(fd, unix.SOL_TCP, unix.TCP_REPAIR, unix.TCP_REPAIR_OFF))
	if _, err := unix.Write(fd, bytes.Repeat([]byte{'x'}, 32<<10)); err != nil {
		t.Fatal(err)
	}
	bufs, sizes := newBufs(dev.BatchSize())
	segs, bytesIn := 0, 0
	deadline := time.Now().Add(5 * time.Second)
	for segs < 3 && time.Now().Before(deadline) {
		n, err := readWithin(dev, bufs, sizes, time.Until(deadline))
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			p := bufs[i][16 : 16+sizes[i]]
			if p[0]>>4 != 4 || p[9] != unix.IPPROTO_TCP {
				continue
			}
			if sizes[i] > mtu || !checksumsValid(p) {
				t.Fatalf("TCP segment of %d bytes (MTU %d), checksums valid %v", sizes[i], mtu, checksumsValid(p))
			}
			segs++
			bytesIn += sizes[i] - 40
		}
	}
	if segs < 3 {
		t.Fatalf("%d TCP segments (%d bytes) read from the TUN, want at least 3", segs, bytesIn)
	}
}

// routedTUN creates the TUN name in the test's namespace, with
// 10.98.0.0/24 routed into it; it is closed when the test ends.
func routedTUN(t *testing.T, name string, mtu int) wgtun.Device {
	t.Helper()
	dev, err := Create(name, mtu)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	if out, err := exec.Command("ip", "route", "add", "10.98.0.0/24", "dev", name).CombinedOutput(); err != nil {
		t.Fatalf("ip route: %v: %s", err, out)
	}
	return dev
}

// readWithin is dev.Read that gives up (0 packets) after d.
func readWithin(dev interface {
	Read([][]byte, []int, int) (int, error)
}, bufs [][]byte, sizes []int, d time.Duration) (int, error) {
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := dev.Read(bufs, sizes, 16)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case <-time.After(d):
		return 0, nil
	}
}
