package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// iaxcryptCgoBin is the daemon as `go install` builds it on a machine with
// a C compiler: with cgo.
var iaxcryptCgoBin = &goBinary{pkg: "../cmd/iaxcrypt", name: "iaxcrypt-cgo", env: []string{"CGO_ENABLED=1"}}

// capLines are the lines of /proc/PID/task/TID/status that make up a
// thread's privileges.
var capLines = []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"}

// threadPrivileges returns the privilege lines of every thread of pid,
// failing when two threads differ.
func threadPrivileges(t *testing.T, pid int) (string, int) {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	var first string
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(b), "\n") {
			if k, _, ok := strings.Cut(l, ":"); ok && contains(capLines, k) {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
		}
		got := strings.Join(lines, "\n")
		if len(lines) != len(capLines) {
			t.Fatalf("%s: privilege lines %q", task, got)
		}
		if first == "" {
			first = got
		} else if got != first {
			t.Fatalf("threads of %d differ:\n%s\n--- and %s:\n%s", pid, first, task, got)
		}
	}
	return first, len(tasks)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCgoBuildDropsPrivileges: `iaxcrypt up` built with cgo (as go install
// builds it where gcc exists) and without it, each started as root in a
// namespace, reach the same privileges on every thread once their control
// socket answers: CAP_NET_ADMIN only (with --notify also CAP_SETUID and
// CAP_SETGID) in the effective, permitted and bounding sets, nothing
// inheritable or ambient, no_new_privs set. The cgo build gets there by
// re-executing itself, which its environment block shows. Each daemon is
// stopped with SIGTERM and must exit 0: with what it kept it can still
// remove its routes.
func TestCgoBuildDropsPrivileges(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	netns.RequireRoot(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("skipping: no gcc, so no cgo build")
	}
	builds := []struct {
		name, bin, cgo string
	}{
		{"cgo-free", iaxcryptBinary(t), "0"},
		{"cgo", iaxcryptCgoBin.get(t), "1"},
	}
	for _, b := range builds {
		out, err := exec.Command("go", "version", "-m", b.bin).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "build\tCGO_ENABLED="+b.cgo+"\n") {
			t.Fatalf("%s: go version -m: %v: want CGO_ENABLED=%s in\n%s", b.name, err, b.cgo, out)
		}
	}
	a, peer := netns.NewPair(t, "iaxcap")
	a.MustRun("ip", "route", "add", "default", "via", peer.IP().String())
	for _, tc := range []struct {
		extra []string
		caps  string
	}{
		{nil, "0000000000001000"},                  // CAP_NET_ADMIN (12)
		{[]string{"--notify"}, "00000000000010c0"}, // and CAP_SETUID (7), CAP_SETGID (6)
	} {
		want := strings.Join([]string{"CapInh: 0000000000000000", "CapPrm: " + tc.caps, "CapEff: " + tc.caps,
			"CapBnd: " + tc.caps, "CapAmb: 0000000000000000", "NoNewPrivs: 1"}, "\n")
		for _, b := range builds {
			dir := t.TempDir()
			d := &daemon{host: a, bin: b.bin, stateDir: filepath.Join(dir, "state"), control: filepath.Join(dir, "control.sock")}
			d.args = append([]string{"up", "--listen", fmt.Sprintf(":%d", daemonPort), "--app-port", fmt.Sprint(appPort),
				"--state-dir", d.stateDir, "--control", d.control, "--peer", peer.IP().String()}, tc.extra...)
			d.start(t) // waits until the control socket answers
			// The socket answers a moment before the daemon drops its
			// privileges; this line comes after.
			d.proc.WaitOutput(t, 20*time.Second, `msg="iaxcrypt up"`)
			pid := d.proc.Cmd.Process.Pid
			got, threads := threadPrivileges(t, pid)
			if got != want {
				t.Errorf("%s %v: privileges of its %d threads:\n%s\nwant:\n%s\noutput:\n%s", b.name, tc.extra, threads, got, want, d.proc.Output())
			}
			environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if err != nil {
				t.Fatal(err)
			}
			if reexec := bytes.Contains(environ, []byte("IAXCRYPT_REEXEC_DROPPED=1")); reexec != (b.cgo == "1") {
				t.Errorf("%s: re-executed %v, want %v", b.name, reexec, b.cgo == "1")
			}
			t.Logf("%s %v: %d threads, all %s", b.name, tc.extra, threads, strings.ReplaceAll(got, "\n", ", "))
			if err := d.proc.Stop(); err != nil {
				t.Fatalf("%s: stop: %v\n%s", b.name, err, d.proc.Output())
			}
			if code := d.proc.ExitCode(); code != 0 {
				t.Errorf("%s: exit status %d after SIGTERM (routes not removed?):\n%s", b.name, code, d.proc.Output())
			}
		}
	}
}
