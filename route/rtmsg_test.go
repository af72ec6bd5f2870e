package route

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"syscall"
	"testing"
)

// hexJoin joins annotated hex pieces and expands "0*N" into N zero bytes.
func hexJoin(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if n, ok := strings.CutPrefix(p, "0*"); ok {
			var k int
			for _, c := range n {
				k = k*10 + int(c-'0')
			}
			b.WriteString(strings.Repeat("00", k))
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

// TestHostRouteMsgGolden pins the bytes of the messages the macOS router
// writes to the routing socket, field by field of XNU's struct rt_msghdr
// (version 5) and the sockaddrs after it (each padded to 4 bytes).
func TestHostRouteMsgGolden(t *testing.T) {
	tests := []struct {
		name string
		typ  int
		seq  int32
		dst  string
		want string
	}{
		{"add IPv4 host route into utun7", rtmAdd, 1, "192.0.2.10", hexJoin(
			"7c00", "05", "01", "0000", "0000", // msglen 124, version 5, RTM_ADD, index 0, pad
			"05080000", "03000000", // flags UP|HOST|STATIC, addrs DST|GATEWAY
			"00000000", "01000000", // pid (the kernel's to fill), seq 1
			"0*68",                            // errno, use, inits, rt_metrics
			"1002", "0000", "c000020a", "0*8", // sockaddr_in 192.0.2.10
			"0d12", "1100", "00", "05", "00", "00", "7574756e37", "000000", // sockaddr_dl index 17 "utun7", padded
		)},
		{"delete IPv6 host route from utun7", rtmDelete, 0x01020304, "2001:db8::10", hexJoin(
			"8800", "05", "02", "0000", "0000", // msglen 136, RTM_DELETE
			"05080000", "03000000",
			"00000000", "04030201",
			"0*68",
			"1c1e", "0000", "00000000", "20010db8000000000000000000000010", "00000000", // sockaddr_in6, AF_INET6 = 30
			"0d12", "1100", "00", "05", "00", "00", "7574756e37", "000000",
		)},
	}
	for _, tt := range tests {
		got, err := hostRouteMsg(tt.typ, tt.seq, netip.MustParseAddr(tt.dst), 17, "utun7")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if h := hex.EncodeToString(got); h != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, h, tt.want)
		}
	}
}

func TestGetRouteMsgGolden(t *testing.T) {
	got, err := getRouteMsg(9, netip.MustParseAddr("0.0.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	want := hexJoin(
		"8000", "05", "04", "0000", "0000", // msglen 128, RTM_GET
		"05000000", "11000000", // flags UP|HOST, addrs DST|IFP
		"00000000", "09000000",
		"0*68",
		"1002", "0000", "00000000", "0*8", // sockaddr_in 0.0.0.0
		"1412", "0*18", // empty sockaddr_dl of 20 bytes
	)
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("RTM_GET default:\n got %s\nwant %s", h, want)
	}
}

func TestHostRouteMsgRefuses(t *testing.T) {
	for _, tt := range []struct {
		typ   int
		dst   string
		index int
		name  string
	}{
		{rtmGet, "192.0.2.1", 1, "utun1"},
		{rtmAdd, "fe80::1%en0", 1, "utun1"},
		{rtmAdd, "192.0.2.1", 0, "utun1"},
		{rtmAdd, "192.0.2.1", 1, ""},
	} {
		var dst netip.Addr
		if tt.dst != "" {
			dst = netip.MustParseAddr(tt.dst)
		}
		if b, err := hostRouteMsg(tt.typ, 1, dst, tt.index, tt.name); err == nil {
			t.Errorf("hostRouteMsg(%d, %s, %d, %q) = %x, want an error", tt.typ, tt.dst, tt.index, tt.name, b)
		}
	}
}

// TestParseRtMsgReply reads back what the kernel answers: the message
// echoed with pid, seq and errno, and for RTM_GET the interface.
func TestParseRtMsgReply(t *testing.T) {
	msg, _ := hostRouteMsg(rtmAdd, 7, netip.MustParseAddr("192.0.2.10"), 17, "utun7")
	hostEndian.PutUint32(msg[offPid:], 4242)
	hostEndian.PutUint32(msg[offErrno:], uint32(syscall.EEXIST))
	r, ok, err := parseRtMsg(msg)
	if err != nil || !ok || r.typ != rtmAdd || r.pid != 4242 || r.seq != 7 || r.errno != syscall.EEXIST {
		t.Fatalf("parse = %+v, %v, %v", r, ok, err)
	}
	if a, ok := sockaddrAddr(r.addrs[rtaxIndex(rtaDst)]); !ok || a != netip.MustParseAddr("192.0.2.10") {
		t.Errorf("dst = %v, %v", a, ok)
	}
	if idx, name, ok := linkIndexName(r.addrs[rtaxIndex(rtaGateway)]); !ok || idx != 17 || name != "utun7" {
		t.Errorf("gateway = %d %q %v", idx, name, ok)
	}

	// An RTM_GET answer naming en0 as the interface.
	ifp, _ := linkSockaddr(4, "en0")
	gw, _ := inetSockaddr(netip.MustParseAddr("192.168.1.1"))
	dst, _ := inetSockaddr(netip.MustParseAddr("0.0.0.0"))
	reply := rtMsg(rtmGet, rtfUp|rtfGateway, 4, 3, rtaDst|rtaGateway|rtaIfp, dst, gw, ifp)
	r, ok, err = parseRtMsg(reply)
	if err != nil || !ok {
		t.Fatal(err)
	}
	if idx, name, _ := linkIndexName(r.addrs[rtaxIndex(rtaIfp)]); idx != 4 || name != "en0" {
		t.Errorf("RTM_GET interface = %d %q, want 4 en0", idx, name)
	}
	if a, _ := sockaddrAddr(r.addrs[rtaxIndex(rtaGateway)]); a != netip.MustParseAddr("192.168.1.1") {
		t.Errorf("RTM_GET gateway = %v", a)
	}

	// Truncated and foreign messages are errors or skipped, never a panic.
	for i := 0; i < len(reply); i++ {
		cut := append([]byte(nil), reply[:i]...)
		if i >= 2 {
			hostEndian.PutUint16(cut, uint16(i))
		}
		parseRtMsg(cut)
	}
	ifinfo := make([]byte, 112)
	hostEndian.PutUint16(ifinfo, 112)
	ifinfo[offVersion], ifinfo[offType] = rtmVersion, rtmIfinfo
	if r, ok, err := parseRtMsg(ifinfo); ok || err != nil || !routeChangeMatters(r.typ) {
		t.Errorf("RTM_IFINFO: %+v %v %v; want skipped without error and counted as a change", r, ok, err)
	}
}

func FuzzParseRtMsg(f *testing.F) {
	msg, _ := hostRouteMsg(rtmAdd, 7, netip.MustParseAddr("2001:db8::1"), 17, "utun7")
	f.Add(msg)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok, err := parseRtMsg(b)
		if ok && err == nil {
			for _, sa := range r.addrs {
				linkIndexName(sa)
				sockaddrAddr(sa)
			}
		}
	})
}
