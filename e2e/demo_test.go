package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// demoTimeout bounds `iaxcrypt demo` (one fax of about 20 s plus set-up):
// the README promises it as a quick start.
const demoTimeout = 3 * time.Minute

var (
	sasLineRE    = regexp.MustCompile(`(?m)SAS on ([AB]): (\S+ \([^)]+\))$`)
	cipherLineRE = regexp.MustCompile(`(?m)keys   ([AB]): call encrypted, cipher (\S+)$`)
	scratchRE    = regexp.MustCompile(`scratch directory (\S+)`)
)

// TestDemo runs `iaxcrypt demo` as `make demo` does and checks its output:
// an encrypted call, the same cipher and SAS on both sides, the voice frame
// shown in clear and sealed, the audit clean, and nothing left behind.
func TestDemo(t *testing.T) {
	requireAll(t)
	ctx, cancel := context.WithTimeout(context.Background(), demoTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, iaxcryptBinary(t), "demo")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.String()
	t.Logf("iaxcrypt demo took %v; output:\n%s", time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Fatalf("iaxcrypt demo: %v (bound %v): %s", err, demoTimeout, stderr.String())
	}
	sas := map[string]string{}
	for _, m := range sasLineRE.FindAllStringSubmatch(out, -1) {
		sas[m[1]] = m[2]
	}
	if sas["A"] == "" || sas["A"] != sas["B"] {
		t.Fatalf("SAS on A %q, on B %q: want the same on both", sas["A"], sas["B"])
	}
	ciphers := map[string]string{}
	for _, m := range cipherLineRE.FindAllStringSubmatch(out, -1) {
		ciphers[m[1]] = m[2]
	}
	if ciphers["A"] == "" || ciphers["A"] != ciphers["B"] {
		t.Fatalf("ciphers on A %q, on B %q", ciphers["A"], ciphers["B"])
	}
	for _, want := range []string{
		"[marker 0xC3: offer v",  // the NEW on the wire
		"[marker 0xC3: answer v", // the ACCEPT
		"A -> B  encrypted frame", "B -> A  encrypted frame",
		"voice  as A's phone sent it", "voice  as it crossed the wire",
		" 0 frames in clear after the switch",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "CLEARTEXT after the switch") {
		t.Errorf("the demo saw cleartext after the switch")
	}
	requireDemoGone(t, cmd.Process.Pid, out)
}

// TestDemoInterrupted: Ctrl-C in the middle of the call removes everything
// and exits non-zero.
func TestDemoInterrupted(t *testing.T) {
	requireAll(t)
	cmd := exec.Command(iaxcryptBinary(t), "demo")
	var out lockedOutput
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Interrupt in the middle of the call, once both sides encrypt: the
	// phones, the daemons and the captures are all running then.
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "B -> A  encrypted frame") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the demo's call was not encrypted within 90 s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 {
			t.Fatalf("exit %d (%v) after SIGINT, want 1:\n%s", code, err, out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the demo still runs 30 s after SIGINT:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("no word of the interruption:\n%s", out.String())
	}
	requireDemoGone(t, cmd.Process.Pid, out.String())
}

// TestDemoNeedsRoot: without root the demo says so and exits non-zero,
// before creating anything.
func TestDemoNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs the demo as nobody, which needs root to arrange")
	}
	dir, err := os.MkdirTemp("", "iaxcrypt-demo-noroot-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "iaxcrypt")
	data, err := os.ReadFile(iaxcryptBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "demo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "needs root") {
		t.Fatalf("as nobody: %v, exit %d, output %q", err, cmd.ProcessState.ExitCode(), out)
	}
}

// requireDemoGone checks that a finished demo left no namespace, no
// process and no scratch directory behind.
func requireDemoGone(t *testing.T, pid int, out string) {
	t.Helper()
	list, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if prefix := fmt.Sprintf("iaxdemo-%d-", pid); strings.Contains(string(list), prefix) {
		t.Errorf("namespaces left behind:\n%s", list)
	}
	m := scratchRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo did not say what it removed:\n%s", out)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("scratch directory %s left behind (%v)", m[1], err)
	}
	// iaxmodem, efax and the daemons all name a file of the scratch
	// directory on their command lines (dumpcap goes with its namespace).
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(m[1])) {
			t.Errorf("process left behind: %s: %q", p, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

// lockedOutput collects a command's output while the test reads it.
type lockedOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *lockedOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *lockedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
