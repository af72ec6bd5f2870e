//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
	"github.com/iaxcrypt/iaxcrypt/probe"
)

// doctorReport is the JSON of `iaxcrypt doctor --json`, with its own types
// (see status).
type doctorReport struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
}

func runDoctor(t *testing.T, d *daemon) (doctorReport, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := d.host.Command(ctx, d.bin, "doctor", "--json", "--control", d.control, "--state-dir", d.stateDir)
	out, _ := cmd.Output()
	var r doctorReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("doctor --json: %v: %s", err, out)
	}
	return r, cmd.ProcessState.ExitCode()
}

// checkStatus returns the status of the named check ("" if absent).
func checkStatus(r doctorReport, name string) string {
	return checkOf(r, name).Status
}

func checkOf(r doctorReport, name string) (c struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return c
}

// holdPort binds UDP port on the wildcard address of h's namespace, as the
// application does (with SO_REUSEADDR when reuse, as Asterisk's chan_iax2
// does), until the returned function or the test's cleanup closes it.
func holdPort(t *testing.T, h *netns.Host, port int, reuse bool) func() {
	t.Helper()
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The thread enters the namespace to create the socket, which
		// stays in it; the thread is returned only once it is back.
		runtime.LockOSThread()
		r := result{fd: -1}
		defer func() { done <- r }()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.err = err
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/var/run/netns/"+h.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.err = err
			return
		}
		defer unix.Close(target)
		if r.err = unix.Setns(target, unix.CLONE_NEWNET); r.err != nil {
			return
		}
		r.fd, r.err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if r.err == nil && reuse {
			r.err = unix.SetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		}
		if r.err == nil {
			r.err = unix.Bind(r.fd, &unix.SockaddrInet4{Port: port})
		}
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread() // else the thread ends with the goroutine
		}
	}()
	r := <-done
	if r.err != nil {
		if r.fd >= 0 {
			unix.Close(r.fd)
		}
		t.Fatalf("hold UDP port %d in %s: %v", port, h.Name, r.err)
	}
	closed := false
	release := func() {
		if !closed {
			closed = true
			unix.Close(r.fd)
		}
	}
	t.Cleanup(release)
	return release
}

// probesOnWire counts the doctor's probe datagrams in a capture.
func probesOnWire(t *testing.T, c *capture) int {
	t.Helper()
	c.stop(t)
	ds, err := pcapread.ReadUDP(c.path)
	if err != nil {
		t.Fatal(err)
	}
	magic := probe.Payload(probe.Nonce{})[:probe.MagicLen]
	n := 0
	for _, d := range ds {
		if bytes.HasPrefix(d.Payload, magic) {
			n++
		}
	}
	return n
}

