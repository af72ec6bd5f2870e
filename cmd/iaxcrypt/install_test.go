package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/dist"
	"github.com/iaxcrypt/iaxcrypt/keystore"
	"github.com/iaxcrypt/iaxcrypt/platform"
)

func TestInstallPrint(t *testing.T) {
	code, out, stderr := runArgs("install", "--print")
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("install supports Linux and macOS")
	}
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	plan, _ := planFor(runtime.GOOS)
	if !strings.HasPrefix(out, "# "+plan.file+"\n"+plan.text) || !strings.Contains(out, dist.BinaryPath) {
		t.Errorf("output does not start with the service file and name the binary:\n%s", out)
	}
	for _, s := range plan.enable {
		if !strings.Contains(out, strings.Join(s, " ")) {
			t.Errorf("output lacks step %q", s)
		}
	}
	if code, out, _ := runArgs("uninstall", "--print"); code != exitOK || !strings.Contains(out, plan.file) {
		t.Errorf("uninstall --print: exit %d, %q", code, out)
	}
}

// The launchd job runs the binary with state and control paths that exist
// on a sealed macOS system volume, and keeps the daemon alive.
func TestLaunchdPlist(t *testing.T) {
	p := dist.LaunchdPlist
	for _, want := range []string{"<string>" + dist.BinaryPath + "</string>", "<string>up</string>",
		"<string>" + keystore.DarwinDefaultDir + "</string>", "<string>" + control.DarwinDefaultPath + "</string>",
		"<key>Label</key>\n\t<string>" + dist.LaunchdLabel + "</string>", "<key>KeepAlive</key>"} {
		if !strings.Contains(p, want) {
			t.Errorf("plist lacks %q", want)
		}
	}
	for _, f := range strings.Split(p, "<string>") {
		s, _, _ := strings.Cut(f, "</string>")
		if strings.HasPrefix(s, "/") && !platform.WritableOnSealedMac(s) {
			t.Errorf("plist path %s is not writable on a sealed system volume", s)
		}
	}
	if _, err := exec.LookPath("xmllint"); err == nil {
		cmd := exec.Command("xmllint", "--noout", "-")
		cmd.Stdin = strings.NewReader(p)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("plist is not well-formed XML: %v: %s", err, out)
		}
	}
}

// systemd-analyze verify the unit, where systemd is installed.
func TestSystemdUnitVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "iaxcrypt.service")
	// The unit names /usr/local/sbin/iaxcrypt; verify checks the binary
	// exists, so point it at a stand-in.
	text := strings.ReplaceAll(dist.SystemdUnit, dist.BinaryPath, "/bin/true")
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "iaxcrypt.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if err != nil && strings.Contains(string(out), "iaxcrypt.service") {
		t.Errorf("systemd-analyze verify failed: %v", err)
	}
}
