package route

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	oldTunIndex = 7 // newFakeOps's iax0, the crashed run's TUN
	newTunIndex = 8 // the TUN the next run creates
)

// crashedRun returns a fake kernel after a run with cfg and peers was
// SIGKILLed (no Close), and the next run created its TUN under the same
// name.
func crashedRun(t *testing.T, cfg Config, peers ...string) *fakeOps {
	t.Helper()
	f := newFakeOps()
	r, err := newLinux(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if err := r.AddPeer(netip.MustParseAddr(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	f.crashTUN("iax0")
	f.links["iax0"] = newTunIndex
	f.log = nil
	return f
}

// takeOverRouter returns a router with TakeOver set and peers added.
func takeOverRouter(t *testing.T, f *fakeOps, peers ...string) *linuxRouter {
	t.Helper()
	r, err := newLinux(Config{TunName: "iax0", TakeOver: true}, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		if err := r.AddPeer(netip.MustParseAddr(p)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// fakeState lists the fake's rules and routes, sorted, as "ip" shows them.
func fakeState(f *fakeOps) []string {
	var out []string
	for i := range f.rules {
		out = append(out, describeRule(&f.rules[i]))
	}
	for i := range f.routes {
		out = append(out, describeRoute(&f.routes[i], f.linkName(f.routes[i].LinkIndex)))
	}
	slices.Sort(out)
	return out
}

// freshState is what a fresh Up with peers leaves, with the new TUN.
func freshState(t *testing.T, peers ...string) []string {
	t.Helper()
	f := newFakeOps()
	f.links["iax0"] = newTunIndex
	r := newTestRouter(t, f)
	for _, p := range peers {
		if err := r.AddPeer(netip.MustParseAddr(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Up(); err != nil {
		t.Fatal(err)
	}
	return fakeState(f)
}

// guardDirectPath checks, after every change the fake records, that the
// direct path, once closed in a family, stays closed: the sport rule
// steers the application's packets into table 17769 and that table holds
// the blackhole. It returns a function that reports what it saw.
func guardDirectPath(t *testing.T, f *fakeOps) func() []string {
	t.Helper()
	var violations []string
	closed := make(map[int]bool)
	check := func(line string) {
		for _, fam := range families {
			prefix := strings.TrimSpace(familyName(fam))
			if prefix != "" {
				prefix += " "
			}
			var sport, blackhole bool
			for i := range f.rules {
				if describeRule(&f.rules[i]) == prefix+"rule pref 4561 ipproto udp sport 4569 lookup 17769" {
					sport = true
				}
			}
			for i := range f.routes {
				if f.routes[i].Family == fam && isKillSwitchRoute(&f.routes[i]) && f.routes[i].Table == DefaultTable {
					blackhole = true
				}
			}
			if closed[fam] && (!sport || !blackhole) {
				violations = append(violations, "after "+line+": "+prefix+"direct path open")
			}
			closed[fam] = sport && blackhole
		}
	}
	check("start")
	f.onChange = check
	return func() []string { f.onChange = nil; return violations }
}

// checkRemovalOrder reports a removal of the sport rule or a blackhole
// that comes before the route into the new TUN of its family is in.
func checkRemovalOrder(log []string) []string {
	var bad []string
	for _, fam := range families {
		prefix := familyName(fam)
		tunAt := -1
		for i, line := range log {
			if (strings.HasPrefix(line, "add "+prefix+"route default dev iax0") ||
				strings.HasPrefix(line, "replace "+prefix+"route default dev iax0")) && tunAt < 0 {
				tunAt = i
			}
		}
		for i, line := range log {
			if !strings.HasPrefix(line, "del "+prefix+"r") {
				continue
			}
			if (strings.Contains(line, "sport") || strings.Contains(line, "blackhole")) && (tunAt < 0 || i < tunAt) {
				bad = append(bad, line)
			}
		}
	}
	return bad
}

func TestTakeOver(t *testing.T) {
	defaults := Config{TunName: "iax0"}
	tests := []struct {
		name     string
		setup    func(t *testing.T) *fakeOps // the kernel as the new run finds it
		newPeers []string
		wantLog  []string
	}{
		{
			name:     "crash, same peers: only the TUN routes are added",
			setup:    func(t *testing.T) *fakeOps { return crashedRun(t, defaults, "192.0.2.10", "2001:db8::10") },
			newPeers: []string{"192.0.2.10", "2001:db8::10"},
			wantLog: []string{
				"add route default dev iax0 table 17769 metric 10",
				"add -6 route default dev iax0 table 17769 metric 10",
			},
		},
		{
			name:     "crash, other peers: the old peer rule goes last",
			setup:    func(t *testing.T) *fakeOps { return crashedRun(t, defaults, "192.0.2.10", "192.0.2.11") },
			newPeers: []string{"192.0.2.11", "192.0.2.12"},
			wantLog: []string{
				"add route default dev iax0 table 17769 metric 10",
				"add -6 route default dev iax0 table 17769 metric 10",
				"add rule pref 4562 to 192.0.2.12/32 ipproto udp lookup 17769",
				"del rule pref 4562 to 192.0.2.10/32 ipproto udp lookup 17769",
			},
		},
		{
			name: "old TUN still there under another name: its routes are replaced in one step",
			setup: func(t *testing.T) *fakeOps {
				f := crashedRun(t, defaults)
				// Undo the crash's route removal: the old device
				// lives on as iaxold with its routes.
				f.links["iaxold"] = oldTunIndex
				for _, fam := range families {
					f.routes = append(f.routes, *newTestRouter(t, f).tableRoutes(fam, oldTunIndex)[1])
				}
				return f
			},
			wantLog: []string{
				"replace route default dev iax0 table 17769 metric 10",
				"replace -6 route default dev iax0 table 17769 metric 10",
			},
		},
		{
			name: "crash during the first Up: missing rules are added after the TUN route",
			setup: func(t *testing.T) *fakeOps {
				f := crashedRun(t, defaults)
				f.rules = slices.DeleteFunc(f.rules, func(r netlink.Rule) bool {
					return r.Family == netlink.FAMILY_V6 || r.Priority == 4561
				})
				return f
			},
			wantLog: []string{
				"add route default dev iax0 table 17769 metric 10",
				"add rule pref 4561 ipproto udp sport 4569 lookup 17769",
				"add -6 route default dev iax0 table 17769 metric 10",
				"add -6 rule pref 4569 nop",
				"add -6 rule pref 4560 fwmark 0x4569 goto 4569",
				"add -6 rule pref 4561 ipproto udp sport 4569 lookup 17769",
			},
		},
		{
			name: "a duplicate sport rule: one copy stays, the other goes last",
			setup: func(t *testing.T) *fakeOps {
				f := crashedRun(t, defaults)
				f.rules = append(f.rules, *newTestRouter(t, f).baseRules(netlink.FAMILY_V4)[2])
				return f
			},
			wantLog: []string{
				"add route default dev iax0 table 17769 metric 10",
				"add -6 route default dev iax0 table 17769 metric 10",
				"del rule pref 4561 ipproto udp sport 4569 lookup 17769",
			},
		},
		{
			name: "nothing left: a fresh Up",
			setup: func(t *testing.T) *fakeOps {
				f := newFakeOps()
				f.links["iax0"] = newTunIndex
				return f
			},
			wantLog: wantUp,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.setup(t)
			r := takeOverRouter(t, f, tt.newPeers...)
			violations := guardDirectPath(t, f)
			if err := r.Up(); err != nil {
				t.Fatalf("Up: %v", err)
			}
			if v := violations(); len(v) > 0 {
				t.Errorf("direct path opened during take-over:\n%s\nlog:\n%s", strings.Join(v, "\n"), strings.Join(f.log, "\n"))
			}
			if bad := checkRemovalOrder(f.log); len(bad) > 0 {
				t.Errorf("removed before the TUN route was in: %q", bad)
			}
			if !slices.Equal(f.log, tt.wantLog) {
				t.Errorf("take-over changed:\n%s\nwant:\n%s", strings.Join(f.log, "\n"), strings.Join(tt.wantLog, "\n"))
			}
			if got, want := fakeState(f), freshState(t, tt.newPeers...); !slices.Equal(got, want) {
				t.Errorf("after take-over:\n%s\nwant, as after a fresh Up:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// The router owns what it took over: Close removes all.
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if st := fakeState(f); len(st) != 0 {
				t.Errorf("after Close:\n%s\nwant nothing", strings.Join(st, "\n"))
			}
		})
	}
}

func TestTakeOverRefusesOtherLeftovers(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(t *testing.T) *fakeOps
		wantMismatch string
	}{
		{
			name: "another application port",
			setup: func(t *testing.T) *fakeOps {
				return crashedRun(t, Config{TunName: "iax0", AppPort: 4571})
			},
			wantMismatch: "rule pref 4561 ipproto udp sport 4571 lookup 17769",
		},
		{
			name: "another priority",
			setup: func(t *testing.T) *fakeOps {
				return crashedRun(t, Config{TunName: "iax0", Priority: 5000})
			},
			wantMismatch: "rule pref 5001 ipproto udp sport 4569 lookup 17769",
		},
		{
			name: "a route of another shape in our table",
			setup: func(t *testing.T) *fakeOps {
				f := crashedRun(t, Config{TunName: "iax0"})
				f.routes = append(f.routes, netlink.Route{Family: netlink.FAMILY_V4, Table: DefaultTable,
					Dst: &net.IPNet{IP: net.IPv4(10, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)}, LinkIndex: 3})
				return f
			},
			wantMismatch: "route 10.0.0.0/8 dev if3 table 17769 metric 0",
		},
		{
			name: "our sport rule with a selector we never set",
			setup: func(t *testing.T) *fakeOps {
				f := crashedRun(t, Config{TunName: "iax0"})
				for i := range f.rules {
					if f.rules[i].Family == netlink.FAMILY_V4 && f.rules[i].Priority == 4561 {
						f.rules[i].IifName = "eth0"
					}
				}
				return f
			},
			wantMismatch: "rule pref 4561 ipproto udp sport 4569 lookup 17769",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.setup(t)
			before := fakeState(f)
			r := takeOverRouter(t, f, "192.0.2.10")
			err := r.Up()
			var stale *StaleError
			if !errors.Is(err, ErrStale) || !errors.As(err, &stale) {
				t.Fatalf("Up = %v, want a *StaleError", err)
			}
			if !slices.Contains(stale.Mismatch, tt.wantMismatch) {
				t.Errorf("Mismatch = %q, want it to name %q", stale.Mismatch, tt.wantMismatch)
			}
			if !strings.Contains(err.Error(), "not taken over") {
				t.Errorf("error %q does not say why it refused", err)
			}
			if len(f.log) != 0 || !slices.Equal(fakeState(f), before) {
				t.Errorf("refused take-over changed %q", f.log)
			}
		})
	}
}

func TestTakeOverFailureKeepsKillSwitch(t *testing.T) {
	tests := []struct {
		failOn  string
		wantLog []string
	}{
		{"route default dev iax0", nil},
		{"-6 route default dev iax0", []string{
			"add route default dev iax0 table 17769 metric 10",
			"del route default dev iax0 table 17769 metric 10",
		}},
		{"to 192.0.2.12/32", []string{
			"add route default dev iax0 table 17769 metric 10",
			"add -6 route default dev iax0 table 17769 metric 10",
			"del -6 route default dev iax0 table 17769 metric 10",
			"del route default dev iax0 table 17769 metric 10",
		}},
		{"to 192.0.2.10/32", []string{ // removing the stale peer rule fails
			"add route default dev iax0 table 17769 metric 10",
			"add -6 route default dev iax0 table 17769 metric 10",
			"add rule pref 4562 to 192.0.2.12/32 ipproto udp lookup 17769",
			"del rule pref 4562 to 192.0.2.12/32 ipproto udp lookup 17769",
			"del -6 route default dev iax0 table 17769 metric 10",
			"del route default dev iax0 table 17769 metric 10",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.failOn, func(t *testing.T) {
			f := crashedRun(t, Config{TunName: "iax0"}, "192.0.2.10")
			before := fakeState(f)
			r := takeOverRouter(t, f, "192.0.2.12")
			violations := guardDirectPath(t, f)
			f.failOn = tt.failOn
			if err := r.Up(); err == nil || !errors.Is(err, unix.EPERM) {
				t.Fatalf("Up = %v, want the injected EPERM", err)
			}
			if v := violations(); len(v) > 0 {
				t.Errorf("direct path opened: %q", v)
			}
			if !slices.Equal(f.log, tt.wantLog) {
				t.Errorf("failed take-over changed:\n%s\nwant:\n%s", strings.Join(f.log, "\n"), strings.Join(tt.wantLog, "\n"))
			}
			if got := fakeState(f); !slices.Equal(got, before) {
				t.Errorf("after the failed take-over:\n%s\nwant what was found:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
			}
			// It forgot what it kept: Close must not remove the kill
			// switch it never owned.
			f.log = nil
			if err := r.Close(); err != nil || len(f.log) != 0 {
				t.Errorf("Close after a failed take-over = %v, changed %q; want nil and nothing", err, f.log)
			}
		})
	}
}
