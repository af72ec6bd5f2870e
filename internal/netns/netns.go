// Package netns owns the network namespaces of iaxcrypt's root-only tests:
// it creates a pair of namespaces joined by a veth link, runs commands and
// background processes inside them, and removes all of it at test cleanup,
// even when the test fails.
//
// Nothing here touches the interfaces, routes or rules of the namespace the
// test runs in: the veth pair is created directly inside the two new
// namespaces. Namespace names carry the test process's pid, so parallel runs
// do not collide and namespaces left by a crashed run can be recognised and
// removed (see CleanupStale).
package netns

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
	"sync/atomic"
	"testing"
	"time"
)

// LinkName is the name of the veth interface inside each namespace of a pair.
const LinkName = "veth0"

// Host is one network namespace of a pair, seen from the test.
type Host struct {
	// Name is the namespace name, as `ip netns` knows it.
	Name string
	// Addr is the host's address on the veth link, with its prefix length.
	Addr netip.Prefix
	// Link is the name of the veth interface inside the namespace.
	Link string

	t testing.TB
}

// IP returns the host's address on the veth link.
func (h *Host) IP() netip.Addr { return h.Addr.Addr() }

// String returns the namespace name.
func (h *Host) String() string { return h.Name }

// PairConfig says how NewPairConfig builds a pair.
type PairConfig struct {
	// Prefix starts both namespace names; CleanupStale removes leftovers by it.
	// It must be short and contain only letters, digits and '-'.
	Prefix string
	// AddrA and AddrB are the addresses of the two ends of the veth link.
	// Zero values mean 10.77.0.1/24 and 10.77.0.2/24.
	AddrA, AddrB netip.Prefix
}

// Default addresses of a pair; each pair has its own namespaces, so every
// pair can use the same ones.
var (
	DefaultAddrA = netip.MustParsePrefix("10.77.0.1/24")
	DefaultAddrB = netip.MustParsePrefix("10.77.0.2/24")
)

// pairSeq numbers the pairs created by this process, so that several tests
// with the same prefix get distinct namespaces.
var pairSeq atomic.Uint32

// NewPair creates two namespaces joined by a veth link with the default
// addresses (10.77.0.1/24 and 10.77.0.2/24), with lo and the link up. It
// skips the test when not root (see RequireRoot) and removes both namespaces
// in t.Cleanup.
func NewPair(t testing.TB, prefix string) (*Host, *Host) {
	t.Helper()
	return NewPairConfig(t, PairConfig{Prefix: prefix})
}

