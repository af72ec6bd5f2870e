package route

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

var wantUp = []string{
	"add route blackhole default table 17769 metric 1000000",
	"add route default dev iax0 table 17769 metric 10",
	"add rule pref 4569 nop",
	"add rule pref 4560 fwmark 0x4569 goto 4569",
	"add rule pref 4561 ipproto udp sport 4569 lookup 17769",
	"add -6 route blackhole default table 17769 metric 1000000",
	"add -6 route default dev iax0 table 17769 metric 10",
	"add -6 rule pref 4569 nop",
	"add -6 rule pref 4560 fwmark 0x4569 goto 4569",
	"add -6 rule pref 4561 ipproto udp sport 4569 lookup 17769",
}

func newTestRouter(t *testing.T, f *fakeOps) *linuxRouter {
	t.Helper()
	r, err := newLinux(Config{TunName: "iax0"}, f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestUpInstallsRulesRoutesAndKillSwitch(t *testing.T) {
	f := newFakeOps()
	r := newTestRouter(t, f)
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.log, wantUp) {
		t.Errorf("Up changed:\n%s\nwant:\n%s", strings.Join(f.log, "\n"), strings.Join(wantUp, "\n"))
	}
	f.log = nil
	if err := r.Up(); err != nil || len(f.log) != 0 {
		t.Errorf("second Up = %v and changed %q; want nil and nothing", err, f.log)
	}
}

func TestPeers(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.10")
	v6 := netip.MustParseAddr("2001:db8::10")
	mapped := netip.MustParseAddr("::ffff:192.0.2.11")
	f := newFakeOps()
	r := newTestRouter(t, f)

	// A peer added before Up is installed by Up, after the base rules.
	if err := r.AddPeer(v4); err != nil {
		t.Fatal(err)
	}
	if len(f.log) != 0 {
		t.Fatalf("AddPeer before Up changed %q", f.log)
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.log[len(f.log)-1], "add rule pref 4562 to 192.0.2.10/32 ipproto udp lookup 17769"; got != want {
		t.Errorf("last change of Up = %q, want %q", got, want)
	}

	tests := []struct {
		name    string
		op      func() error
		wantLog []string
		wantErr error
	}{
		{"add v6", func() error { return r.AddPeer(v6) },
			[]string{"add -6 rule pref 4562 to 2001:db8::10/128 ipproto udp lookup 17769"}, nil},
		{"add mapped v4 is unmapped", func() error { return r.AddPeer(mapped) },
			[]string{"add rule pref 4562 to 192.0.2.11/32 ipproto udp lookup 17769"}, nil},
		{"add twice changes nothing", func() error { return r.AddPeer(v6) }, nil, nil},
		{"delete", func() error { return r.DelPeer(v6) },
			[]string{"del -6 rule pref 4562 to 2001:db8::10/128 ipproto udp lookup 17769"}, nil},
		{"delete unknown", func() error { return r.DelPeer(v6) }, nil, ErrUnknownPeer},
		{"loopback", func() error { return r.AddPeer(netip.MustParseAddr("127.0.0.1")) }, nil, ErrInvalidPeer},
		{"unspecified", func() error { return r.AddPeer(netip.IPv6Unspecified()) }, nil, ErrInvalidPeer},
		{"multicast", func() error { return r.AddPeer(netip.MustParseAddr("224.0.0.1")) }, nil, ErrInvalidPeer},
		{"zone", func() error { return r.AddPeer(netip.MustParseAddr("fe80::1%eth0")) }, nil, ErrInvalidPeer},
		{"invalid", func() error { return r.AddPeer(netip.Addr{}) }, nil, ErrInvalidPeer},
	}
	for _, tt := range tests {
		f.log = nil
		err := tt.op()
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
		if !slices.Equal(f.log, tt.wantLog) {
			t.Errorf("%s: changed %q, want %q", tt.name, f.log, tt.wantLog)
		}
	}
	if got, want := r.Peers(), []netip.Addr{v4, mapped.Unmap()}; !slices.Equal(got, want) {
		t.Errorf("Peers = %v, want %v", got, want)
	}
}

func TestCloseRemovesEverythingOnce(t *testing.T) {
	f := newFakeOps()
	r := newTestRouter(t, f)
	if err := r.AddPeer(netip.MustParseAddr("192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	f.log = nil
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.rules) != 0 || len(f.routes) != 0 {
		t.Fatalf("after Close: rules %v, routes %v; want none", f.rules, f.routes)
	}
	// Rules go first (restoring the direct path on purpose), the kill
	// switch last.
	if !strings.Contains(f.log[0], "to 192.0.2.10/32") || !strings.Contains(f.log[len(f.log)-1], "blackhole") {
		t.Errorf("Close order %q: want the peer rule first and a blackhole last", f.log)
	}
	f.log = nil
	if err := r.Close(); err != nil || len(f.log) != 0 {
		t.Errorf("second Close = %v, changed %q; want nil and nothing", err, f.log)
	}
	if err := r.Up(); !errors.Is(err, ErrClosed) {
		t.Errorf("Up after Close = %v, want ErrClosed", err)
	}
}

func TestCloseAfterTUNVanished(t *testing.T) {
	f := newFakeOps()
	r := newTestRouter(t, f)
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	f.crashTUN("iax0")
	if err := r.Close(); err != nil {
		t.Fatalf("Close after the TUN vanished = %v, want nil", err)
	}
	if len(f.rules) != 0 || len(f.routes) != 0 {
		t.Errorf("after Close: rules %v, routes %v; want none", f.rules, f.routes)
	}
}

func TestCrashLeavesKillSwitchAndUpReportsStale(t *testing.T) {
	f := newFakeOps()
	r := newTestRouter(t, f)
	if err := r.AddPeer(netip.MustParseAddr("2001:db8::10")); err != nil {
		t.Fatal(err)
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	f.crashTUN("iax0") // the daemon died: no Close

	// What stays is exactly the kill switch: rules into a table that
	// holds only a blackhole.
	for _, rt := range f.routes {
		if rt.Type != 6 /* RTN_BLACKHOLE */ {
			t.Errorf("after crash, table holds %s; want only blackholes", describeRoute(&rt, ""))
		}
	}
	if len(f.routes) != 2 {
		t.Errorf("after crash %d routes remain, want the 2 blackholes", len(f.routes))
	}

	f.links["iax0"] = 8 // the next run creates its TUN
	r2 := newTestRouter(t, f)
	f.log = nil
	err := r2.Up()
	var stale *StaleError
	if !errors.Is(err, ErrStale) || !errors.As(err, &stale) {
		t.Fatalf("Up over leftovers = %v, want a *StaleError", err)
	}
	if len(f.log) != 0 {
		t.Errorf("Up over leftovers changed %q, want nothing", f.log)
	}
	// 6 base rules + 1 peer rule + 2 blackholes.
	if len(stale.Found) != 9 {
		t.Errorf("StaleError lists %d objects, want 9:\n%s", len(stale.Found), strings.Join(stale.Found, "\n"))
	}
}

func TestCleanupRemovesOnlyOurs(t *testing.T) {
	f := newFakeOps()
	r := newTestRouter(t, f)
	if err := r.AddPeer(netip.MustParseAddr("192.0.2.10")); err != nil {
		t.Fatal(err)
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	f.crashTUN("iax0")
	f.links["iax0"] = 9 // e.g. a persistent TUN someone held open

	// Rules of other software, some at our priorities.
	foreign := []netlink.Rule{
		{Family: netlink.FAMILY_V4, Priority: 4561, Table: 100, Goto: -1, Flow: -1},
		{Family: netlink.FAMILY_V4, Priority: 4560, Mark: 0x99, Goto: 4565, Flow: -1},
		{Family: netlink.FAMILY_V6, Priority: 32766, Table: 254, Goto: -1, Flow: -1},
	}
	f.rules = append(f.rules, foreign...)
	f.routes = append(f.routes, netlink.Route{Family: netlink.FAMILY_V4, Table: 100, Dst: defaultDst(netlink.FAMILY_V4), LinkIndex: 3})

	removed, err := cleanupLinux(Config{TunName: "iax0"}, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 10 { // 7 rules, 2 blackholes, 1 device
		t.Errorf("Cleanup removed %d objects, want 10:\n%s", len(removed), strings.Join(removed, "\n"))
	}
	if len(f.rules) != len(foreign) || len(f.routes) != 1 || f.LinkExists("iax0") {
		t.Errorf("after Cleanup: rules %v, routes %v, iax0 exists %v; want only the foreign ones",
			f.rules, f.routes, f.LinkExists("iax0"))
	}
	again, err := cleanupLinux(Config{TunName: "iax0"}, f)
	if err != nil || len(again) != 0 {
		t.Errorf("second Cleanup = %q, %v; want nothing removed", again, err)
	}
	if err := newTestRouterFor(t, f, 10).Up(); err != nil {
		t.Errorf("Up after Cleanup = %v, want nil", err)
	}
}

func newTestRouterFor(t *testing.T, f *fakeOps, tunIndex int) *linuxRouter {
	f.links["iax0"] = tunIndex
	return newTestRouter(t, f)
}

func TestUpFailureLeavesNothing(t *testing.T) {
	for _, failOn := range []string{
		"route default dev iax0",
		"rule pref 4561 ipproto udp",
		"-6 rule pref 4560",
		"to 192.0.2.10/32",
	} {
		f := newFakeOps()
		f.failOn = failOn
		r := newTestRouter(t, f)
		if err := r.AddPeer(netip.MustParseAddr("192.0.2.10")); err != nil {
			t.Fatal(err)
		}
		if err := r.Up(); err == nil {
			t.Errorf("failing %q: Up = nil, want an error", failOn)
		}
		if len(f.rules) != 0 || len(f.routes) != 0 {
			t.Errorf("failing %q: left rules %v and routes %v", failOn, f.rules, f.routes)
		}
	}
}

func TestUpWithoutTUN(t *testing.T) {
	f := newFakeOps()
	delete(f.links, "iax0")
	r := newTestRouter(t, f)
	err := r.Up()
	if err == nil || !strings.Contains(err.Error(), "create it before") {
		t.Errorf("Up without TUN = %v, want an error saying to create the TUN", err)
	}
}
