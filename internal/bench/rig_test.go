//go:build netbench && linux

package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/internal/load"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// Ports as in the e2e tests: the daemon owns 4569, the application 4571.
const (
	daemonPort = 4569
	appPort    = 4571
	wgPort     = 51820
)

// binaries are the programs the benchmark runs, built once.
type binaries struct{ iaxcrypt, iaxload, wgpeer string }

var (
	buildOnce sync.Once
	bins      binaries
	buildErr  error
)

func buildBinaries(t testing.TB) binaries {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iaxcrypt-bench-bin-")
		if err != nil {
			buildErr = err
			return
		}
		bins = binaries{filepath.Join(dir, "iaxcrypt"), filepath.Join(dir, "iaxload"), filepath.Join(dir, "wgpeer")}
		for _, b := range []struct{ out, pkg string }{
			{bins.iaxcrypt, "../../cmd/iaxcrypt"}, {bins.iaxload, "../../cmd/iaxload"}, {bins.wgpeer, "./wgpeer"},
		} {
			cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v: %s", b.pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

// teamLock takes the team's lock for heavy tests (flock on the file the
// Makefile and the e2e tests use) and returns its release.
func teamLock(t testing.TB, path string) func() {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("open the team lock %s: %v", path, err)
	}
	start := time.Now()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("take the team lock %s: %v", path, err)
	}
	if w := time.Since(start); w > time.Second {
		t.Logf("waited %v for the team lock", w.Round(time.Second))
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}
}

// rig is one data path set up between two namespace hosts: the caller
// runs in A, the callee in B, and target is where the caller sends.
type rig struct {
	name   string
	a, b   *netns.Host
	target netip.AddrPort
	// procs are the processes of the path (daemons, wireguard-go peers)
	// whose CPU and memory count.
	procs []*netns.Process
	// controls are the daemons' control sockets, debugs their debug
	// endpoints' (unix sockets).
	controls, debugs []string
}

func newRig(t *testing.T, name string) *rig {
	t.Helper()
	a, b := netns.NewPair(t, "bench")
	r := &rig{name: name, a: a, b: b}
	switch name {
	case "direct":
		r.target = netip.AddrPortFrom(b.IP(), appPort)
	case "off", "encrypted":
		policy := "opportunistic"
		if name == "off" {
			policy = "off"
		}
		for _, h := range []*netns.Host{a, b} {
			p, ctl, dbg := startDaemon(t, h, policy)
			r.procs = append(r.procs, p)
			r.controls = append(r.controls, ctl)
			r.debugs = append(r.debugs, dbg)
		}
		r.target = netip.AddrPortFrom(b.IP(), daemonPort)
	case "wireguard":
		r.procs = startWireGuard(t, a, b)
		r.target = netip.MustParseAddrPort(fmt.Sprintf("10.99.0.2:%d", appPort))
	default:
		t.Fatalf("unknown path %q", name)
	}
	return r
}

// startDaemon runs `iaxcrypt up` in h and waits until its control socket
// answers. It returns the daemon, its control socket and its debug
// endpoint's socket.
func startDaemon(t *testing.T, h *netns.Host, policy string) (*netns.Process, string, string) {
	t.Helper()
	dir := t.TempDir()
	ctl, dbg := filepath.Join(dir, "control.sock"), filepath.Join(dir, "debug.sock")
	p := h.Start("iaxcrypt", buildBinaries(t).iaxcrypt, "up", "--listen", fmt.Sprintf(":%d", daemonPort),
		"--app-port", fmt.Sprint(appPort), "--state-dir", filepath.Join(dir, "state"), "--control", ctl,
		"--debug-addr", "unix:"+dbg, "--policy", policy, "--log-level", "warn")
	netns.WaitFor(t, 20*time.Second, func() (bool, string) {
		if p.Exited() {
			t.Fatalf("iaxcrypt up exited: %s", p.Output())
		}
		out, err := exec.Command(buildBinaries(t).iaxcrypt, "status", "--control", ctl).CombinedOutput()
		return err == nil, fmt.Sprintf("status: %v: %s", err, out)
	})
	return p, ctl, dbg
}

// startWireGuard runs a wireguard-go peer in each host and configures the
// two through their UAPI sockets: A is 10.99.0.1, B 10.99.0.2, each the
// other's only peer, over the veth link.
func startWireGuard(t *testing.T, a, b *netns.Host) []*netns.Process {
	t.Helper()
	type peer struct {
		h          *netns.Host
		name, addr string
		priv, pub  [32]byte
		proc       *netns.Process
	}
	ps := []*peer{{h: a, addr: "10.99.0.1/24"}, {h: b, addr: "10.99.0.2/24"}}
	for i, p := range ps {
		// Interface names are global to the UAPI socket directory: make
		// them unique to this process.
		p.name = fmt.Sprintf("wgb%d%c", os.Getpid()%100000, 'a'+i)
		if _, err := rand.Read(p.priv[:]); err != nil {
			t.Fatal(err)
		}
		p.priv[0] &= 248
		p.priv[31] = p.priv[31]&127 | 64
		pub, err := curve25519.X25519(p.priv[:], curve25519.Basepoint)
		if err != nil {
			t.Fatal(err)
		}
		copy(p.pub[:], pub)
		p.proc = p.h.Start("wgpeer", buildBinaries(t).wgpeer, "--name", p.name, "--addr", p.addr)
		p.proc.WaitOutput(t, 20*time.Second, "wgpeer: ready")
	}
	for i, p := range ps {
		o := ps[1-i]
		cfg := fmt.Sprintf("set=1\nprivate_key=%s\nlisten_port=%d\nreplace_peers=true\npublic_key=%s\nendpoint=%s:%d\nreplace_allowed_ips=true\nallowed_ip=%s/32\n\n",
			hex.EncodeToString(p.priv[:]), wgPort, hex.EncodeToString(o.pub[:]), o.h.IP(), wgPort, strings.Split(o.addr, "/")[0])
		if err := uapiSet(p.name, cfg); err != nil {
			t.Fatalf("configure wireguard-go peer %s: %v\n%s", p.name, err, p.proc.Output())
		}
	}
	return []*netns.Process{ps[0].proc, ps[1].proc}
}

