package route

import (
	"bytes"
	"net/netip"
	"testing"

	xroute "golang.org/x/net/route"
	"golang.org/x/sys/unix"
)

// TestRtMsgMatchesXNetRoute compares the messages the router writes with
// what golang.org/x/net/route marshals for the same route, and parses
// them back with it. x/net builds only for BSDs, so this runs on a Mac
// only (CI compiles it with GOOS=darwin go test -c).
func TestRtMsgMatchesXNetRoute(t *testing.T) {
	for _, tt := range []struct {
		typ int
		dst string
	}{{rtmAdd, "192.0.2.10"}, {rtmDelete, "192.0.2.10"}, {rtmAdd, "2001:db8::10"}} {
		dst := netip.MustParseAddr(tt.dst)
		ours, err := hostRouteMsg(tt.typ, 5, dst, 17, "utun7")
		if err != nil {
			t.Fatal(err)
		}
		var dstAddr xroute.Addr = &xroute.Inet4Addr{IP: dst.As4()}
		if dst.Is6() {
			dstAddr = &xroute.Inet6Addr{IP: dst.As16()}
		}
		m := &xroute.RouteMessage{Version: unix.RTM_VERSION, Type: tt.typ, Flags: unix.RTF_UP | unix.RTF_HOST | unix.RTF_STATIC, Seq: 5,
			Addrs: []xroute.Addr{unix.RTAX_DST: dstAddr, unix.RTAX_GATEWAY: &xroute.LinkAddr{Index: 17, Name: "utun7"}}}
		theirs, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		// x/net pads messages on darwin with zeros (golang.org/issue/22456)
		// and counts the padding in rtm_msglen.
		if len(theirs) < len(ours) || !bytes.Equal(theirs[2:len(ours)], ours[2:]) || !bytes.Equal(theirs[len(ours):], make([]byte, len(theirs)-len(ours))) {
			t.Errorf("%d %s:\n ours %x\n x/net %x", tt.typ, tt.dst, ours, theirs)
		}
		msgs, err := xroute.ParseRIB(xroute.RIBTypeRoute, ours)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("x/net cannot parse our message: %v", err)
		}
		rm := msgs[0].(*xroute.RouteMessage)
		if la, ok := rm.Addrs[unix.RTAX_GATEWAY].(*xroute.LinkAddr); !ok || la.Index != 17 || la.Name != "utun7" {
			t.Errorf("x/net parses the gateway as %#v", rm.Addrs[unix.RTAX_GATEWAY])
		}
	}
}

// TestDefaultRouteMsgMatchesXNetRoute: the default-route messages the
// follower's tests are built from are what x/net marshals, and
// mayMoveDefault takes x/net's own bytes for one.
func TestDefaultRouteMsgMatchesXNetRoute(t *testing.T) {
	for _, typ := range []int{rtmAdd, rtmDelete, rtmChange} {
		ours := defaultRouteMsgBytes(t, typ, "0.0.0.0", "192.168.1.1", nil)
		m := &xroute.RouteMessage{Version: unix.RTM_VERSION, Type: typ, Flags: unix.RTF_UP | unix.RTF_GATEWAY | unix.RTF_STATIC, Index: 4, Seq: 9,
			Addrs: []xroute.Addr{unix.RTAX_DST: &xroute.Inet4Addr{}, unix.RTAX_GATEWAY: &xroute.Inet4Addr{IP: [4]byte{192, 168, 1, 1}}}}
		theirs, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if len(theirs) < len(ours) || !bytes.Equal(theirs[2:len(ours)], ours[2:]) {
			t.Errorf("type %d:\n ours %x\n x/net %x", typ, ours, theirs)
		}
		if !mayMoveDefault(theirs) {
			t.Errorf("type %d: x/net's default-route message not taken for one", typ)
		}
	}
}
