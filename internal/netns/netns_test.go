package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a tiny UDP echo server and client, so the
// root test needs nothing installed beyond iproute2.
const helperEnv = "NETNS_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "echo-server":
		os.Exit(echoServer(os.Getenv("NETNS_TEST_ADDR")))
	case "echo-client":
		os.Exit(echoClient(os.Getenv("NETNS_TEST_ADDR")))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper")
		os.Exit(2)
	}
}

func echoServer(addr string) int {
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("listening")
	buf := make([]byte, 1500)
	for i := 0; i < 100; i++ {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return 1
		}
		c.WriteTo(buf[:n], from)
	}
	return 0
}

func echoClient(addr string) int {
	c, err := net.Dial("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("reply %s from %s\n", buf[:n], c.RemoteAddr())
	return 0
}

func TestPairUDPEcho(t *testing.T) {
	a, b := NewPair(t, "nstest")
	if a.Name == b.Name || !strings.HasPrefix(a.Name, fmt.Sprintf("nstest-%d-", os.Getpid())) {
		t.Fatalf("namespace names %q, %q: want distinct, starting with prefix and pid", a.Name, b.Name)
	}
	if got := a.MustRun("ip", "-o", "-4", "addr", "show", "dev", LinkName); !strings.Contains(got, DefaultAddrA.String()) {
		t.Fatalf("address of A: %q, want %v", got, DefaultAddrA)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const port = 47123
	srv := b.Command(context.Background(), exe)
	srv.Env = append(os.Environ(), helperEnv+"=echo-server", fmt.Sprintf("NETNS_TEST_ADDR=%s:%d", b.IP(), port))
	p, err := b.StartCmd("echo-server", srv)
	if err != nil {
		t.Fatal(err)
	}
	b.WaitUDPBound(t, 10*time.Second, port)
	if ok, err := a.UDPBound(port); err != nil || ok {
		t.Fatalf("A sees port %d bound (%v, %v): namespaces not separate", port, ok, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli := a.Command(ctx, exe)
	cli.Env = append(os.Environ(), helperEnv+"=echo-client", fmt.Sprintf("NETNS_TEST_ADDR=%s:%d", b.IP(), port))
	out, err := cli.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "reply ping") {
		t.Fatalf("echo from A to B: %v: %s\nserver output: %s", err, out, p.Output())
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("server still running after Stop")
	}
}

func TestPairRemovedAtCleanup(t *testing.T) {
	RequireRoot(t)
	var names []string
	t.Run("inner", func(t *testing.T) {
		a, b := NewPair(t, "nsclean")
		names = []string{a.Name, b.Name}
		b.Start("sleeper", "sleep", "60")
	})
	out, err := ip("netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Errorf("namespace %s still present after cleanup", n)
		}
	}
}

func TestCleanupStaleRemovesDeadOwners(t *testing.T) {
	RequireRoot(t)
	// 0x7ffffffe is above the kernel's pid_max limit, so no process has it.
	dead := fmt.Sprintf("nsstale-%d-1-a", 0x7ffffffe)
	live := fmt.Sprintf("nsstale-%d-1-a", os.Getpid())
	for _, n := range []string{dead, live} {
		if out, err := ip("netns", "add", n); err != nil {
			t.Fatalf("adding %s: %v: %s", n, err, out)
		}
		t.Cleanup(func() { ip("netns", "del", n) })
	}
	if err := CleanupStale("nsstale"); err != nil {
		t.Fatal(err)
	}
	out, _ := ip("netns", "list")
	if strings.Contains(string(out), dead) {
		t.Errorf("%s (dead owner) not removed", dead)
	}
	if !strings.Contains(string(out), live) {
		t.Errorf("%s (live owner) removed", live)
	}
}

func TestStaleNames(t *testing.T) {
	list := "pfx-100-1-a (id: 3)\npfx-100-1-b\npfx-200-2-a\nother-100-1-a\npfx-x-1-a\npfx-100-1-c\npfx-100-a\npfxx-100-1-a\n\n"
	alive := func(pid int) bool { return pid == 200 }
	got := strings.Join(staleNames(list, "pfx", alive), ",")
	if want := "pfx-100-1-a,pfx-100-1-b"; got != want {
		t.Errorf("staleNames = %q, want %q", got, want)
	}
}

func TestUDPTableHasPort(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  12: 0100000A:11D9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 0
  sl  local_address                         remote_address                        st tx_queue
  13: 00000000000000000000000000000000:11DB 00000000000000000000000000000000:0000 07 0
`
	tests := []struct {
		port int
		want bool
	}{
		{4569, true},  // 0x11D9
		{4571, true},  // 0x11DB, IPv6 table
		{4570, false}, // not bound
		{0, false},    // remote port column must not match
	}
	for _, tt := range tests {
		if got := udpTableHasPort(table, tt.port); got != tt.want {
			t.Errorf("udpTableHasPort(%d) = %v, want %v", tt.port, got, tt.want)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"iaxe2e", true},
		{"a-b-1", true},
		{"", false},
		{"has space", false},
		{"slash/no", false},
		{strings.Repeat("x", 25), false},
	}
	for _, tt := range tests {
		if err := validPrefix(tt.prefix); (err == nil) != tt.ok {
			t.Errorf("validPrefix(%q) = %v, want ok=%v", tt.prefix, err, tt.ok)
		}
	}
}

func TestPoll(t *testing.T) {
	n := 0
	if msg, ok := Poll(5*time.Second, func() (bool, string) { n++; return n >= 3, "not yet" }); !ok {
		t.Fatalf("Poll gave up: %s", msg)
	}
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
	msg, ok := Poll(100*time.Millisecond, func() (bool, string) { return false, "never" })
	if ok || msg != "never" {
		t.Errorf("Poll on a false condition = (%q, %v), want (\"never\", false)", msg, ok)
	}
}

func TestTrioRoutesThroughM(t *testing.T) {
	tr := NewTrio(t, "nstrio")
	route := tr.A.MustRun("ip", "route", "get", TrioAddrB.Addr().String())
	if !strings.Contains(route, "via "+TrioAddrMA.Addr().String()) {
		t.Fatalf("A's route to B does not go through M: %s", route)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const port = 47124
	addr := fmt.Sprintf("NETNS_TEST_ADDR=%s:%d", TrioAddrB.Addr(), port)
	srv := tr.B.Command(context.Background(), exe)
	srv.Env = append(os.Environ(), helperEnv+"=echo-server", addr)
	p, err := tr.B.StartCmd("echo-server", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	tr.B.WaitUDPBound(t, 10*time.Second, port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli := tr.A.Command(ctx, exe)
	cli.Env = append(os.Environ(), helperEnv+"=echo-client", addr)
	if out, err := cli.CombinedOutput(); err != nil || !strings.Contains(string(out), "reply ping") {
		t.Fatalf("echo from A to B through M: %v: %s", err, out)
	}
}
