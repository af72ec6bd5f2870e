package netns

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// Trio is three namespaces in a line, A — M — B: A and B are hosts on two
// different subnets and M routes between them (IPv4 forwarding on). M is
// where a test puts what sits between two hosts on the internet: a router,
// an impairment relay, an attacker, or a PBX that both hosts call.
type Trio struct {
	A, M, B *Host
	// MA and MB are M's ends of the links to A and to B, with M's address
	// on each link (A's and B's gateway).
	MA, MB Link
}

// Link is one interface of a namespace with its address.
type Link struct {
	Name string
	Addr netip.Prefix
}

// Default addresses of a trio: A on 10.77.1.0/24, B on 10.77.2.0/24, M .254
// on both.
var (
	TrioAddrA  = netip.MustParsePrefix("10.77.1.1/24")
	TrioAddrMA = netip.MustParsePrefix("10.77.1.254/24")
	TrioAddrMB = netip.MustParsePrefix("10.77.2.254/24")
	TrioAddrB  = netip.MustParsePrefix("10.77.2.1/24")
)

// NewTrio creates the three namespaces of a Trio with the default
// addresses, lo and the links up, default routes of A and B through M, and
// forwarding on in M (and reverse-path filtering off there, so that M may
// forward packets whose source it rewrote). It skips the test when not
// root and removes everything in t.Cleanup.
func NewTrio(t testing.TB, prefix string) *Trio {
	t.Helper()
	RequireRoot(t)
	if err := validPrefix(prefix); err != nil {
		t.Fatalf("netns: %v", err)
	}
	if err := CleanupStale(prefix); err != nil {
		t.Logf("netns: removing stale namespaces: %v", err)
	}
	base := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), pairSeq.Add(1))
	tr := &Trio{
		A:  &Host{Name: base + "-a", Addr: TrioAddrA, Link: LinkName, t: t},
		M:  &Host{Name: base + "-m", Addr: TrioAddrMA, Link: "veth-a", t: t},
		B:  &Host{Name: base + "-b", Addr: TrioAddrB, Link: LinkName, t: t},
		MA: Link{Name: "veth-a", Addr: TrioAddrMA},
		MB: Link{Name: "veth-b", Addr: TrioAddrMB},
	}
	for _, h := range []*Host{tr.A, tr.M, tr.B} {
		if out, err := ip("netns", "add", h.Name); err != nil {
			t.Fatalf("netns: adding namespace %s: %v: %s", h.Name, err, out)
		}
		t.Cleanup(func() {
			if out, err := ip("netns", "del", h.Name); err != nil {
				t.Errorf("netns: deleting namespace %s: %v: %s", h.Name, err, out)
			}
		})
	}
	a, m, b := tr.A.Name, tr.M.Name, tr.B.Name
	steps := [][]string{
		{"link", "add", "name", LinkName, "netns", a, "type", "veth", "peer", "name", tr.MA.Name, "netns", m},
		{"link", "add", "name", LinkName, "netns", b, "type", "veth", "peer", "name", tr.MB.Name, "netns", m},
		{"-n", a, "addr", "add", TrioAddrA.String(), "dev", LinkName},
		{"-n", b, "addr", "add", TrioAddrB.String(), "dev", LinkName},
		{"-n", m, "addr", "add", tr.MA.Addr.String(), "dev", tr.MA.Name},
		{"-n", m, "addr", "add", tr.MB.Addr.String(), "dev", tr.MB.Name},
	}
	for _, ns := range []string{a, m, b} {
		steps = append(steps, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	steps = append(steps,
		[]string{"-n", a, "link", "set", LinkName, "up"},
		[]string{"-n", b, "link", "set", LinkName, "up"},
		[]string{"-n", m, "link", "set", tr.MA.Name, "up"},
		[]string{"-n", m, "link", "set", tr.MB.Name, "up"},
		[]string{"-n", a, "route", "add", "default", "via", tr.MA.Addr.Addr().String()},
		[]string{"-n", b, "route", "add", "default", "via", tr.MB.Addr.Addr().String()},
	)
	for _, args := range steps {
		if out, err := ip(args...); err != nil {
			t.Fatalf("netns: ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, kv := range []string{"net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"} {
		tr.M.MustRun("sysctl", "-q", "-w", kv)
	}
	return tr
}
