// Package nstest runs a root test inside a network namespace it creates, so
// that tests may add rules, routes and devices without ever touching the
// machine's own namespace.
//
// The test binary re-executes itself under "ip netns exec": the whole child
// process lives in the new namespace, so no goroutine or helper thread can
// act on the original one by accident (a hazard of switching a single
// locked OS thread with setns). The namespace gets a loopback, a veth pair
// with 10.99.0.1/24 and fd99::1/64 and default routes via .2 and ::2, so that
// route lookups toward public addresses resolve. No traffic leaves it.
package nstest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const (
	childEnv  = "IAXCRYPT_NSTEST_CHILD"
	parentEnv = "IAXCRYPT_NSTEST_PARENT_NS"
)

// Addresses of the namespace's veth interface, for tests to use as source
// addresses.
const (
	Iface = "veth0"
	Addr4 = "10.99.0.1"
	Addr6 = "fd99::1"
)

// Run reports whether the caller is inside the namespace and should run the
// test body. In the parent it creates a namespace, re-runs the current
// top-level test there, fails t with the child's output if the child failed,
// deletes the namespace, and returns false. It skips t when not root or when
// "ip" is missing. Call it first thing in a top-level test:
//
//	if !nstest.Run(t) { return }
func Run(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		mustBeInOtherNamespace(t)
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping: this test needs root to create a network namespace (run go test as root)")
	}
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("skipping: the \"ip\" command (iproute2) is needed to create a network namespace")
	}
	if strings.Contains(t.Name(), "/") {
		t.Fatal("nstest.Run must be called from a top-level test, not a subtest")
	}
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skipf("skipping: cannot read /proc/self/ns/net: %v", err)
	}

	ns := fmt.Sprintf("iaxct-%d-%s", os.Getpid(), shortName(t.Name()))
	if out, err := exec.Command(ipCmd, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot create network namespace %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(ipCmd, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("delete network namespace %s: %v: %s", ns, err, out)
		}
	})
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", Iface, "type", "veth", "peer", "name", "veth1"},
		{"link", "set", Iface, "up"},
		{"link", "set", "veth1", "up"},
		{"addr", "add", Addr4 + "/24", "dev", Iface},
		{"route", "add", "default", "via", "10.99.0.2"},
		{"-6", "addr", "add", Addr6 + "/64", "dev", Iface, "nodad"},
		{"-6", "route", "add", "default", "via", "fd99::2"},
	} {
		full := append([]string{"-n", ns}, args...)
		if out, err := exec.Command(ipCmd, full...).CombinedOutput(); err != nil {
			t.Fatalf("set up namespace: ip %s: %v: %s", strings.Join(full, " "), err, out)
		}
	}

	args := []string{"netns", "exec", ns, os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.count=1", "-test.v"}
	cmd := exec.Command(ipCmd, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), parentEnv+"="+self)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("test inside namespace %s failed: %v\n%s", ns, err, out)
	}
	if strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Skipf("skipped inside namespace %s:\n%s", ns, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("test inside namespace %s did not report a pass:\n%s", ns, out)
	}
	if testing.Verbose() {
		t.Logf("passed inside namespace %s:\n%s", ns, out)
	}
	return false
}

// mustBeInOtherNamespace stops the test if, against all expectation, the
// child shares the parent's network namespace.
func mustBeInOtherNamespace(t *testing.T) {
	t.Helper()
	here, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("cannot read /proc/self/ns/net: %v", err)
	}
	if parent := os.Getenv(parentEnv); parent == "" || parent == here {
		t.Fatalf("refusing to run: expected a fresh network namespace, got %s (parent %s)", here, parent)
	}
}

func shortName(s string) string {
	s = strings.TrimPrefix(s, "Test")
	if len(s) > 10 {
		s = s[:10]
	}
	return strings.ToLower(s)
}
