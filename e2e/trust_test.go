package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/faxtest"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// peerRecord is a line of `iaxcrypt peers list --json`, with types of its
// own for the same reason as status.
type peerRecord struct {
	Peer      string `json:"peer"`
	Address   string `json:"address"`
	Identity  string `json:"identity"`
	LastCall  string `json:"last_call"`
	Verified  bool   `json:"verified"`
	Presented string `json:"presented"`
}

// iaxcrypt runs a command of the binary against the daemon's socket and
// state directory.
func (d *daemon) iaxcrypt(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args = append(args, "--control", d.control, "--state-dir", d.stateDir)
	out, err := exec.CommandContext(ctx, d.bin, args...).CombinedOutput()
	return string(out), err
}

func (d *daemon) peers(t *testing.T) []peerRecord {
	t.Helper()
	out, err := d.iaxcrypt(t, "peers", "list", "--json")
	if err != nil {
		t.Fatalf("peers list: %v: %s", err, out)
	}
	var p struct {
		Peers []peerRecord `json:"peers"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("peers list --json: %v: %s", err, out)
	}
	return p.Peers
}

// restart stops the daemon (SIGTERM, a clean exit) and starts it again
// with args, keeping its state directory.
func (d *daemon) restart(t *testing.T, args ...string) {
	t.Helper()
	if err := d.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	if args != nil {
		d.args = args
	}
	d.start(t)
}

// newIdentity makes the daemon's next start create a new identity key, as
// a reinstalled host, or a man in the middle with his own key, presents.
func (d *daemon) newIdentity(t *testing.T) {
	t.Helper()
	if err := os.Remove(filepath.Join(d.stateDir, "identity.key")); err != nil {
		t.Fatal(err)
	}
}

// withArgs returns the daemon's arguments with extra ones.
func (d *daemon) withArgs(extra ...string) []string {
	return append(append([]string(nil), d.args...), extra...)
}

// callKey names a call in a daemon's status.
func callKey(c callStatus) string {
	return fmt.Sprintf("%s/%d/%d", c.Peer, c.LocalCall, c.RemoteCall)
}

// calls returns the keys of the calls the daemon lists now.
func calls(t *testing.T, d *daemon) map[string]bool {
	t.Helper()
	seen := make(map[string]bool)
	for _, c := range d.status(t).Calls {
		seen[callKey(c)] = true
	}
	return seen
}

// waitNewCall waits until the daemon lists a call not in seen that is past
// negotiating, and returns it.
func waitNewCall(t *testing.T, d *daemon, seen map[string]bool, timeout time.Duration) callStatus {
	t.Helper()
	var found callStatus
	netns.WaitFor(t, timeout, func() (bool, string) {
		s, err := d.statusErr()
		if err != nil {
			return false, err.Error()
		}
		for _, c := range s.Calls {
			if !seen[callKey(c)] && c.State != "negotiating" {
				found = c
				return true, ""
			}
		}
		return false, fmt.Sprintf("no new call on %s: %+v", d.host, s.Calls)
	})
	return found
}

// fax sends a page and reports whether it arrived.
func fax(t *testing.T, from, to *faxtest.Modem, page string, attempts int) faxtest.Result {
	t.Helper()
	res := <-faxAsync(t, from, to, page, attempts)
	faxtest.WaitIdle(t, 60*time.Second, from, to)
	return res
}

// TestIdentityChange: A calls B, encrypted; B's daemon comes back with a
// new identity key. The next call is flagged identity_changed under
// opportunistic (and goes through, encrypted), refused under require, and
// refused when A's configuration pins B's first identity.
func TestIdentityChange(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxid")
	da, db := newDaemon(t, a), newDaemon(t, b)
	ma, mb := modems(t, a, b, appPort, appPort, daemonPort, daemonPort)
	page := faxtest.MakePage(t, t.TempDir())
	firstB := db.status(t).Identity

	// 1. First meeting: encrypted, remembered.
	seen := calls(t, da)
	if res := fax(t, ma, mb, page, faxAttempts); res.Err() != nil {
		t.Fatalf("first fax: %v\n%s", res.Err(), da.proc.Output())
	}
	c := waitNewCall(t, da, seen, 10*time.Second)
	if c.State != "ended" || c.SAS == "" || c.Warning != "" {
		t.Fatalf("first call %+v, want encrypted (now ended) without a warning", c)
	}
	peers := da.peers(t)
	if len(peers) != 1 || peers[0].Address != b.IP().String() || peers[0].Identity != firstB || peers[0].LastCall != "encrypted" {
		t.Fatalf("A remembers %+v, want B with %s", peers, firstB)
	}

	// 2. B comes back with another key: flagged, still encrypted.
	db.newIdentity(t)
	db.restart(t)
	secondB := db.status(t).Identity
	if secondB == firstB {
		t.Fatal("B kept its identity")
	}
	done := faxAsync(t, ma, mb, page, faxAttempts)
	c = waitCall(t, da, 60*time.Second, "encrypted")
	res := <-done
	faxtest.WaitIdle(t, 60*time.Second, ma, mb)
	if c.Warning != "identity_changed" || c.PeerIdentity != secondB {
		t.Fatalf("second call %+v, want encrypted with %s and warning identity_changed", c, secondB)
	}
	if res.Err() != nil {
		t.Fatalf("the flagged call under opportunistic should still go through: %v", res.Err())
	}
	if out := da.proc.Output(); !strings.Contains(out, "warning=identity_changed") || !strings.Contains(out, "call encrypted, with a warning") {
		t.Fatalf("A's log does not warn:\n%s", out)
	}
	peers = da.peers(t)
	if len(peers) != 1 || peers[0].Identity != firstB || peers[0].Presented != secondB {
		t.Fatalf("A's record %+v: the new key must be kept as presented, not adopted", peers)
	}
	t.Logf("second call flagged: %s %s, SAS %s", c.State, c.Warning, c.SAS)

	// 3. Under require the changed key is refused.
	da.restart(t, da.withArgs("--policy", "require")...)
	res = fax(t, ma, mb, page, 1)
	c = waitNewCall(t, da, nil, 30*time.Second)
	if res.Err() == nil || c.State != "failed" || c.Warning != "identity_changed" {
		t.Fatalf("under require: fax err %v, call %+v; want refused with identity_changed", res.Err(), c)
	}
	t.Logf("refused under require: %s", c.Reason)

	// 4. A pin of B's first identity (opportunistic otherwise): refused.
	conf := filepath.Join(t.TempDir(), "iaxcrypt.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("[[peer]]\nmatch = %q\nidentity = %q\n", b.IP(), firstB)), 0o644)
	da.restart(t, da.withArgs("--policy", "opportunistic", "--config", conf)...)
	res = fax(t, ma, mb, page, 1)
	c = waitNewCall(t, da, nil, 30*time.Second)
	if res.Err() == nil || c.State != "failed" || c.Warning != "identity_changed" || !strings.Contains(c.Reason, "pinned") {
		t.Fatalf("pinned: fax err %v, call %+v; want refused, identity_changed, pinned", res.Err(), c)
	}
	t.Logf("refused for the pinned peer: %s", c.Reason)
}

// TestVerifyThenChangedKeyRefused: A (require) and B call, encrypted; the
// people compare the SAS and A runs `peers verify B`. B's daemon comes back
// with a new key: the call is refused. Once the new key is verified by its
// fingerprint (read on B), calls are encrypted again, without a warning.
func TestVerifyThenChangedKeyRefused(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxvf")
	da, db := newDaemon(t, a, "--policy", "require"), newDaemon(t, b)
	ma, mb := modems(t, a, b, appPort, appPort, daemonPort, daemonPort)
	page := faxtest.MakePage(t, t.TempDir())

	done := faxAsync(t, ma, mb, page, faxAttempts)
	ca := waitCall(t, da, 60*time.Second, "encrypted")
	cb := waitCall(t, db, 60*time.Second, "encrypted")
	if ca.SAS == "" || ca.SAS != cb.SAS {
		t.Fatalf("SAS differ: %q %q", ca.SAS, cb.SAS)
	}
	// Both people read the same SAS aloud; A's operator marks B verified,
	// through the running daemon, by the address status shows.
	out, err := da.iaxcrypt(t, "peers", "verify", ca.Peer)
	if err != nil || !strings.HasPrefix(out, "verified ") || !strings.Contains(out, b.IP().String()+": identity "+ca.PeerIdentity) {
		t.Fatalf("peers verify %s: %v: %s", ca.Peer, err, out)
	}
	if res := <-done; res.Err() != nil {
		t.Fatalf("first fax: %v", res.Err())
	}
	faxtest.WaitIdle(t, 60*time.Second, ma, mb)
	peers := da.peers(t)
	if len(peers) != 1 || !peers[0].Verified || peers[0].Identity != ca.PeerIdentity {
		t.Fatalf("after verify: %+v", peers)
	}
	// The daemon wrote it to its file too (saved off the packet path).
	netns.WaitFor(t, 10*time.Second, func() (bool, string) {
		text, _ := os.ReadFile(filepath.Join(da.stateDir, "known_peers"))
		return strings.Contains(string(text), " verified="), string(text)
	})

	db.newIdentity(t)
	db.restart(t)
	newB := db.status(t).Identity
	seen := calls(t, da)
	res := fax(t, ma, mb, page, 1)
	c := waitNewCall(t, da, seen, 30*time.Second)
	if res.Err() == nil || c.State != "failed" || c.Warning != "identity_changed" {
		t.Fatalf("changed key of a verified peer: fax err %v, call %+v; want refused", res.Err(), c)
	}
	t.Logf("refused: %s", c.Reason)

	// B's operator reads his new fingerprint (iaxcrypt identity) to A's
	// over a channel they trust; A verifies it.
	out, err = da.iaxcrypt(t, "peers", "verify", b.IP().String(), "--identity", newB)
	if err != nil {
		t.Fatalf("peers verify --identity: %v: %s", err, out)
	}
	seen = calls(t, da)
	if res := fax(t, ma, mb, page, faxAttempts); res.Err() != nil {
		t.Fatalf("fax after verifying the new key: %v\n%s", res.Err(), da.proc.Output())
	}
	c = waitNewCall(t, da, seen, 10*time.Second)
	if c.SAS == "" || c.Warning != "" || c.PeerIdentity != newB {
		t.Fatalf("call after verifying the new key: %+v", c)
	}
}

// TestReloadKeepsCall: A's daemon runs with a configuration file. During
// an encrypted fax, the file changes B's policy to off and A gets SIGHUP:
// the fax goes on to the end without a dropped packet, and the next call
// follows the new policy (in clear, which B, remembering A, flags as a
// suspected downgrade).
func TestReloadKeepsCall(t *testing.T) {
	requireAll(t)
	a, b := netns.NewPair(t, "iaxrl")
	conf := filepath.Join(t.TempDir(), "iaxcrypt.toml")
	if err := os.WriteFile(conf, []byte("policy = \"opportunistic\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	da, db := newDaemon(t, a, "--config", conf), newDaemon(t, b)
	ma, mb := modems(t, a, b, appPort, appPort, daemonPort, daemonPort)
	page := faxtest.MakePage(t, t.TempDir())

	done := faxAsync(t, ma, mb, page, 1)
	waitCall(t, da, 60*time.Second, "encrypted")
	netns.WaitFor(t, 30*time.Second, func() (bool, string) {
		c := lastCall(t, da)
		return c.TxPackets > 50, fmt.Sprintf("call has sent %d packets", c.TxPackets)
	})
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("policy = \"opportunistic\"\n\n[[peer]]\nmatch = %q\npolicy = \"off\"\n", b.IP())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := da.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	da.proc.WaitOutput(t, 10*time.Second, "configuration reloaded")
	if c := lastCall(t, da); c.State != "encrypted" {
		t.Fatalf("the call in progress is %s after the reload, want still encrypted", c.State)
	}
	res := <-done
	faxtest.WaitIdle(t, 60*time.Second, ma, mb)
	if err := res.Err(); err != nil {
		t.Fatalf("the fax in progress did not survive the reload: %v\n%s", err, da.proc.Output())
	}
	requireNoDrops(t, da)
	requireNoDrops(t, db)
	if da.proc.Exited() {
		t.Fatal("SIGHUP ended the daemon")
	}

	// The next call follows the new policy.
	seenA, seenB := calls(t, da), calls(t, db)
	if res := fax(t, ma, mb, page, faxAttempts); res.Err() != nil {
		t.Fatalf("fax under the reloaded policy: %v", res.Err())
	}
	ca, cb := waitNewCall(t, da, seenA, 10*time.Second), waitNewCall(t, db, seenB, 10*time.Second)
	if ca.SAS != "" || cb.SAS != "" {
		t.Fatalf("the call after the reload was encrypted: A %+v, B %+v", ca, cb)
	}
	if cb.Warning != "downgrade_suspected" {
		t.Fatalf("B, which encrypted with A before, does not flag the call in clear: %+v", cb)
	}
	t.Logf("after reload: A %s (%s), B %s %s", ca.State, ca.Reason, cb.State, cb.Warning)

	// A bad file is refused by the reload; the daemon goes on as it was.
	os.WriteFile(conf, []byte("policy = \"sometimes\"\n"), 0o644)
	da.proc.Signal(syscall.SIGHUP)
	da.proc.WaitOutput(t, 10*time.Second, "configuration not reloaded")
	if !strings.Contains(da.proc.Output(), conf+":1: policy:") {
		t.Fatalf("the refused reload does not name the line:\n%s", da.proc.Output())
	}
}
