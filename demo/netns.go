package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The demo's own small namespace helper. internal/netns does the same for
// tests but reports through testing.TB, which a command cannot provide.

// namespacePrefix starts the names of the demo's namespaces:
// iaxdemo-<pid>-a and iaxdemo-<pid>-b.
const namespacePrefix = "iaxdemo"

// host is one network namespace of the demo.
type host struct {
	label string // "A" or "B"
	name  string // the namespace
	addr  netip.Prefix
}

func (h *host) ip() netip.Addr { return h.addr.Addr() }

// linkName is the veth interface inside each namespace.
const linkName = "veth0"

// newPair creates two namespaces joined by a veth pair, lo and the link up.
// On error, what was created is removed again.
func newPair(ctx context.Context) (a, b *host, err error) {
	base := fmt.Sprintf("%s-%d", namespacePrefix, os.Getpid())
	a = &host{label: "A", name: base + "-a", addr: netip.MustParsePrefix("10.77.0.1/24")}
	b = &host{label: "B", name: base + "-b", addr: netip.MustParsePrefix("10.77.0.2/24")}
	steps := [][]string{
		{"netns", "add", a.name},
		{"netns", "add", b.name},
		{"link", "add", "name", linkName, "netns", a.name, "type", "veth", "peer", "name", linkName, "netns", b.name},
		{"-n", a.name, "addr", "add", a.addr.String(), "dev", linkName},
		{"-n", b.name, "addr", "add", b.addr.String(), "dev", linkName},
		{"-n", a.name, "link", "set", "lo", "up"},
		{"-n", b.name, "link", "set", "lo", "up"},
		{"-n", a.name, "link", "set", linkName, "up"},
		{"-n", b.name, "link", "set", linkName, "up"},
	}
	for _, args := range steps {
		if err := ip(ctx, args...); err != nil {
			removePair(a, b)
			return nil, nil, err
		}
	}
	return a, b, nil
}

// removePair deletes both namespaces (and with them the veth pair and
// anything else inside), ignoring ones that do not exist.
func removePair(hosts ...*host) error {
	var errs []error
	for _, h := range hosts {
		if !namespaceExists(h.name) {
			continue
		}
		if err := ip(context.Background(), "netns", "del", h.name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func namespaceExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// removeStale deletes namespaces a demo that was killed left behind (their
// pid no longer runs), after killing the processes still running in them.
func removeStale(ctx context.Context) []string {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return nil
	}
	var removed []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		parts := strings.Split(f[0], "-")
		if len(parts) != 3 || parts[0] != namespacePrefix || (parts[2] != "a" && parts[2] != "b") {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid <= 0 || pidAlive(pid) {
			continue
		}
		killAllIn(ctx, f[0])
		if ip(ctx, "netns", "del", f[0]) == nil {
			removed = append(removed, f[0])
		}
	}
	return removed
}

// killAllIn kills every process running in the namespace.
func killAllIn(ctx context.Context, name string) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func pidAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func ip(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// command returns a command that runs name inside the namespace.
func (h *host) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.name, name}, args...)...)
}

// run runs a command in the namespace and returns its output.
func (h *host) run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := h.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s %s: %v: %s", h.label, name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// udpBound reports whether something in the namespace listens on the UDP
// port, from /proc/net/udp{,6} as seen inside it.
func (h *host) udpBound(ctx context.Context, port uint16) bool {
	out, err := h.run(ctx, "cat", "/proc/net/udp", "/proc/net/udp6")
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X ", port)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1]+" ", want) {
			return true
		}
	}
	return false
}

// process is a background command in a namespace, in its own process
// group so that stopping it ends everything it started.
type process struct {
	label string
	cmd   *exec.Cmd
	out   lockedBuffer
	done  chan struct{}
	err   error
}

// start starts name in the namespace. stdout, if not nil, receives the
// command's standard output instead of the kept buffer (a capture's pcap
// stream).
func (h *host) start(label string, stdout *os.File, name string, args ...string) (*process, error) {
	p := &process{label: h.label + " " + label, cmd: h.command(context.Background(), name, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", h.label, name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) output() string { return p.out.String() }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitCode is the exit status, -1 while running or after a signal.
func (p *process) exitCode() int {
	if !p.exited() || p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// signal sends sig to the process group.
func (p *process) signal(sig syscall.Signal) {
	if !p.exited() {
		syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// stop ends the process: sig to its group, SIGKILL after a grace period.
func (p *process) stop(sig syscall.Signal) error {
	if p.exited() {
		return nil
	}
	p.signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(3 * time.Second):
	}
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(3 * time.Second):
		return fmt.Errorf("%s still running after SIGKILL", p.label)
	}
}

// wait waits for the process to exit or ctx to end.
func (p *process) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lockedBuffer collects a command's output for concurrent reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// poll calls cond every 100 ms until it returns true, ctx ends or timeout
// passes; it returns cond's last message on timeout.
func poll(ctx context.Context, timeout time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v: %s", timeout, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
