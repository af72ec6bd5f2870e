package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "iaxcrypt.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const testFP = "9LFNXqBGMpSH6SVZvOx4RoHSRbk0UwUz1uYjBw3mDWA="

func TestUpConfigFile(t *testing.T) {
	path := writeConfig(t, `policy = "require"
listen = ":4569"
app-port = 4571
log-level = "debug"
notify = true

[[peer]]
match = "192.0.2.7"
identity = "`+testFP+`"
route = true

[[peer]]
match = "10.0.0.0/8"
policy = "off"
`)
	o, err := parseUp([]string{"--config", path, "--peer", "198.51.100.1"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.policy != engine.PolicyRequire || o.listen != ":4569" || o.appPort != 4571 || !o.notify || o.configFile != path {
		t.Fatalf("file not applied: %+v", o)
	}
	if len(o.peers) != 2 || o.peers[0] != netip.MustParseAddr("198.51.100.1") || o.peers[1] != netip.MustParseAddr("192.0.2.7") {
		t.Fatalf("routed peers %v: want the flag's and the file's", o.peers)
	}
	if len(o.rules) != 2 || o.rules[0].Identity == nil || o.rules[1].Policy != engine.PolicyOff {
		t.Fatalf("peer sections %+v", o.rules)
	}
	// Flags override the file.
	o, err = parseUp([]string{"--config", path, "--policy", "off", "--app-port", "5000"}, &bytes.Buffer{})
	if err != nil || o.policy != engine.PolicyOff || o.appPort != 5000 || o.listen != ":4569" {
		t.Fatalf("flags over the file: %+v %v", o, err)
	}
}

// upFlagNames lists the flags of `iaxcrypt up` from its help text.
func upFlagNames(t *testing.T) []string {
	var help bytes.Buffer
	parseUp([]string{"--help"}, &help)
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllStringSubmatch(help.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) < 8 {
		t.Fatalf("found only %v in the help:\n%s", names, help.String())
	}
	return names
}

// TestEveryUpFlagHasAKey: each flag of up (but --config itself, and --peer,
// which is route = true in a [[peer]] section) can be set in the file.
func TestEveryUpFlagHasAKey(t *testing.T) {
	samples := map[string]string{
		"tun": `"iax9"`, "app-port": "5000", "listen": `":5001"`, "policy": `"require"`, "state-dir": `"/s"`,
		"control": `"/c.sock"`, "log-level": `"debug"`, "notify": "true", "sas-audio": "true",
		"interface": `"en0"`, "debug-addr": `"127.0.0.1:6060"`,
		"metrics": `"127.0.0.1:9469"`, "log-format": `"json"`,
	}
	var text strings.Builder
	for _, name := range upFlagNames(t) {
		if name == "config" || name == "peer" || name == "help" {
			continue
		}
		v, ok := samples[name]
		if !ok {
			t.Logf("--%s: no sample value here, its key is only checked to be accepted", name)
			continue
		}
		fmt.Fprintf(&text, "%s = %s\n", name, v)
	}
	text.WriteString("[[peer]]\nmatch = \"192.0.2.9\"\nroute = true\n")
	o, err := parseUp([]string{"--config", writeConfig(t, text.String())}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.tun != "iax9" || o.appPort != 5000 || o.listen != ":5001" || o.policy != engine.PolicyRequire || o.stateDir != "/s" ||
		o.control != "/c.sock" || o.logLevel.String() != "DEBUG" || !o.notify || !o.sasAudio || o.iface != "en0" || o.debug != "127.0.0.1:6060" || o.metrics != "127.0.0.1:9469" || o.logFormat != "json" || len(o.peers) != 1 {
		t.Fatalf("not every key was applied: %+v", o)
	}
	// Keys of flags this test has no sample for are accepted too.
	for _, name := range upFlagNames(t) {
		if _, ok := samples[name]; ok || name == "config" || name == "peer" || name == "help" {
			continue
		}
		if _, err := parseUp([]string{"--config", writeConfig(t, name+" = \"\"\n")}, &bytes.Buffer{}); err != nil && strings.Contains(err.Error(), "unknown key") {
			t.Errorf("--%s has no key: %v", name, err)
		}
	}
}

// TestConfigCheck: every mistake, with its line, from the file's syntax,
// its sections and the values of the flags it sets.
func TestConfigCheck(t *testing.T) {
	path := writeConfig(t, `policy = "sometimes"
app-port = "4571"
listen = ":4570"
colour = "blue"
config = "other.toml"
notify = "yes"
log-level = "chatty"
tun = ""
[[peer]]
match = "10.0.0.0/33"
`)
	code, stdout, stderr := runArgs("config", "check", path)
	if code != exitError || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	want := []struct {
		line int
		text string
	}{
		{1, "use opportunistic, require or off"},
		{2, "app-port: want an integer, got a string"},
		{4, `colour: unknown key: the keys are the flags of iaxcrypt up (tun, app-port`},
		{5, "config: unknown key"},
		{6, "notify: want true or false, got a string"},
		{7, `log-level: "chatty": use debug`},
		{8, "tun: is empty"},
		{10, "not an address range"},
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i, w := range want {
		if i < len(lines) && !strings.HasPrefix(lines[i], fmt.Sprintf("%s:%d: ", path, w.line)) {
			t.Errorf("error %d is %q, want line %d (errors in the order of their lines)", i, lines[i], w.line)
		}
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, fmt.Sprintf("%s:%d: ", path, w.line)) && strings.Contains(l, w.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error on line %d saying %q in:\n%s", w.line, w.text, stderr)
		}
	}
	if len(lines) != len(want) {
		t.Errorf("%d errors, want %d:\n%s", len(lines), len(want), stderr)
	}
	// listen is the application's port: named at the line of listen.
	path = writeConfig(t, "app-port = 4569\n\nlisten = \":4569\"\n")
	if code, _, stderr := runArgs("config", "check", path); code != exitError || !strings.HasPrefix(stderr, path+":3: listen: port 4569 is the application's port") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	path = writeConfig(t, "peer = \"192.0.2.1\"\n")
	if code, _, stderr := runArgs("config", "check", path); code != exitError || !strings.HasPrefix(stderr, path+":1: peer: peer must be [[peer]] sections") {
		t.Fatalf("peer as a key: exit %d, %q", code, stderr)
	}
	// A syntax error.
	path = writeConfig(t, "policy = \"require\"\n[[peer]\n")
	if code, _, stderr := runArgs("config", "check", path); code != exitError || !strings.HasPrefix(stderr, path+":2: ") {
		t.Fatalf("syntax error: exit %d, %q", code, stderr)
	}
	path = writeConfig(t, "policy = \"require\"\n[[peer]]\nmatch = \"192.0.2.7\"\nroute = true\n")
	if code, stdout, stderr := runArgs("config", "check", path); code != exitOK || !strings.Contains(stdout, "ok: policy require, 1 [[peer]] sections, 1 routed peers") {
		t.Fatalf("good file: exit %d, %q %q", code, stdout, stderr)
	}
	if code, _, _ := runArgs("config", "check"); code != exitUsage {
		t.Fatalf("config check without a file: exit %d", code)
	}
	if code, _, stderr := runArgs("config", "check", filepath.Join(t.TempDir(), "none.toml")); code != exitError || !strings.Contains(stderr, "does not exist") {
		t.Fatalf("missing file: exit %d %q", code, stderr)
	}
}

func newTestKey(t *testing.T) crypt.PublicKey {
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id.Public()
}

// TestPeersOffline: with no daemon holding the store, the commands edit
// the file.
func TestPeersOffline(t *testing.T) {
	dir := t.TempDir()
	s, _, err := knownpeers.Open(knownpeers.Path(dir), knownpeers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kb, changed := newTestKey(t), newTestKey(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.NoteCall(knownpeers.MakeKey(netip.MustParseAddr("192.0.2.7"), "200"), kb, true, false, at)
	s.NoteCall(knownpeers.MakeKey(netip.MustParseAddr("192.0.2.7"), "200"), changed, true, false, at.Add(time.Hour))
	s.NoteCall(knownpeers.MakeKey(netip.MustParseAddr("198.51.100.1"), ""), kb, true, false, at)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	nodaemon := filepath.Join(dir, "none.sock")
	code, out, stderr := runArgs("peers", "list", "--state-dir", dir, "--control", nodaemon)
	if code != exitOK {
		t.Fatalf("list: exit %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "200@192.0.2.7 ") || !strings.Contains(lines[1], "identity_changed: presented "+changed.Fingerprint()[:16]) ||
		!strings.Contains(lines[1], "encrypted") || !strings.HasPrefix(lines[2], "198.51.100.1 ") {
		t.Fatalf("list:\n%s", out)
	}
	// verify adopts the identity the last call presented.
	code, out, stderr = runArgs("peers", "verify", "192.0.2.7:4569", "--state-dir", dir, "--control", nodaemon)
	if code != exitOK || out != "verified 200@192.0.2.7: identity "+changed.Fingerprint()+"\n" {
		t.Fatalf("verify: exit %d %q %q", code, out, stderr)
	}
	code, out, _ = runArgs("peers", "list", "--json", "--state-dir", dir, "--control", nodaemon)
	var p control.Peers
	if code != exitOK || json.Unmarshal([]byte(out), &p) != nil || len(p.Peers) != 2 || !p.Peers[0].Verified ||
		p.Peers[0].Identity != changed.Fingerprint() || p.Peers[0].Presented != "" || p.Peers[0].User != "200" || p.Peers[1].Verified {
		t.Fatalf("list --json after verify: %s", out)
	}
	// --identity must be a fingerprint; it may verify a peer never met.
	if code, _, stderr := runArgs("peers", "verify", "pbx@203.0.113.5", "--identity", "nope", "--state-dir", dir); code != exitError || !strings.Contains(stderr, "not a fingerprint") {
		t.Fatalf("bad --identity: exit %d %q", code, stderr)
	}
	if code, _, stderr := runArgs("peers", "verify", "pbx@203.0.113.5", "--identity", testFP, "--state-dir", dir); code != exitOK {
		t.Fatalf("verify --identity: exit %d %q", code, stderr)
	}
	if code, out, _ := runArgs("peers", "forget", "198.51.100.1", "--state-dir", dir); code != exitOK || out != "forgot 198.51.100.1\n" {
		t.Fatalf("forget: exit %d %q", code, out)
	}
	if code, _, stderr := runArgs("peers", "forget", "198.51.100.1", "--state-dir", dir); code != exitError || !strings.Contains(stderr, "no such peer") {
		t.Fatalf("forget twice: exit %d %q", code, stderr)
	}
	// A hand-edited bad line: reported with its number, the rest listed.
	f, _ := os.OpenFile(knownpeers.Path(dir), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("192.0.2.99 not-a-key\n")
	f.Close()
	code, out, stderr = runArgs("peers", "list", "--state-dir", dir)
	if code != exitOK || !strings.Contains(stderr, "known_peers:") || !strings.Contains(out, "pbx@203.0.113.5") {
		t.Fatalf("bad line: exit %d\n%s\n%s", code, out, stderr)
	}
	if m := regexp.MustCompile(`known_peers:(\d+):`).FindStringSubmatch(stderr); m == nil {
		t.Fatalf("no line number in %q", stderr)
	}
	for _, args := range [][]string{{"peers"}, {"peers", "list", "x"}, {"peers", "verify"}, {"peers", "drop", "192.0.2.1"},
		{"peers", "forget", "not-an-address"}, {"peers", "list", "--identity", testFP}} {
		if code, _, _ := runArgs(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// fakePeersDaemon answers the peers requests as a running daemon would.
type fakePeersDaemon struct {
	fakeDaemon
	calls []string
}

func (f *fakePeersDaemon) ListPeers() control.Peers {
	return control.Peers{File: "/daemon/known_peers", Peers: []control.PeerRecord{{Peer: "192.0.2.7", Identity: testFP}}}
}

func (f *fakePeersDaemon) VerifyPeer(peer, identity string) (control.Peers, error) {
	f.calls = append(f.calls, "verify "+peer+" "+identity)
	return control.Peers{Peers: []control.PeerRecord{{Peer: peer, Identity: testFP, Verified: true}}}, nil
}

func (f *fakePeersDaemon) ForgetPeer(peer string) (control.Peers, error) {
	f.calls = append(f.calls, "forget "+peer)
	return control.Peers{Peers: []control.PeerRecord{{Peer: peer}}}, nil
}

// TestPeersThroughDaemon: while a daemon holds the store's lock, the
// commands go through its control socket and leave the file alone.
func TestPeersThroughDaemon(t *testing.T) {
	dir := t.TempDir()
	held, _, err := knownpeers.Open(knownpeers.Path(dir), knownpeers.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	fd := &fakePeersDaemon{}
	sock := startControl(t, fd)
	code, out, stderr := runArgs("peers", "list", "--state-dir", dir, "--control", sock)
	if code != exitOK || !strings.Contains(out, "192.0.2.7") {
		t.Fatalf("list: exit %d %q %q", code, out, stderr)
	}
	if code, _, _ := runArgs("peers", "verify", "192.0.2.7", "--identity", testFP, "--state-dir", dir, "--control", sock); code != exitOK {
		t.Fatal("verify through the daemon failed")
	}
	if code, _, _ := runArgs("peers", "forget", "x@192.0.2.7", "--state-dir", dir, "--control", sock); code != exitOK {
		t.Fatal("forget through the daemon failed")
	}
	if strings.Join(fd.calls, ";") != "verify 192.0.2.7 "+testFP+";forget x@192.0.2.7" {
		t.Fatalf("daemon saw %q", fd.calls)
	}
	if _, err := os.Stat(knownpeers.Path(dir)); !os.IsNotExist(err) {
		t.Fatal("the command wrote the file the daemon holds")
	}
	// The daemon holds the store but its socket is elsewhere: say so.
	code, _, stderr = runArgs("peers", "list", "--state-dir", dir, "--control", filepath.Join(dir, "none.sock"))
	if code != exitError || !strings.Contains(stderr, "held by a running daemon") || !strings.Contains(stderr, "--control") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}
