package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/keystore"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestParseUp(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    func(upOptions) bool
		wantErr string
	}{
		{"defaults", nil, func(o upOptions) bool {
			return o.tun == defaultTUN() && o.appPort == 4569 && o.listen == ":4570" && o.policy == engine.PolicyOpportunistic &&
				o.stateDir == "/var/lib/iaxcrypt" && o.control == control.DefaultPath && o.logLevel == slog.LevelInfo && len(o.peers) == 0
		}, ""},
		{"all flags", []string{"--tun", "iax7", "--app-port", "5000", "--listen", "0.0.0.0:5001", "--peer", "192.0.2.1",
			"--peer", "2001:db8::1", "--policy", "require", "--state-dir", "/s", "--control", "/c.sock", "--log-level", "debug"},
			func(o upOptions) bool {
				return o.tun == "iax7" && o.appPort == 5000 && o.listen == "0.0.0.0:5001" && o.policy == engine.PolicyRequire &&
					o.stateDir == "/s" && o.control == "/c.sock" && o.logLevel == slog.LevelDebug &&
					len(o.peers) == 2 && o.peers[0] == netip.MustParseAddr("192.0.2.1") && o.peers[1] == netip.MustParseAddr("2001:db8::1")
			}, ""},
		{"mapped peer unmapped", []string{"--peer", "::ffff:192.0.2.1"}, func(o upOptions) bool {
			return o.peers[0] == netip.MustParseAddr("192.0.2.1")
		}, ""},
		{"policy off", []string{"--policy=off"}, func(o upOptions) bool { return o.policy == engine.PolicyOff }, ""},
		{"listen equals app port", []string{"--listen", ":4569"}, nil, "is the application's port"},
		{"listen equals other app port", []string{"--app-port", "5000", "--listen", "[::]:5000"}, nil, "is the application's port"},
		{"listen no port", []string{"--listen", "0.0.0.0"}, nil, "--listen"},
		{"listen port zero", []string{"--listen", ":0"}, nil, "from 1 to 65535"},
		{"listen bad host", []string{"--listen", "example.com:4570"}, nil, "not an IP address"},
		{"app port zero", []string{"--app-port", "0"}, nil, "--app-port 0"},
		{"app port too big", []string{"--app-port", "70000"}, nil, "app-port"},
		{"bad peer", []string{"--peer", "peer.example"}, nil, "not an IP address"},
		{"bad policy", []string{"--policy", "maybe"}, nil, "opportunistic, require or off"},
		{"bad log level", []string{"--log-level", "chatty"}, nil, "--log-level"},
		{"empty tun", []string{"--tun", ""}, nil, "--tun is empty"},
		{"positional", []string{"192.0.2.1"}, nil, "unexpected argument"},
		{"unknown flag", []string{"--frobnicate"}, nil, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseUp(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				var ue *usageError
				if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := [][]string{
		{},
		{"frobnicate"},
		{"up", "--listen", ":4569"},
		{"status", "extra"},
		{"status", "--bogus"},
		{"route"},
		{"route", "add"},
		{"route", "flip", "192.0.2.1"},
		{"route", "add", "not-an-ip"},
		{"down", "extra"},
		{"identity", "extra"},
	}
	for _, args := range tests {
		code, stdout, stderr := runArgs(args...)
		if code != exitUsage || stderr == "" || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and a message on stderr only", args, code, stdout, stderr)
		}
	}
	if _, _, stderr := runArgs("frobnicate"); !strings.Contains(stderr, "usage: iaxcrypt") {
		t.Errorf("unknown command does not print usage: %q", stderr)
	}
}

func TestHelpExits0(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"status", "--help"}} {
		if code, _, _ := runArgs(args...); code != exitOK {
			t.Errorf("%q: exit %d, want 0", args, code)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runArgs("version")
	if code != exitOK || stdout != "iaxcrypt dev\n" {
		t.Fatalf("exit %d, output %q", code, stdout)
	}
	old := version
	version = "1.2.3"
	defer func() { version = old }()
	if _, stdout, _ := runArgs("version"); stdout != "iaxcrypt 1.2.3\n" {
		t.Fatalf("output %q after setting version", stdout)
	}
}

func TestIdentity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	code, first, stderr := runArgs("identity", "--state-dir", dir)
	if code != exitOK || !strings.Contains(stderr, "created") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	id, err := keystore.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first != id.Public().Fingerprint()+"\n" {
		t.Fatalf("printed %q, key file has %q", first, id.Public().Fingerprint())
	}
	code, second, stderr := runArgs("identity", "--state-dir", dir)
	if code != exitOK || second != first || stderr != "" {
		t.Fatalf("second run: exit %d, %q, stderr %q", code, second, stderr)
	}
	// An unsafe key is refused with the fix in the message.
	os.Chmod(keystore.Path(dir), 0o644)
	code, _, stderr = runArgs("identity", "--state-dir", dir)
	if code != exitError || !strings.Contains(stderr, "chmod 600") {
		t.Fatalf("unsafe key: exit %d, stderr %q", code, stderr)
	}
}

