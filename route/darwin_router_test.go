package route

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// fakeDarwin records what the macOS router asks of the system: routing
// messages (decoded to "add 192.0.2.10 via utun7"), pfctl calls and the
// token file, and plays a kernel that keeps host routes and an anchor.
type fakeDarwin struct {
	log      []string
	seq      int32
	routes   map[netip.Addr]bool
	anchor   string // rules loaded
	mainRule string
	token    uint64 // the last one pfctl -E handed out
	saved    uint64 // the token file
	enabled  int    // references
	gateway  netip.Addr
	failAdd  syscall.Errno
	pfFail   string // an argument that makes pfctl fail
	showLoss bool   // pfctl -s rules shows nothing (a refused load)
}

func newFakeDarwin() *fakeDarwin {
	return &fakeDarwin{routes: map[netip.Addr]bool{}, mainRule: "anchor \"com.apple/*\" all\n"}
}

func (f *fakeDarwin) NextSeq() int32 { f.seq++; return f.seq }
func (f *fakeDarwin) IfIndex(name string) (int, error) {
	if name != "utun7" {
		return 0, fmt.Errorf("no interface %s", name)
	}
	return 17, nil
}

func (f *fakeDarwin) RouteMsg(msg []byte) (rtReply, error) {
	r, ok, err := parseRtMsg(msg)
	if err != nil || !ok {
		return r, fmt.Errorf("fake kernel: bad message: %v", err)
	}
	dst, _ := sockaddrAddr(r.addrs[rtaxIndex(rtaDst)])
	switch r.typ {
	case rtmGet:
		if !f.gateway.IsValid() || f.gateway.Is4() != dst.Is4() {
			return r, syscall.ESRCH
		}
		gw, _ := inetSockaddr(f.gateway)
		ifp, _ := linkSockaddr(4, "en0")
		rep := rtMsg(rtmGet, rtfUp|rtfGateway, 4, r.seq, rtaDst|rtaGateway|rtaIfp, r.addrs[0], gw, ifp)
		r, _, _ = parseRtMsg(rep)
		return r, nil
	case rtmAdd:
		idx, name, _ := linkIndexName(r.addrs[rtaxIndex(rtaGateway)])
		f.log = append(f.log, fmt.Sprintf("add %s via %s#%d flags %#x", dst, name, idx, r.flags))
		if f.failAdd != 0 {
			return r, f.failAdd
		}
		if f.routes[dst] {
			return r, syscall.EEXIST
		}
		f.routes[dst] = true
	case rtmDelete:
		f.log = append(f.log, fmt.Sprintf("delete %s", dst))
		if !f.routes[dst] {
			return r, syscall.ESRCH
		}
		delete(f.routes, dst)
	}
	return r, nil
}

func (f *fakeDarwin) Pfctl(stdin string, args ...string) (string, error) {
	line := "pfctl " + strings.Join(args, " ")
	f.log = append(f.log, line)
	if f.pfFail != "" && strings.Contains(line, f.pfFail) {
		return "pfctl: syntax error", errors.New("exit status 1: pfctl: syntax error")
	}
	switch {
	case slices.Equal(args, pfMainRulesArgs()):
		return f.mainRule, nil
	case slices.Equal(args, pfEnableArgs()):
		f.enabled++
		f.token += 1000
		return fmt.Sprintf("No ALTQ support in kernel\npf enabled\nToken : %d\n", f.token), nil
	case len(args) == 2 && args[0] == "-X":
		f.enabled--
		return "pf: token released\n", nil
	case len(args) == 4 && args[2] == "-f":
		f.anchor = stdin
		return "", nil
	case len(args) == 4 && args[2] == "-s":
		if f.showLoss {
			return "", nil
		}
		// pfctl's canonical form of our rules.
		return strings.ReplaceAll(strings.Join(slices.DeleteFunc(strings.Split(f.anchor, "\n"), func(s string) bool {
			return strings.HasPrefix(s, "#") || strings.HasPrefix(s, "nat")
		}), "\n"), "port ", "port = "), nil
	case len(args) == 4 && args[2] == "-F":
		f.anchor = ""
		return "rules cleared\n", nil
	}
	return "", nil
}

func (f *fakeDarwin) LoadToken() (uint64, bool) { return f.saved, f.saved != 0 }
func (f *fakeDarwin) SaveToken(t uint64) error  { f.saved = t; return nil }