// TestDoctor runs `iaxcrypt doctor` against a daemon in a namespace: all
// checks pass on a sound set-up, and each broken set-up (route into the
// TUN missing, kill switch missing, key readable by others, rule of the
// application's port missing, daemon down) fails its check, says how to
// fix it, and makes the exit status 1.
func TestDoctor(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	a, b := netns.NewPair(t, "iaxdoc")
	// A default route, as a real host has: the daemon's socket must leave
	// on it.
	a.MustRun("ip", "route", "add", "default", "via", b.IP().String())
	d := newDaemon(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := a.Run(ctx, d.bin, "route", "add", b.IP().String(), "--control", d.control); err != nil {
		t.Fatalf("route add: %v: %s", err, out)
	}

	// The application holds its port, sharing it as Asterisk does: the
	// probe is still sent from it, arrives at the daemon, and nothing of
	// it crosses the veth.
	release := holdPort(t, a, appPort, true)
	wire := startCapture(t, a)
	r, code := runDoctor(t, d)
	if !r.OK || code != 0 {
		t.Fatalf("doctor on a sound set-up: ok %v, exit %d: %+v", r.OK, code, r.Checks)
	}
	probeApp, probePeer := "probe: application's port", "probe: peer "+b.IP().String()
	for _, name := range []string{"daemon", "tun", "routing", "kill switch", "application's datagrams", "peer " + b.IP().String(), "daemon's socket", "identity key", probeApp, probePeer} {
		if s := checkStatus(r, name); s != "pass" {
			t.Errorf("check %q: %q, want pass", name, s)
		}
	}
	if c := checkOf(r, probeApp); !strings.Contains(c.Detail, fmt.Sprintf(":%d -> 192.0.2.1:9", appPort)) {
		t.Errorf("probe from the application's port: %q does not show it arriving from port %d", c.Detail, appPort)
	}
	for _, name := range []string{probeApp, probePeer} {
		t.Logf("%s: %s", name, checkOf(r, name).Detail)
	}
	if n := probesOnWire(t, wire); n != 0 {
		t.Errorf("%d probe datagrams crossed the veth on a sound set-up", n)
	}
	release()

	// An application that does not share its port: no probe from it, said
	// so, and no failure (the route checks still judge).
	release = holdPort(t, a, appPort, false)
	r, code = runDoctor(t, d)
	if c := checkOf(r, probeApp); c.Status != "skip" || !strings.Contains(c.Detail, "does not share it") {
		t.Errorf("port held without SO_REUSEADDR: probe check %+v, want skip saying the port is not shared", c)
	}
	if !r.OK || code != 0 || checkStatus(r, probePeer) != "pass" {
		t.Errorf("port held without SO_REUSEADDR: ok %v, exit %d, peer probe %q", r.OK, code, checkStatus(r, probePeer))
	}
	release()

	table := "17769"
	key := filepath.Join(d.stateDir, "identity.key")
	breaks := []struct {
		name       string
		breakIt    []string
		restore    []string
		chmod      os.FileMode // for the key case
		wantFailed []string
		// wire, when set, is what a capture on the veth must show of the
		// probes: "none" (the kill switch holds them) or "leaks" (they
		// go out in clear, as doctor says).
		wire string
	}{
		{"route into the TUN missing", []string{"ip", "route", "del", "default", "dev", "iax0", "table", table},
			[]string{"ip", "route", "add", "default", "dev", "iax0", "table", table, "metric", "10"}, 0,
			[]string{"routing", "application's datagrams", "peer " + b.IP().String(), probeApp, probePeer}, "none"},
		{"kill switch missing", []string{"ip", "route", "del", "blackhole", "default", "table", table},
			[]string{"ip", "route", "add", "blackhole", "default", "table", table, "metric", "1000000"}, 0, []string{"kill switch"}, ""},
		{"rule of the application's port missing", []string{"ip", "rule", "del", "pref", "4561"},
			[]string{"ip", "rule", "add", "pref", "4561", "ipproto", "udp", "sport", fmt.Sprint(appPort), "lookup", table}, 0,
			[]string{"routing", "application's datagrams", probeApp}, "leaks"},
		{"peer's rule missing", []string{"ip", "rule", "del", "pref", "4562"},
			[]string{"ip", "rule", "add", "pref", "4562", "to", b.IP().String(), "ipproto", "udp", "lookup", table}, 0,
			[]string{"peer " + b.IP().String(), probePeer}, "leaks"},
		{"key readable by others", nil, nil, 0o644, []string{"identity key"}, ""},
	}
	for _, br := range breaks {
		if br.breakIt != nil {
			a.MustRun(br.breakIt[0], br.breakIt[1:]...)
		} else if err := os.Chmod(key, br.chmod); err != nil {
			t.Fatal(err)
		}
		var wire *capture
		if br.wire != "" {
			wire = startCapture(t, a)
		}
		r, code := runDoctor(t, d)
		for _, name := range []string{probeApp, probePeer} {
			c := checkOf(r, name)
			if c.Status == "pass" {
				continue
			}
			t.Logf("%s: %s: %s: %s", br.name, name, c.Status, c.Detail)
			// A failed probe is one that went elsewhere or was refused,
			// never one doctor failed to ask about.
			if !strings.Contains(c.Detail, "did not arrive at the daemon") && !strings.Contains(c.Detail, "refused to send") {
				t.Errorf("%s: %s failed for another reason: %s", br.name, name, c.Detail)
			}
		}
		if wire != nil {
			switch n := probesOnWire(t, wire); {
			case br.wire == "none" && n != 0:
				t.Errorf("%s: %d probe datagrams crossed the veth; the kill switch should hold them", br.name, n)
			case br.wire == "leaks" && n == 0:
				t.Errorf("%s: the probe that did not reach the daemon is not on the veth either", br.name)
			}
		}
		if r.OK || code != 1 {
			t.Errorf("%s: ok %v, exit %d; want a failure", br.name, r.OK, code)
		}
		for _, c := range r.Checks {
			want := false
			for _, w := range br.wantFailed {
				want = want || c.Name == w
			}
			if want && (c.Status != "fail" || c.Fix == "") {
				t.Errorf("%s: check %q is %q (fix %q), want fail with a fix", br.name, c.Name, c.Status, c.Fix)
			}
			if !want && c.Status == "fail" {
				t.Errorf("%s: check %q failed too: %s", br.name, c.Name, c.Detail)
			}
		}
		if br.restore != nil {
			a.MustRun(br.restore[0], br.restore[1:]...)
		} else if err := os.Chmod(key, 0o600); err != nil {
			t.Fatal(err)
		}
		if r, _ := runDoctor(t, d); !r.OK {
			t.Fatalf("after restoring from %q: %+v", br.name, r.Checks)
		}
	}

	// The daemon down: doctor says so and fails.
	if err := d.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	r, code = runDoctor(t, d)
	if r.OK || code != 1 || checkStatus(r, "daemon") != "fail" {
		t.Errorf("daemon stopped: ok %v, exit %d, daemon check %q", r.OK, code, checkStatus(r, "daemon"))
	}
}