// uapiSet sends a set request to a wireguard-go UAPI socket and checks
// that it answers errno=0.
func uapiSet(name, req string) error {
	c, err := net.DialTimeout("unix", "/var/run/wireguard/"+name+".sock", 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "errno=") {
			if l != "errno=0" {
				return fmt.Errorf("UAPI answered %s", l)
			}
			return nil
		}
	}
	return fmt.Errorf("no errno in the UAPI answer: %v", sc.Err())
}

// cpu is the CPU time of the rig's processes together.
func (r *rig) cpu(t *testing.T) time.Duration {
	var sum time.Duration
	for _, p := range r.procs {
		c, err := ProcCPU(p.Cmd.Process.Pid)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		sum += c
	}
	return sum
}

// rss is the largest resident memory of the rig's processes.
func (r *rig) rss() uint64 {
	var m uint64
	for _, p := range r.procs {
		if v, err := ProcRSS(p.Cmd.Process.Pid); err == nil {
			m = max(m, v)
		}
	}
	return m
}

// heap is the largest live heap (after a collection) of the rig's
// daemons, read from their debug endpoints; 0 if none answers.
func (r *rig) heap() uint64 {
	var m uint64
	for _, sock := range r.debugs {
		c := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		resp, err := c.Get("http://daemon/debug/heap")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			m = max(m, v)
		}
	}
	return m
}

// checkAlive fails the test if a process of the path died.
func (r *rig) checkAlive(t *testing.T) {
	for _, p := range r.procs {
		if p.Exited() {
			t.Fatalf("%s exited during the benchmark: %s", p.Name, p.Output())
		}
	}
}

// loadRun is one run of iaxload between the rig's hosts.
type loadRun struct {
	calls    int
	hold     time.Duration
	rate     float64
	silent   bool
	runFor   time.Duration
	extra    []string
	sampleFn func() // called every 250 ms while the caller runs
}

// run places the calls and returns both reports merged, with the
// caller's and callee's own reports.
func (r *rig) run(t *testing.T, lr loadRun) (*load.PathReport, *load.Report, *load.Report) {
	t.Helper()
	dir := t.TempDir()
	calleeOut, callerOut := filepath.Join(dir, "callee.json"), filepath.Join(dir, "caller.json")
	common := []string{}
	if lr.silent {
		common = append(common, "--silent")
	}
	common = append(common, lr.extra...)
	callee := r.b.Start("iaxload-answer", buildBinaries(t).iaxload,
		append([]string{"answer", "--listen", fmt.Sprintf(":%d", appPort), "--out", calleeOut}, common...)...)
	callee.WaitOutput(t, 10*time.Second, "answering on")
	args := append([]string{"call", "--to", r.target.String(), "--listen", fmt.Sprintf(":%d", appPort),
		"--calls", fmt.Sprint(lr.calls), "--hold", lr.hold.String(), "--setup-rate", fmt.Sprint(lr.rate),
		"--drain", "10s", "--out", callerOut}, common...)
	if lr.runFor > 0 {
		args = append(args, "--run-for", lr.runFor.String())
	}
	caller := r.a.Start("iaxload-call", buildBinaries(t).iaxload, args...)
	limit := time.Now().Add(lr.hold + lr.runFor + time.Duration(float64(lr.calls)/lr.rate*float64(time.Second)) + 60*time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !caller.Exited() {
		if time.Now().After(limit) {
			t.Fatalf("iaxload call still running after its time: %s", caller.Output())
		}
		<-tick.C
		if lr.sampleFn != nil {
			lr.sampleFn()
		}
	}
	if code := caller.ExitCode(); code != 0 {
		t.Fatalf("iaxload call exited %d: %s", code, caller.Output())
	}
	callee.Signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := callee.Wait(ctx); err != nil {
		t.Fatalf("iaxload answer: %v: %s", err, callee.Output())
	}
	ra, rb := readReport(t, callerOut), readReport(t, calleeOut)
	p, err := load.Merge(ra, rb)
	if err != nil {
		t.Fatal(err)
	}
	return p, ra, rb
}

func readReport(t *testing.T, path string) *load.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read iaxload report: %v", err)
	}
	var r load.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decode iaxload report %s: %v", path, err)
	}
	return &r
}

// machine describes where the benchmark runs.
func machine() Machine {
	m := Machine{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}
