package route

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// fakeRunner records command lines and fails those containing failOn.
type fakeRunner struct {
	cmds   []string
	failOn string
	output string
}

func (f *fakeRunner) Run(name string, args ...string) ([]byte, error) {
	line := strings.Join(append([]string{name}, args...), " ")
	f.cmds = append(f.cmds, line)
	if f.failOn != "" && strings.Contains(line, f.failOn) {
		return []byte(f.output), errors.New("exit status 1")
	}
	return nil, nil
}

func TestDarwinRouteArgs(t *testing.T) {
	tests := []struct {
		addr       string
		wantAdd    []string
		wantDelete []string
	}{
		{"192.0.2.10",
			[]string{"-n", "add", "-inet", "-host", "192.0.2.10", "-interface", "utun7"},
			[]string{"-n", "delete", "-inet", "-host", "192.0.2.10", "-interface", "utun7"}},
		{"2001:db8::10",
			[]string{"-n", "add", "-inet6", "-host", "2001:db8::10", "-interface", "utun7"},
			[]string{"-n", "delete", "-inet6", "-host", "2001:db8::10", "-interface", "utun7"}},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := darwinAddHostRouteArgs(a, "utun7"); !slices.Equal(got, tt.wantAdd) {
			t.Errorf("add %s = %q, want %q", tt.addr, got, tt.wantAdd)
		}
		if got := darwinDelHostRouteArgs(a, "utun7"); !slices.Equal(got, tt.wantDelete) {
			t.Errorf("delete %s = %q, want %q", tt.addr, got, tt.wantDelete)
		}
	}
}

func TestDarwinRouterLifecycle(t *testing.T) {
	run := &fakeRunner{}
	r, err := newCmdRouter(Config{TunName: "utun7"}, run)
	if err != nil {
		t.Fatal(err)
	}
	v4 := netip.MustParseAddr("192.0.2.10")
	v6 := netip.MustParseAddr("2001:db8::10")

	steps := []struct {
		name     string
		op       func() error
		wantCmds []string
		wantErr  error
	}{
		{"peer before Up is remembered", func() error { return r.AddPeer(v4) }, nil, nil},
		{"Up installs remembered peers", r.Up,
			[]string{"/sbin/route -n add -inet -host 192.0.2.10 -interface utun7"}, nil},
		{"peer after Up", func() error { return r.AddPeer(v6) },
			[]string{"/sbin/route -n add -inet6 -host 2001:db8::10 -interface utun7"}, nil},
		{"same peer again", func() error { return r.AddPeer(v6) }, nil, nil},
		{"loopback refused", func() error { return r.AddPeer(netip.MustParseAddr("::1")) }, nil, ErrInvalidPeer},
		{"delete peer", func() error { return r.DelPeer(v6) },
			[]string{"/sbin/route -n delete -inet6 -host 2001:db8::10 -interface utun7"}, nil},
		{"delete unknown", func() error { return r.DelPeer(v6) }, nil, ErrUnknownPeer},
		{"Close removes the rest", r.Close,
			[]string{"/sbin/route -n delete -inet -host 192.0.2.10 -interface utun7"}, nil},
		{"Close again does nothing", r.Close, nil, nil},
		{"AddPeer after Close", func() error { return r.AddPeer(v6) }, nil, ErrClosed},
	}
	for _, s := range steps {
		run.cmds = nil
		err := s.op()
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Errorf("%s: error %v, want %v", s.name, err, s.wantErr)
		}
		if !slices.Equal(run.cmds, s.wantCmds) {
			t.Errorf("%s: ran %q, want %q", s.name, run.cmds, s.wantCmds)
		}
	}
}

func TestDarwinRouterErrors(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.10")
	v4b := netip.MustParseAddr("192.0.2.11")

	// A failing Up undoes the routes it added and names the command.
	run := &fakeRunner{failOn: "add -inet -host 192.0.2.11", output: "route: writing to routing socket: File exists"}
	r, _ := newCmdRouter(Config{TunName: "utun7"}, run)
	r.AddPeer(v4)
	r.AddPeer(v4b)
	err := r.Up()
	if err == nil || !strings.Contains(err.Error(), "File exists") || !strings.Contains(err.Error(), "192.0.2.11") {
		t.Errorf("Up = %v, want an error naming the command and route(8)'s output", err)
	}
	if last := run.cmds[len(run.cmds)-1]; last != "/sbin/route -n delete -inet -host 192.0.2.10 -interface utun7" {
		t.Errorf("after a failed Up the last command was %q, want the undo of 192.0.2.10", last)
	}

	// Routes already gone with the utun count as removed.
	run = &fakeRunner{}
	r, _ = newCmdRouter(Config{TunName: "utun7"}, run)
	r.Up()
	r.AddPeer(v4)
	run.failOn, run.output = "delete", "route: writing to routing socket: not in table"
	if err := r.Close(); err != nil {
		t.Errorf("Close with routes already gone = %v, want nil", err)
	}

	if _, err := newCmdRouter(Config{}, &fakeRunner{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("newCmdRouter without TUN name = %v, want ErrInvalidConfig", err)
	}
}
