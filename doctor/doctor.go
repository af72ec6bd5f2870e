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
	"net/netip"
	"os"
	"path/filepath"
	"syscall"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/keystore"
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
	if err != nil {
		checks = append(checks, fail("daemon", err.Error(), "start it: sudo iaxcrypt up (or systemctl start iaxcrypt / launchctl kickstart system/org.iaxcrypt.iaxcrypt); pass --control if it uses another socket"))
	} else {
		checks = append(checks, pass("daemon", fmt.Sprintf("answers on %s: tun %s, application port %d, listen %s, policy %s, peers %v", o.Control, info.TUN, info.AppPort, info.Listen, info.Policy, info.Peers)))
		checks = append(checks, systemChecks(info)...)
		checks = append(checks, probeChecks(ctx, client, info, probeFix)...)
		o.StateDir = info.StateDir
	}
	checks = append(checks, keyCheck(o.StateDir))
	checks = append(checks, knownFilesCheck(o.StateDir)...)
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

// knownFilesCheck reports the known-peers and config files this version
// knows of. None has a parser yet (issue 8 adds them); a present file is
// reported, not judged.
func knownFilesCheck(dir string) []Check {
	var out []Check
	for _, f := range []string{"known_peers", "iaxcrypt.toml"} {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err == nil {
			out = append(out, Check{Name: f, Status: Skip, Detail: p + " exists; this version of iaxcrypt does not read it, so it was not checked"})
		} else {
			out = append(out, Check{Name: f, Status: Skip, Detail: p + " does not exist"})
		}
	}
	return out
}
