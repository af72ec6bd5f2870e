package asterisktest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// Timeouts of the PBX life cycle.
const (
	// BootTimeout bounds the wait for `core waitfullybooted`.
	BootTimeout = 30 * time.Second
	// CLITimeout bounds one `asterisk -rx` command.
	CLITimeout = 15 * time.Second
	// StopTimeout is how long Stop waits after `core stop now` before
	// signalling the process.
	StopTimeout = 10 * time.Second
)

// PBX is an Asterisk running in a namespace with a private configuration.
type PBX struct {
	// Host is the namespace it runs in.
	Host *netns.Host
	// Config is what it was started with.
	Config Config
	// Dir is its scratch folder: etc/ (configuration), log/full (its log),
	// run/ (control socket).
	Dir string
	// Proc is the asterisk process.
	Proc *netns.Process

	in Install
}

// Start writes cfg into a fresh scratch folder, starts `asterisk -f` with
// it in h, and waits until it has fully booted and chan_iax2 listens on
// cfg.BindPort. The PBX is stopped at test cleanup; its folder is removed
// then, unless the test failed (its path and the end of its log are
// logged).
func Start(t testing.TB, h *netns.Host, in Install, cfg Config) *PBX {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "pbx"
	}
	// Short: the control socket's path must fit in a sockaddr_un.
	dir, err := os.MkdirTemp("", "ast-")
	if err != nil {
		t.Fatalf("asterisktest: %v", err)
	}
	p := &PBX{Host: h, Config: cfg, Dir: dir, in: in}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Logf("asterisktest: %s: %v", cfg.Name, err)
		}
		if t.Failed() {
			t.Logf("asterisktest: %s kept in %s; end of its log:\n%s", cfg.Name, dir, tail(p.Log(), 6000))
			return
		}
		os.RemoveAll(dir)
	})
	if err := cfg.writeFiles(in, dir); err != nil {
		t.Fatalf("asterisktest: %s: writing configuration: %v", cfg.Name, err)
	}
	// -f: foreground; -p: real-time priority for the media path, which
	// Asterisk only warns about where it is not allowed; -g: core dumps.
	p.Proc = h.Start("asterisk-"+cfg.Name, in.Binary(), "-f", "-p", "-g", "-C", p.confPath())
	netns.WaitFor(t, BootTimeout, func() (bool, string) {
		if p.Proc.Exited() {
			t.Fatalf("asterisktest: %s exited while booting (status %d): %s\n--- log:\n%s", cfg.Name, p.Proc.ExitCode(), p.Proc.Output(), tail(p.Log(), 4000))
		}
		out, err := p.CLI("core waitfullybooted")
		if err != nil {
			return false, fmt.Sprintf("%s: %v: %s", cfg.Name, err, out)
		}
		return strings.Contains(out, "fully booted"), fmt.Sprintf("%s: core waitfullybooted said %q", cfg.Name, out)
	})
	h.WaitUDPBound(t, 10*time.Second, cfg.bindPort())
	return p
}

func (p *PBX) confPath() string { return filepath.Join(p.Dir, "etc", "asterisk.conf") }

// CLI runs one CLI command on the PBX (`asterisk -C ... -rx cmd`) and
// returns its output. It talks to the control socket in the PBX's folder,
// so it needs no namespace.
func (p *PBX) CLI(cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CLITimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.in.Binary(), "-C", p.confPath(), "-rx", cmd).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("asterisk %s -rx %q: %w", p.Config.Name, cmd, err)
	}
	return string(out), nil
}

// MustCLI is CLI that fails the test on error.
func (p *PBX) MustCLI(t testing.TB, cmd string) string {
	t.Helper()
	out, err := p.CLI(cmd)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return out
}

// Log returns the PBX's log so far (notices, warnings, errors, verbose
// messages), or "" if it has none yet.
func (p *PBX) Log() string {
	b, err := os.ReadFile(filepath.Join(p.Dir, "log", "full"))
	if err != nil {
		return ""
	}
	return string(b)
}

// Stop asks Asterisk to stop (`core stop now`), waits StopTimeout, then
// ends the process with signals. Stopping a stopped PBX is a no-op.
func (p *PBX) Stop() error {
	if p.Proc == nil || p.Proc.Exited() {
		return nil
	}
	if out, err := p.CLI("core stop now"); err != nil && !p.Proc.Exited() {
		// Not fatal: the signals below still stop it.
		err = fmt.Errorf("%w: %s", err, out)
		return errors.Join(err, p.Proc.Stop())
	}
	select {
	case <-p.Proc.Done():
		return nil
	case <-time.After(StopTimeout):
		return p.Proc.Stop()
	}
}

// PeerAddr returns the address chan_iax2 has for peer (`iax2 show peer`):
// the registered address of a dynamic peer, invalid if it has not
// registered.
func (p *PBX) PeerAddr(peer string) (netip.AddrPort, error) {
	out, err := p.CLI("iax2 show peer " + peer)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return parsePeerAddr(out)
}

var peerAddrRE = regexp.MustCompile(`Addr->IP\s*:\s*(\S+) Port (\d+)`)

func parsePeerAddr(out string) (netip.AddrPort, error) {
	m := peerAddrRE.FindStringSubmatch(out)
	if m == nil {
		return netip.AddrPort{}, fmt.Errorf("no Addr->IP line in %q", out)
	}
	addr, err := netip.ParseAddr(m[1])
	if err != nil || addr.IsUnspecified() {
		return netip.AddrPort{}, nil // "(Unspecified)", "(null)", 0.0.0.0: not registered
	}
	port, err := strconv.ParseUint(m[2], 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port in %q: %w", m[0], err)
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// WaitRegistered waits until the dynamic peer has registered from addr
// (any port) and returns the address it registered from.
func (p *PBX) WaitRegistered(t testing.TB, peer string, addr netip.Addr, timeout time.Duration) netip.AddrPort {
	t.Helper()
	var got netip.AddrPort
	netns.WaitFor(t, timeout, func() (bool, string) {
		a, err := p.PeerAddr(peer)
		if err != nil {
			return false, err.Error()
		}
		got = a
		return a.Addr() == addr, fmt.Sprintf("%s: peer %s registered at %v, want %v", p.Config.Name, peer, a, addr)
	})
	return got
}

// Channel is one line of `iax2 show channels`.
type Channel struct {
	// Name is the Asterisk channel ("IAX2/pbxB-16385"), "(None)" for a
	// call being set up.
	Name string
	// Peer is the other end's address, Username the user it authenticated as.
	Peer, Username string
	// LocalCall and RemoteCall are the call numbers of the two ends.
	LocalCall, RemoteCall uint16
}

// Channels returns the PBX's active IAX2 channels.
func (p *PBX) Channels() ([]Channel, error) {
	out, err := p.CLI("iax2 show channels")
	if err != nil {
		return nil, err
	}
	return parseChannels(out), nil
}

var callIDsRE = regexp.MustCompile(`^(\d{5})/(\d{5})$`)

// parseChannels reads `iax2 show channels` lines: channel, peer address,
// username, "LLLLL/RRRRR" call numbers, then sequence numbers and more.
func parseChannels(out string) []Channel {
	var chans []Channel
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		m := callIDsRE.FindStringSubmatch(f[3])
		if m == nil {
			continue
		}
		lo, _ := strconv.ParseUint(m[1], 10, 16)
		rem, _ := strconv.ParseUint(m[2], 10, 16)
		chans = append(chans, Channel{Name: f[0], Peer: f[1], Username: f[2], LocalCall: uint16(lo), RemoteCall: uint16(rem)})
	}
	return chans
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
