package platform

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/platform/nstest"
)

// statusField returns a field of a /proc/.../status file.
func statusField(t *testing.T, path, key string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s has no %s", path, key)
	return ""
}

// TestKernelDropPrivileges runs in a child process (nstest re-executes
// the test binary), so dropping capabilities affects only that child.
// A cgo test binary cannot drop privileges on all threads, so it rebuilds
// itself with CGO_ENABLED=0 and runs this test from that binary.
func TestKernelDropPrivileges(t *testing.T) {
	testDropPrivileges(t, DropPrivileges, "0000000000001000") // CAP_NET_ADMIN only
}

// TestKernelDropPrivilegesKeepSetID: --notify keeps CAP_SETUID and
// CAP_SETGID besides CAP_NET_ADMIN, nothing else.
func TestKernelDropPrivilegesKeepSetID(t *testing.T) {
	testDropPrivileges(t, DropPrivilegesKeepSetID, "00000000000010c0") // NET_ADMIN (12), SETUID (7), SETGID (6)
}

func testDropPrivileges(t *testing.T, drop func() error, caps string) {
	t.Helper()
	if cgoBuild() {
		runWithoutCgo(t)
		return
	}
	if !nstest.Run(t) {
		return
	}
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	tasks, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("list threads: %v", err)
	}
	want := map[string]string{
		"CapEff":     caps,
		"CapPrm":     caps,
		"CapInh":     "0000000000000000",
		"CapBnd":     caps,
		"CapAmb":     "0000000000000000",
		"NoNewPrivs": "1",
	}
	for _, status := range tasks {
		for key, w := range want {
			if got := statusField(t, status, key); got != w {
				t.Errorf("%s %s = %s, want %s", status, key, got, w)
			}
		}
	}
	t.Logf("checked %d threads", len(tasks))
	// CAP_NET_ADMIN is what the daemon needs at exit, and what RequireRoot
	// checks.
	if err := RequireRoot(); err != nil {
		t.Errorf("RequireRoot after dropping to CAP_NET_ADMIN = %v, want nil", err)
	}
}

// cgoBuild reports whether this binary links cgo, in which case Go refuses
// AllThreadsSyscall.
func cgoBuild() bool {
	_, _, errno := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0)
	return errno == syscall.ENOTSUP
}

func runWithoutCgo(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: DropPrivileges needs root to be tested")
	}
	bin := filepath.Join(t.TempDir(), "platform.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the test binary with CGO_ENABLED=0: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("%s in a CGO_ENABLED=0 build: %v\n%s", t.Name(), err, out)
	}
	if testing.Verbose() {
		t.Logf("passed in a CGO_ENABLED=0 build:\n%s", out)
	}
}

// In a cgo build DropPrivileges must fail before changing anything.
func TestDropPrivilegesCgoChangesNothing(t *testing.T) {
	if !cgoBuild() {
		t.Skip("skipping: not a cgo build (TestKernelDropPrivileges covers this build)")
	}
	before := statusField(t, "/proc/self/status", "CapEff")
	if err := DropPrivileges(); !errors.Is(err, ErrAllThreadsUnsupported) {
		t.Fatalf("DropPrivileges in a cgo build = %v, want ErrAllThreadsUnsupported", err)
	}
	if after := statusField(t, "/proc/self/status", "CapEff"); after != before {
		t.Errorf("CapEff changed from %s to %s although DropPrivileges failed", before, after)
	}
	if nnp := statusField(t, "/proc/self/status", "NoNewPrivs"); nnp != "0" {
		t.Errorf("NoNewPrivs = %s after a failed DropPrivileges, want 0", nnp)
	}
}
