package route

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"

	"github.com/iaxcrypt/iaxcrypt/platform/nstest"
	"github.com/iaxcrypt/iaxcrypt/tun"
)

// These tests change rules, routes and devices, so nstest runs them in a
// network namespace of their own; they never run in the machine's.

const testTun = "iaxt0"

func ipRouteGet(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"route", "get"}, args...)...).CombinedOutput()
	if err != nil {
		return "error: " + strings.TrimSpace(string(out))
	}
	return string(out)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readTUN reads one packet from dev, giving up after a deadline.
func readTUN(dev wgtun.Device) ([]byte, error) {
	type result struct {
		pkt []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		bufs := [][]byte{make([]byte, 2048)}
		sizes := []int{0}
		for {
			n, err := dev.Read(bufs, sizes, 16)
			if err != nil {
				res <- result{nil, err}
				return
			}
			if n > 0 && bufs[0][16]>>4 == 4 { // skip IPv6 router solicitations and the like
				res <- result{bufs[0][16 : 16+sizes[0]], nil}
				return
			}
		}
	}()
	select {
	case r := <-res:
		return r.pkt, r.err
	case <-time.After(5 * time.Second):
		return nil, errors.New("no packet in the TUN within 5s")
	}
}

func sendUDP(sport int, dst string) error {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: sport})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WriteToUDP([]byte("iax"), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
	return err
}

func TestKernelUpPeersClose(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	dev, err := tun.Create(testTun, 1400)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	r, err := New(Config{TunName: testTun, AppPort: 4569})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddr("192.0.2.50")
	if err := r.AddPeer(peer); err != nil {
		t.Fatal(err)
	}

	lookups := []struct {
		args []string
		want string
	}{
		{[]string{"192.0.2.7", "ipproto", "udp", "sport", "4569"}, "dev " + testTun + " table 17769"},
		{[]string{"192.0.2.7", "ipproto", "udp", "sport", "4569", "mark", "0x4569"}, "dev " + nstest.Iface},
		{[]string{"192.0.2.7", "ipproto", "udp", "sport", "4568"}, "dev " + nstest.Iface},
		{[]string{"2001:db8::7", "ipproto", "udp", "sport", "4569"}, "dev " + testTun + " table 17769"},
		{[]string{"2001:db8::7", "ipproto", "udp", "sport", "4569", "mark", "0x4569"}, "dev " + nstest.Iface},
		{[]string{"192.0.2.50", "ipproto", "udp", "sport", "40000"}, "dev " + testTun + " table 17769"},
		{[]string{"192.0.2.50", "ipproto", "udp", "sport", "40000", "mark", "0x4569"}, "dev " + nstest.Iface},
		{[]string{"192.0.2.50", "ipproto", "tcp", "dport", "80"}, "dev " + nstest.Iface},
	}
	for _, l := range lookups {
		if got := ipRouteGet(t, l.args...); !strings.Contains(got, l.want) {
			t.Errorf("ip route get %s = %q, want %q in it", strings.Join(l.args, " "), got, l.want)
		}
	}

	// A real packet from the application's port lands in the TUN, with
	// the veth's address as source although the TUN has none.
	if err := sendUDP(4569, "192.0.2.7:4569"); err != nil {
		t.Fatal(err)
	}
	pkt, err := readTUN(dev)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkt) < 28 || pkt[9] != unix.IPPROTO_UDP || netip.AddrFrom4([4]byte(pkt[12:16])).String() != nstest.Addr4 ||
		netip.AddrFrom4([4]byte(pkt[16:20])).String() != "192.0.2.7" || int(pkt[20])<<8|int(pkt[21]) != 4569 {
		t.Errorf("packet in TUN = %x, want UDP %s:4569 -> 192.0.2.7", pkt, nstest.Addr4)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t)
}

func assertNothingLeft(t *testing.T) {
	t.Helper()
	found, _, _, err := findLeftovers(kernelOps{}, mustDefaults(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("left behind:\n%s", strings.Join(found, "\n"))
	}
	if out, _ := exec.Command("ip", "rule").CombinedOutput(); strings.Contains(string(out), "4569") {
		t.Errorf("ip rule still mentions 4569:\n%s", out)
	}
}

func mustDefaults(t *testing.T) Config {
	cfg, err := Config{TunName: testTun}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestKernelCrashKillSwitchAndCleanup(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	dev, err := tun.Create(testTun, 1400)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{TunName: testTun})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	if err := r.AddPeer(netip.MustParseAddr("2001:db8::50")); err != nil {
		t.Fatal(err)
	}

	// Simulated crash: the TUN goes away, Close never runs.
	dev.Close()
	waitFor(t, "the TUN to vanish", func() bool { return !tun.Exists(testTun) })

	// The kill switch: the application's packets hit the blackhole
	// instead of leaving in clear; other ports and the daemon's mark are
	// unaffected.
	if got := ipRouteGet(t, "192.0.2.7", "ipproto", "udp", "sport", "4569"); !strings.Contains(got, "error") {
		t.Errorf("after crash, ip route get sport 4569 = %q, want a failure (blackhole)", got)
	}
	if got := ipRouteGet(t, "2001:db8::50", "ipproto", "udp", "sport", "40000"); !strings.Contains(got, "blackhole") && !strings.Contains(got, "error") {
		t.Errorf("after crash, ip -6 route get to the peer = %q, want the blackhole", got)
	}
	if err := sendUDP(4569, "192.0.2.7:4569"); err == nil {
		t.Error("after crash, a packet from the application's port was sent, want it dropped by the blackhole")
	}
	if err := sendUDP(4568, "192.0.2.7:4569"); err != nil {
		t.Errorf("after crash, a packet from another port failed: %v", err)
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: DefaultTable}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 2 || routes[0].Type != unix.RTN_BLACKHOLE || routes[1].Type != unix.RTN_BLACKHOLE {
		t.Errorf("after crash table %d holds %v, want exactly the two blackholes", DefaultTable, routes)
	}

	// The next run finds the leftovers.
	dev2, err := tun.Create(testTun, 1400)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := New(Config{TunName: testTun})
	if err != nil {
		t.Fatal(err)
	}
	err = r2.Up()
	var stale *StaleError
	if !errors.As(err, &stale) || len(stale.Found) != 9 {
		t.Fatalf("Up over leftovers = %v, want a StaleError listing 9 objects", err)
	}
	dev2.Close()
	waitFor(t, "the second TUN to vanish", func() bool { return !tun.Exists(testTun) })

	// Cleanup, as "iaxcrypt down" runs it, also removes a leftover TUN.
	if out, err := exec.Command("ip", "tuntap", "add", "mode", "tun", "name", testTun).CombinedOutput(); err != nil {
		t.Fatalf("create persistent TUN: %v: %s", err, out)
	}
	removed, err := Cleanup(Config{TunName: testTun})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 10 || removed[len(removed)-1] != "removed device "+testTun {
		t.Errorf("Cleanup removed:\n%s\nwant 9 rules and routes and the device", strings.Join(removed, "\n"))
	}
	assertNothingLeft(t)
	if tun.Exists(testTun) {
		t.Error("Cleanup left the TUN device")
	}
	if got := ipRouteGet(t, "192.0.2.7", "ipproto", "udp", "sport", "4569"); !strings.Contains(got, "dev "+nstest.Iface) {
		t.Errorf("after Cleanup, ip route get sport 4569 = %q, want the direct path", got)
	}
	fmt.Println("cleanup removed:\n  " + strings.Join(removed, "\n  "))
}
