package route

import (
	"bufio"
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
		// The application's traffic to its own host (a PBX talking to an
		// iaxmodem over loopback) never meets our rules: the local table
		// (priority 0) matches first.
		{[]string{"127.0.0.1", "ipproto", "udp", "sport", "4569"}, "dev lo table local"},
		{[]string{nstest.Addr4, "ipproto", "udp", "sport", "4569"}, "dev lo table local"},
		{[]string{"::1", "ipproto", "udp", "sport", "4569"}, "dev lo table local"},
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

	// And a real packet from the application's port to a local listener
	// on loopback arrives there, not in the TUN.
	lis, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40001})
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if err := sendUDP(4569, "127.0.0.1:40001"); err != nil {
		t.Fatal(err)
	}
	lis.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, from, err := lis.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "iax" || from.Port != 4569 {
		t.Errorf("loopback packet from port 4569: got %q from %v, %v; want \"iax\" from port 4569", buf[:n], from, err)
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

// ipMonitor runs "ip -o monitor route rule": the kernel's own record of
// every rule and route change, in the order it made them.
type ipMonitor struct {
	cmd    *exec.Cmd
	lines  chan string
	marker int
}

func startMonitor(t *testing.T) *ipMonitor {
	t.Helper()
	cmd := exec.Command("ip", "-o", "monitor", "route", "rule")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ip monitor: %v", err)
	}
	m := &ipMonitor{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			m.lines <- sc.Text()
		}
		close(m.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// ip subscribes some time after it starts: add markers until one is
	// reported.
	deadline := time.Now().Add(5 * time.Second)
	for !m.tryMark(t, 100*time.Millisecond, nil) {
		if time.Now().After(deadline) {
			t.Fatal("ip monitor reported none of the marker routes within 5s")
		}
	}
	return m
}

// tryMark adds a marker route to table 4242 and collects the monitor's
// lines into seen until the marker shows up or wait passes. It reports
// whether the marker showed up. Marker lines are left out of seen.
func (m *ipMonitor) tryMark(t *testing.T, wait time.Duration, seen *[]string) bool {
	t.Helper()
	m.marker++
	dst := fmt.Sprintf("198.51.100.%d/32", m.marker)
	rt := &netlink.Route{Dst: mustIPNet(dst), Table: 4242, Type: unix.RTN_BLACKHOLE}
	if err := netlink.RouteAdd(rt); err != nil {
		t.Fatalf("add marker route %s: %v", dst, err)
	}
	defer netlink.RouteDel(rt)
	timeout := time.After(wait)
	for {
		select {
		case line, ok := <-m.lines:
			if !ok {
				t.Fatal("ip monitor exited")
			}
			if strings.Contains(line, "table 4242") {
				if strings.Contains(line, dst[:len(dst)-3]) && !strings.HasPrefix(line, "Deleted") {
					return true
				}
				continue
			}
			if seen != nil {
				*seen = append(*seen, line)
			}
		case <-timeout:
			return false
		}
	}
}

// changesSince returns the changes the kernel reported since the last
// marker.
func (m *ipMonitor) changesSince(t *testing.T) []string {
	t.Helper()
	var seen []string
	if !m.tryMark(t, 5*time.Second, &seen) {
		t.Fatal("ip monitor did not report the marker route within 5s")
	}
	return seen
}

func mustIPNet(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

// countRules returns how many lines of "ip [-6] rule" start with pref and
// contain want.
func countRules(t *testing.T, family, pref, want string) int {
	t.Helper()
	args := []string{"rule"}
	if family == "-6" {
		args = []string{"-6", "rule"}
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, pref+":") && strings.Contains(line, want) {
			n++
		}
	}
	return n
}

func TestKernelTakeOverAfterCrash(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	oldPeer, keptPeer, newPeer := "192.0.2.50", "2001:db8::50", "192.0.2.60"
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
	for _, p := range []string{oldPeer, keptPeer} {
		if err := r.AddPeer(netip.MustParseAddr(p)); err != nil {
			t.Fatal(err)
		}
	}

	// Simulated crash: the TUN goes away, Close never runs; the kill
	// switch holds.
	dev.Close()
	waitFor(t, "the TUN to vanish", func() bool { return !tun.Exists(testTun) })
	if got := ipRouteGet(t, "192.0.2.7", "ipproto", "udp", "sport", "4569"); !strings.Contains(got, "error") {
		t.Fatalf("after crash, ip route get sport 4569 = %q, want a failure (blackhole)", got)
	}

	// The next run: a new TUN, then take-over, watched by ip monitor.
	dev2, err := tun.Create(testTun, 1400)
	if err != nil {
		t.Fatal(err)
	}
	defer dev2.Close()
	r2, err := New(Config{TunName: testTun, TakeOver: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{keptPeer, newPeer} {
		if err := r2.AddPeer(netip.MustParseAddr(p)); err != nil {
			t.Fatal(err)
		}
	}
	mon := startMonitor(t)
	if err := r2.Up(); err != nil {
		t.Fatalf("take-over: %v", err)
	}
	changes := mon.changesSince(t)
	t.Logf("kernel changes during take-over:\n%s", strings.Join(changes, "\n"))

	// The kernel's order: both routes into the new TUN, then the new peer
	// rule, then the old peer rule removed; the sport rule and the
	// blackholes never removed, nothing of ours added twice.
	wantOrder := []string{
		"default dev " + testTun + " table 17769 scope link metric 10", // IPv4
		"default dev " + testTun + " table 17769 metric 10",            // IPv6
		"4562:\tfrom all to " + newPeer + " ipproto udp lookup 17769",
		"Deleted 4562:\tfrom all to " + oldPeer + " ipproto udp lookup 17769",
	}
	var got []string
	for _, line := range changes {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Deleted") && (strings.Contains(line, "sport 4569") || strings.Contains(line, "blackhole")) {
			t.Errorf("take-over removed %q", line)
		}
		if strings.Contains(line, "17769") {
			got = append(got, line)
		}
	}
	if len(got) != len(wantOrder) {
		t.Fatalf("take-over made %d changes to our rules and table:\n%s\nwant %d:\n%s",
			len(got), strings.Join(got, "\n"), len(wantOrder), strings.Join(wantOrder, "\n"))
	}
	for i := range got {
		if !strings.HasPrefix(got[i], wantOrder[i]) {
			t.Errorf("change %d = %q, want it to begin %q", i, got[i], wantOrder[i])
		}
	}

	lookups := []struct {
		args []string
		want string
	}{
		{[]string{"192.0.2.7", "ipproto", "udp", "sport", "4569"}, "dev " + testTun + " table 17769"},
		{[]string{"2001:db8::7", "ipproto", "udp", "sport", "4569"}, "dev " + testTun + " table 17769"},
		{[]string{"192.0.2.7", "ipproto", "udp", "sport", "4569", "mark", "0x4569"}, "dev " + nstest.Iface},
		{[]string{newPeer, "ipproto", "udp", "sport", "40000"}, "dev " + testTun + " table 17769"},
		{[]string{keptPeer, "ipproto", "udp", "sport", "40000"}, "dev " + testTun + " table 17769"},
		{[]string{oldPeer, "ipproto", "udp", "sport", "40000"}, "dev " + nstest.Iface},
	}
	for _, l := range lookups {
		if got := ipRouteGet(t, l.args...); !strings.Contains(got, l.want) {
			t.Errorf("after take-over, ip route get %s = %q, want %q in it", strings.Join(l.args, " "), got, l.want)
		}
	}
	rules := []struct{ family, pref, want string }{
		{"-4", "4560", "from all fwmark 0x4569 goto 4569"},
		{"-4", "4561", "from all ipproto udp sport 4569 lookup 17769"},
		{"-4", "4562", "from all to " + newPeer + " ipproto udp lookup 17769"},
		{"-4", "4569", "from all nop"},
		{"-6", "4560", "from all fwmark 0x4569 goto 4569"},
		{"-6", "4561", "from all ipproto udp sport 4569 lookup 17769"},
		{"-6", "4562", "from all to " + keptPeer + " ipproto udp lookup 17769"},
		{"-6", "4569", "from all nop"},
	}
	for _, r := range rules {
		if n := countRules(t, r.family, r.pref, r.want); n != 1 {
			t.Errorf("ip %s rule shows %q at %s %d times, want once", r.family, r.want, r.pref, n)
		}
		if n := countRules(t, r.family, r.pref, ""); n != 1 {
			t.Errorf("ip %s rule shows %d rules at %s, want 1", r.family, n, r.pref)
		}
	}

	// A real packet from the application's port lands in the new TUN.
	if err := sendUDP(4569, "192.0.2.7:4569"); err != nil {
		t.Fatal(err)
	}
	pkt, err := readTUN(dev2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkt) < 28 || netip.AddrFrom4([4]byte(pkt[16:20])).String() != "192.0.2.7" || int(pkt[20])<<8|int(pkt[21]) != 4569 {
		t.Errorf("packet in the new TUN = %x, want UDP from port 4569 to 192.0.2.7", pkt)
	}

	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t)
}