func TestPfRulesGolden(t *testing.T) {
	got := pfRules(pfConfig{Tun: "utun7", AppPort: 4571, Egress: "en0",
		TunAddrs: []netip.Addr{netip.MustParseAddr("169.254.69.1"), netip.MustParseAddr("fd69:6178::1")}})
	want := `# iaxcrypt: the IAX2 application's UDP from port 4571 goes into utun7
nat on en0 inet from 169.254.69.1 to any -> (en0)
nat on en0 inet6 from fd69:6178::1 to any -> (en0)
pass out quick on ! utun7 route-to utun7 inet proto udp from any port 4571 to any no state
pass out quick on ! utun7 route-to utun7 inet6 proto udp from any port 4571 to any no state
block drop out quick on ! utun7 proto udp from any port 4571 to any
`
	if got != want {
		t.Errorf("rules:\n%s\nwant:\n%s", got, want)
	}
}

func TestPfParsers(t *testing.T) {
	if tok, ok := parsePfToken("No ALTQ support in kernel\nALTQ related functions disabled\npf enabled\nToken : 17424977917441458117\n"); !ok || tok != 17424977917441458117 {
		t.Errorf("token = %d, %v", tok, ok)
	}
	if _, ok := parsePfToken("pfctl: pf already enabled\n"); ok {
		t.Error("token found in output without one")
	}
	if !parsePfEnabled("Status: Enabled for 0 days 00:01:02           Debug: Urgent\n") || parsePfEnabled("Status: Disabled for 0 days\n") || parsePfEnabled("") {
		t.Error("parsePfEnabled is wrong")
	}
	main := "scrub-anchor \"com.apple/*\" all fragment reassemble\nanchor \"com.apple/*\" all\n"
	if !mainEvaluatesAnchor(main, DefaultPfAnchor) || mainEvaluatesAnchor("pass all\n", DefaultPfAnchor) || !mainEvaluatesAnchor("anchor \"iaxcrypt\" all\n", "iaxcrypt") {
		t.Error("mainEvaluatesAnchor is wrong")
	}
	shown := `pass out quick on ! utun7 route-to utun7 inet proto udp from any port = 4569 to any no state
pass out quick on ! utun7 route-to utun7 inet6 proto udp from any port = 4569 to any no state
block drop out quick on ! utun7 proto udp from any port = 4569 to any
`
	c := pfConfig{Tun: "utun7", AppPort: 4569}
	if m := missingPfRules(shown, c); len(m) != 0 {
		t.Errorf("missing %v in a complete anchor", m)
	}
	lines := strings.Split(shown, "\n")
	for i, want := range []string{"IPv4 route-to utun7", "IPv6 route-to utun7", "kill switch (block)"} {
		partial := strings.Join(slices.Delete(slices.Clone(lines), i, i+1), "\n")
		if m := missingPfRules(partial, c); !slices.Equal(m, []string{want}) {
			t.Errorf("without line %d: missing %v, want [%s]", i, m, want)
		}
	}
	if m := missingPfRules(strings.ReplaceAll(shown, "utun7", "utun8"), c); len(m) != 3 {
		t.Errorf("rules of another utun accepted: missing %v", m)
	}
}