// NewPairConfig is NewPair with chosen addresses.
func NewPairConfig(t testing.TB, cfg PairConfig) (*Host, *Host) {
	t.Helper()
	RequireRoot(t)
	if err := validPrefix(cfg.Prefix); err != nil {
		t.Fatalf("netns: %v", err)
	}
	if !cfg.AddrA.IsValid() {
		cfg.AddrA = DefaultAddrA
	}
	if !cfg.AddrB.IsValid() {
		cfg.AddrB = DefaultAddrB
	}
	if err := CleanupStale(cfg.Prefix); err != nil {
		t.Logf("netns: removing stale namespaces: %v", err)
	}

	seq := pairSeq.Add(1)
	base := fmt.Sprintf("%s-%d-%d", cfg.Prefix, os.Getpid(), seq)
	a := &Host{Name: base + "-a", Addr: cfg.AddrA, Link: LinkName, t: t}
	b := &Host{Name: base + "-b", Addr: cfg.AddrB, Link: LinkName, t: t}

	for _, h := range []*Host{a, b} {
		if out, err := ip("netns", "add", h.Name); err != nil {
			t.Fatalf("netns: adding namespace %s: %v: %s", h.Name, err, out)
		}
		t.Cleanup(func() {
			if out, err := ip("netns", "del", h.Name); err != nil {
				t.Errorf("netns: deleting namespace %s: %v: %s", h.Name, err, out)
			}
		})
	}

	steps := [][]string{
		{"link", "add", "name", a.Link, "netns", a.Name, "type", "veth", "peer", "name", b.Link, "netns", b.Name},
		{"-n", a.Name, "addr", "add", a.Addr.String(), "dev", a.Link},
		{"-n", b.Name, "addr", "add", b.Addr.String(), "dev", b.Link},
		{"-n", a.Name, "link", "set", "lo", "up"},
		{"-n", b.Name, "link", "set", "lo", "up"},
		{"-n", a.Name, "link", "set", a.Link, "up"},
		{"-n", b.Name, "link", "set", b.Link, "up"},
	}
	for _, args := range steps {
		if out, err := ip(args...); err != nil {
			t.Fatalf("netns: ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return a, b
}

// Command returns a command that runs name with args inside the namespace
// (through `ip netns exec`). It is not started; ctx kills it as
// exec.CommandContext does.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.Name, name}, args...)...)
}

// Run runs name with args inside the namespace and returns its combined
// output; the error says which command failed and includes its exit status.
func (h *Host) Run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := h.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netns %s: %s %s: %w", h.Name, name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// MustRun is Run that fails the test on error.
func (h *Host) MustRun(name string, args ...string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := h.Run(ctx, name, args...)
	if err != nil {
		h.t.Fatalf("%v: %s", err, out)
	}
	return out
}

// ip runs the ip command of the host's namespace; used only for namespace
// and veth management, never to change the host's own links or routes.
func ip(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "ip", args...).CombinedOutput()
}

// validPrefix keeps namespace names parseable by CleanupStale.
func validPrefix(p string) error {
	if p == "" || len(p) > 24 {
		return fmt.Errorf("prefix %q: want 1 to 24 characters", p)
	}
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("prefix %q: only letters, digits and '-'", p)
		}
	}
	return nil
}

// ErrNotRoot is returned by CheckRoot when the process cannot manage
// network namespaces.
var ErrNotRoot = errors.New("netns: needs root")

// CheckRoot reports why namespace tests cannot run here, or nil if they can.
func CheckRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w (euid %d)", ErrNotRoot, os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("netns: ip (iproute2) not found: %w", err)
	}
	if out, err := ip("netns", "list"); err != nil {
		return fmt.Errorf("netns: `ip netns list` failed: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// RequireRoot skips the test, saying why, unless it runs as root with a
// working `ip netns`.
func RequireRoot(t testing.TB) {
	t.Helper()
	if err := CheckRoot(); err != nil {
		t.Skipf("skipping namespace test: %v", err)
	}
}

// CleanupStale removes namespaces named "<prefix>-<pid>-<n>-a|b" whose pid is
// not a running process: leftovers of an earlier test run that crashed before
// its cleanup. Namespaces of live processes (parallel runs) are left alone.
func CleanupStale(prefix string) error {
	out, err := ip("netns", "list")
	if err != nil {
		return fmt.Errorf("netns: listing namespaces: %v: %s", err, bytes.TrimSpace(out))
	}
	var errs []error
	for _, name := range staleNames(string(out), prefix, pidAlive) {
		if out, err := ip("netns", "del", name); err != nil {
			errs = append(errs, fmt.Errorf("netns: deleting stale %s: %v: %s", name, err, bytes.TrimSpace(out)))
		}
	}
	return errors.Join(errs...)
}

// staleNames picks, from `ip netns list` output, the namespaces of prefix
// whose owning pid is not alive.
func staleNames(list, prefix string, alive func(int) bool) []string {
	var names []string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := f[0]
		rest, ok := strings.CutPrefix(name, prefix+"-")
		if !ok {
			continue
		}
		parts := strings.Split(rest, "-")
		if len(parts) != 3 || (parts[2] != "a" && parts[2] != "b" && parts[2] != "m") {
			continue
		}
		pid, err := strconv.Atoi(parts[0])
		if err != nil || pid <= 0 {
			continue
		}
		if _, err := strconv.Atoi(parts[1]); err != nil {
			continue
		}
		if !alive(pid) {
			names = append(names, name)
		}
	}
	return names
}

func pidAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