type fakeDaemon struct {
	st     control.Status
	routes []string
}

func (f *fakeDaemon) Status() control.Status { return f.st }
func (f *fakeDaemon) AddRoute(p netip.Addr) error {
	f.routes = append(f.routes, "add "+p.String())
	return nil
}
func (f *fakeDaemon) DelRoute(p netip.Addr) error {
	return errors.New(p.String() + " is not routed through the daemon")
}

func startControl(t *testing.T, h control.Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.sock")
	srv, err := control.Listen(path, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return path
}

func TestStatus(t *testing.T) {
	st := control.Status{Identity: "fp-self", Calls: []control.CallStatus{
		{Peer: "192.0.2.7:4569", LocalCall: 3, RemoteCall: 9, State: "encrypted", Cipher: "ChaCha20-Poly1305",
			SAS: "ybnd", PeerIdentity: "abcdefghijklmnopqrstuvwxyz", TxPackets: 100, RxPackets: 99, Dropped: 2},
		{Peer: "198.51.100.1:4569", LocalCall: 4, State: "cleartext", TxPackets: 5},
	}}
	path := startControl(t, &fakeDaemon{st: st})

	code, out, stderr := runArgs("status", "--control", path)
	if code != exitOK {
		t.Fatalf("exit %d, %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || lines[0] != "identity fp-self" || !strings.HasPrefix(lines[1], "PEER") {
		t.Fatalf("table:\n%s", out)
	}
	for _, want := range []string{"192.0.2.7:4569", "3/9", "encrypted", "ChaCha20-Poly1305", "ybnd", "abcdefghijklmnop…", "100", "99"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("line %q lacks %q", lines[2], want)
		}
	}
	if f := strings.Fields(lines[3]); len(f) != 10 || f[9] != "-" || f[2] != "cleartext" || f[3] != "-" || f[4] != "-" || f[5] != "-" {
		t.Errorf("cleartext line %q", lines[3])
	}

	code, out, _ = runArgs("status", "--json", "--control", path)
	var got control.Status
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || got.Identity != "fp-self" || len(got.Calls) != 2 || !reflect.DeepEqual(got.Calls[0], st.Calls[0]) {
		t.Fatalf("--json: exit %d, %s", code, out)
	}
}

func TestStatusNoDaemon(t *testing.T) {
	code, _, stderr := runArgs("status", "--control", filepath.Join(t.TempDir(), "none.sock"))
	if code != exitError || !strings.Contains(stderr, "iaxcrypt up") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestRoute(t *testing.T) {
	fd := &fakeDaemon{}
	path := startControl(t, fd)
	if code, _, stderr := runArgs("route", "add", "192.0.2.1", "--control", path); code != exitOK {
		t.Fatalf("route add: exit %d, %s", code, stderr)
	}
	if len(fd.routes) != 1 || fd.routes[0] != "add 192.0.2.1" {
		t.Fatalf("daemon saw %v", fd.routes)
	}
	code, _, stderr := runArgs("route", "del", "192.0.2.9", "--control", path)
	if code != exitError || !strings.Contains(stderr, "not routed") {
		t.Fatalf("route del: exit %d, stderr %q", code, stderr)
	}
}
