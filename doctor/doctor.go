// Package doctor owns "iaxcrypt doctor": checks of a running host's
// set-up, each with a verdict and what to do, on Linux and macOS. It reads
// the daemon's own description of itself (the control socket's info
// request) and compares the system with it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"

	"github.com/iaxcrypt/iaxcrypt/config"
	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/keystore"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

// Status of one check.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip" // nothing to check (e.g. no such file); never a failure
)

// Check is one verdict.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is every check, in order.
type Report struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Options says where to look.
type Options struct {
	Control  string // control socket
	StateDir string // used when the daemon does not answer
}

// The test address route lookups are made for and the probe from the
// application's port is sent to: a documentation range, never reached
// (the lookups send nothing; the probe ends in the daemon, or, on a broken
// set-up, at a router that has no route to it).
var testAddr4 = netip.MustParseAddr("192.0.2.1")

func pass(name, detail string) Check { return Check{Name: name, Status: Pass, Detail: detail} }
func fail(name, detail, fix string) Check {
	return Check{Name: name, Status: Fail, Detail: detail, Fix: fix}
}

// Run runs every check.
func Run(ctx context.Context, o Options) Report {
	var checks []Check
	client := control.Client{Path: o.Control}
	info, err := client.Info(ctx)
	var configFile string
	if err != nil {
		checks = append(checks, fail("daemon", err.Error(), "start it: sudo iaxcrypt up (or systemctl start iaxcrypt / launchctl kickstart system/org.iaxcrypt.iaxcrypt); pass --control if it uses another socket"))
	} else {
		checks = append(checks, pass("daemon", fmt.Sprintf("answers on %s: tun %s, application port %d, listen %s, policy %s, peers %v", o.Control, info.TUN, info.AppPort, info.Listen, info.Policy, info.Peers)))
		checks = append(checks, systemChecks(info)...)
		checks = append(checks, probeChecks(ctx, client, info, probeFix)...)
		o.StateDir, configFile = info.StateDir, info.Config
	}
	checks = append(checks, keyCheck(o.StateDir))
	checks = append(checks, knownFilesCheck(o.StateDir, configFile, err == nil)...)
	r := Report{OK: true, Checks: checks}
	for _, c := range checks {
		if c.Status == Fail {
			r.OK = false
		}
	}
	return r
}

// keyCheck: the identity key exists, is a regular file owned by root (when
// doctor runs as root) and readable by its owner only, in a directory
// others cannot write.
func keyCheck(dir string) Check {
	const name = "identity key"
	file := keystore.Path(dir)
	fi, err := os.Lstat(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail(name, file+" does not exist", "run `sudo iaxcrypt up` (it creates the key) or pass --state-dir")
		}
		return fail(name, err.Error(), "run doctor as root (sudo) so it can read "+dir)
	}
	if !fi.Mode().IsRegular() {
		return fail(name, file+" is not a regular file", "remove it and let iaxcrypt up create a new key")
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fail(name, fmt.Sprintf("%s is mode %#o: readable or writable by others, who could impersonate this host", file, perm), "sudo chmod 600 "+file+" (and consider the key compromised: remove it and restart to make a new one)")
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 && st.Uid != 0 {
		return fail(name, fmt.Sprintf("%s is owned by uid %d, not root", file, st.Uid), "sudo chown root "+file)
	}
	if di, err := os.Stat(filepath.Dir(file)); err == nil && di.Mode().Perm()&0o022 != 0 {
		return fail(name, fmt.Sprintf("%s is mode %#o: others can replace the key", filepath.Dir(file), di.Mode().Perm()), "sudo chmod 700 "+filepath.Dir(file))
	}
	if _, err := keystore.Load(dir); err != nil {
		return fail(name, err.Error(), "remove the file and let iaxcrypt up create a new key")
	}
	return pass(name, file+" is root's alone and holds a valid key")
}

// knownFilesCheck reads the known-peers file in dir and the daemon's
// --config file (configFile, "" if it was started without one, unknown
// if the daemon does not answer) with the parsers the daemon uses, and
// reports what would stop it or what it would skip.
func knownFilesCheck(dir, configFile string, daemonUp bool) []Check {
	out := []Check{knownPeersCheck(dir)}
	const name = "config file"
	switch {
	case configFile != "":
		if _, err := config.Load(configFile); err != nil {
			out = append(out, fail(name, err.Error(), "fix it (iaxcrypt config check "+configFile+" lists every mistake), then sudo systemctl reload iaxcrypt (or send the daemon SIGHUP)"))
		} else {
			out = append(out, pass(name, configFile+" parses"))
		}
	case daemonUp:
		out = append(out, Check{Name: name, Status: Skip, Detail: "the daemon runs without --config"})
	default:
		out = append(out, Check{Name: name, Status: Skip, Detail: "unknown while the daemon does not answer (iaxcrypt config check FILE checks one)"})
	}
	return out
}

// knownPeersCheck loads the known-peers file read-only (no lock, nothing
// written): a file others can read is refused by the daemon, and a line
// that does not parse is skipped by it.
func knownPeersCheck(dir string) Check {
	const name = "known peers"
	path := knownpeers.Path(dir)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Check{Name: name, Status: Skip, Detail: path + " does not exist yet (written when the first peer is remembered)"}
	}
	st, lineErrs, err := knownpeers.Open(path, knownpeers.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		var pe *knownpeers.PermissionError
		if errors.As(err, &pe) {
			return fail(name, err.Error(), "sudo chmod 600 "+path)
		}
		return fail(name, err.Error(), "run doctor as root (sudo) so it can read "+path)
	}
	n := st.Len()
	st.Close() // nothing changed: nothing is written
	if len(lineErrs) > 0 {
		detail := fmt.Sprintf("%d line(s) do not parse and are ignored by the daemon; the first: %v", len(lineErrs), lineErrs[0])
		return fail(name, detail, "edit "+path+" (one peer a line, as iaxcrypt peers list shows them) or remove the line with iaxcrypt peers forget")
	}
	return pass(name, fmt.Sprintf("%s: %d peer(s) remembered", path, n))
}