func TestDarwinRouterLifecycle(t *testing.T) {
	f := newFakeDarwin()
	r, err := newDarwin(Config{TunName: "utun7", AppPort: 4571}, f)
	if err != nil {
		t.Fatal(err)
	}
	v4, v6 := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")
	steps := []struct {
		name    string
		op      func() error
		want    []string
		wantErr error
	}{
		{"peer before Up is remembered", func() error { return r.AddPeer(v4) }, nil, nil},
		{"Up: anchor checked, pf referenced, rules loaded and read back, then routes", r.Up, []string{
			"pfctl -s rules", "pfctl -E", "pfctl -a com.apple/iaxcrypt -f -", "pfctl -a com.apple/iaxcrypt -s rules",
			"add 192.0.2.10 via utun7#17 flags 0x805"}, nil},
		{"peer after Up", func() error { return r.AddPeer(v6) }, []string{"add 2001:db8::10 via utun7#17 flags 0x805"}, nil},
		{"same peer again", func() error { return r.AddPeer(v6) }, nil, nil},
		{"delete peer", func() error { return r.DelPeer(v6) }, []string{"delete 2001:db8::10"}, nil},
		{"delete unknown", func() error { return r.DelPeer(v6) }, nil, ErrUnknownPeer},
		{"Close: routes first, then the anchor and pf's reference", r.Close, []string{
			"delete 192.0.2.10", "pfctl -a com.apple/iaxcrypt -F all", "pfctl -X 1000"}, nil},
		{"Close again does nothing", r.Close, nil, nil},
		{"AddPeer after Close", func() error { return r.AddPeer(v6) }, nil, ErrClosed},
	}
	for _, s := range steps {
		f.log = nil
		err := s.op()
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Errorf("%s: error %v, want %v", s.name, err, s.wantErr)
		}
		if !slices.Equal(f.log, s.want) {
			t.Errorf("%s:\n did  %q\n want %q", s.name, f.log, s.want)
		}
	}
	if f.anchor != "" || f.enabled != 0 || len(f.routes) != 0 || f.saved != 0 {
		t.Errorf("after Close: anchor %q, pf references %d, routes %v, token file %d", f.anchor, f.enabled, f.routes, f.saved)
	}
}

func TestDarwinRouterFailures(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.10")
	tests := []struct {
		name    string
		setup   func(f *fakeDarwin)
		op      func(r *darwinRouter) error
		wantMsg string
		wantErr error
	}{
		{"anchor not evaluated by pf.conf", func(f *fakeDarwin) { f.mainRule = "pass all\n" }, (*darwinRouter).Up, "pfctl -f /etc/pf.conf", nil},
		{"rules refused", func(f *fakeDarwin) { f.pfFail = "-f -" }, (*darwinRouter).Up, "syntax error", nil},
		{"rules not there when read back", func(f *fakeDarwin) { f.showLoss = true }, (*darwinRouter).Up, "lacks, after loading", nil},
		{"kernel refuses the route (route(8) would exit 0)", func(f *fakeDarwin) { f.failAdd = syscall.ENETUNREACH },
			func(r *darwinRouter) error { r.AddPeer(v4); return r.Up() }, "no address of that family", syscall.ENETUNREACH},
		{"route exists", func(f *fakeDarwin) { f.routes[v4] = true },
			func(r *darwinRouter) error { r.AddPeer(v4); return r.Up() }, "exists already", syscall.EEXIST},
		{"peer is the default gateway", func(f *fakeDarwin) { f.gateway = v4 },
			func(r *darwinRouter) error { r.Up(); return r.AddPeer(v4) }, "gateway of the default route", ErrInvalidPeer},
	}
	for _, tt := range tests {
		f := newFakeDarwin()
		tt.setup(f)
		r, _ := newDarwin(Config{TunName: "utun7"}, f)
		err := tt.op(r)
		if err == nil || !strings.Contains(err.Error(), tt.wantMsg) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
			t.Errorf("%s: %v; want an error saying %q", tt.name, err, tt.wantMsg)
		}
	}
	// A route already gone with its utun counts as removed.
	f := newFakeDarwin()
	r, _ := newDarwin(Config{TunName: "utun7"}, f)
	r.AddPeer(v4)
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	delete(f.routes, v4)
	if err := r.Close(); err != nil {
		t.Errorf("Close with the route already gone: %v", err)
	}
	// Take-over: a crashed run's anchor and reference are replaced, and
	// pf's reference count never drops to zero on the way.
	f = newFakeDarwin()
	r1, _ := newDarwin(Config{TunName: "utun7"}, f)
	if err := r1.Up(); err != nil {
		t.Fatal(err)
	}
	found, err := darwinLeftovers(f, DefaultPfAnchor)
	if err != nil || len(found) != 3 {
		t.Fatalf("leftovers %q, %v; want the three rules", found, err)
	}
	f.log = nil
	r2, _ := newDarwin(Config{TunName: "utun7"}, f)
	if err := r2.Up(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"pfctl -s rules", "pfctl -E", "pfctl -X 1000", "pfctl -a com.apple/iaxcrypt -f -", "pfctl -a com.apple/iaxcrypt -s rules"}; !slices.Equal(f.log, want) {
		t.Errorf("take-over did %q, want %q", f.log, want)
	}
	if f.enabled != 1 {
		t.Errorf("pf references after take-over: %d, want 1", f.enabled)
	}
}
