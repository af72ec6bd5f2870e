package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/dist"
)

// servicePlan is what install writes and runs on one system.
type servicePlan struct {
	file, text string
	extra      map[string]string // more files, kept if present (flags)
	enable     [][]string
	disable    [][]string
}

func planFor(goos string) (servicePlan, error) {
	switch goos {
	case "linux":
		return servicePlan{file: dist.SystemdUnitPath, text: dist.SystemdUnit,
			extra:   map[string]string{dist.SystemdDefaultsP: dist.SystemdDefaults},
			enable:  [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "enable", "--now", "iaxcrypt"}},
			disable: [][]string{{"systemctl", "disable", "--now", "iaxcrypt"}}}, nil
	case "darwin":
		return servicePlan{file: dist.LaunchdPlistPath, text: dist.LaunchdPlist,
			enable:  [][]string{{"launchctl", "bootstrap", "system", dist.LaunchdPlistPath}},
			disable: [][]string{{"launchctl", "bootout", "system/" + dist.LaunchdLabel}}}, nil
	}
	return servicePlan{}, fmt.Errorf("install: %s is not supported (iaxcrypt supports Linux and macOS)", goos)
}

var installCommand = &command{
	name:    "install",
	summary: "install the daemon as a system service (--print to only show it)",
	description: `Copies this binary to ` + dist.BinaryPath + ` and installs and starts the system service: a
systemd unit on Linux (flags for up in ` + dist.SystemdDefaultsP + `, kept if present), a launchd job on
macOS. --print shows the service file and the steps and changes nothing.`,
	setup: func() (*pflag.FlagSet, runFunc) { return installSetup("install") },
}

var uninstallCommand = &command{
	name:    "uninstall",
	summary: "stop and remove the system service install installed",
	description: `Stops the service and removes its unit or job. The binary and the state directory (the
identity key and the known peers) are kept. --print shows the steps and changes nothing.`,
	setup: func() (*pflag.FlagSet, runFunc) { return installSetup("uninstall") },
}

// installSetup: "iaxcrypt install [--print]" and "iaxcrypt uninstall
// [--print]": the binary in /usr/local/sbin and the systemd unit or
// launchd job. --print shows the service file and the steps, changing
// nothing. Uninstall keeps the state directory (the identity key).
func installSetup(cmd string) (*pflag.FlagSet, runFunc) {
	fs := newFlagSet(cmd)
	print := fs.Bool("print", false, "print the service file and the commands, change nothing")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runInstall(cmd, fs, *print, stdout, stderr) }
}

func runInstall(cmd string, fs *pflag.FlagSet, print bool, stdout, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("%s takes no arguments, got %q", cmd, fs.Arg(0)))
	}
	plan, err := planFor(runtime.GOOS)
	if err != nil {
		return fail(stderr, err)
	}
	steps := plan.enable
	if cmd == "uninstall" {
		steps = plan.disable
	}
	if print {
		if cmd == "install" {
			fmt.Fprintf(stdout, "# %s\n%s", plan.file, plan.text)
			fmt.Fprintf(stdout, "# then: copy this binary to %s and run:\n", dist.BinaryPath)
		} else {
			fmt.Fprintf(stdout, "# remove %s after running:\n", plan.file)
		}
		for _, s := range steps {
			fmt.Fprintf(stdout, "#   %s\n", strings.Join(s, " "))
		}
		return exitOK
	}
	if err := requireRoot(); err != nil {
		return fail(stderr, err)
	}
	if cmd == "uninstall" {
		for _, s := range steps {
			if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
				fmt.Fprintf(stderr, "iaxcrypt: %s: %v: %s\n", strings.Join(s, " "), err, out)
			}
		}
		if err := os.Remove(plan.file); err != nil && !os.IsNotExist(err) {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "removed %s (the binary %s and the state directory are kept)\n", plan.file, dist.BinaryPath)
		return exitOK
	}
	self, err := os.Executable()
	if err != nil {
		return fail(stderr, fmt.Errorf("find this binary: %w", err))
	}
	if err := copyFile(self, dist.BinaryPath, 0o755); err != nil {
		return fail(stderr, err)
	}
	if err := writeFile(plan.file, plan.text, 0o644); err != nil {
		return fail(stderr, err)
	}
	for f, text := range plan.extra {
		if _, err := os.Stat(f); os.IsNotExist(err) {
			if err := writeFile(f, text, 0o644); err != nil {
				return fail(stderr, err)
			}
		}
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fail(stderr, fmt.Errorf("%s: %w: %s", strings.Join(s, " "), err, out))
		}
	}
	fmt.Fprintf(stdout, "installed %s and %s; check with: sudo iaxcrypt doctor\n", dist.BinaryPath, plan.file)
	return exitOK
}

func writeFile(path, text string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), mode); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	if src == dst {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	return writeFile(dst, string(b), mode)
}
