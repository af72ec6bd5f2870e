package doctor

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

// The known-peers and config files are read with the daemon's own
// parsers: each broken file is a failure that says what to fix, a missing
// one is skipped, and nothing is written.
func TestKnownFilesCheck(t *testing.T) {
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fp := id.Public().Fingerprint()
	tests := []struct {
		name       string
		peers      string // "" for no file
		peersMode  os.FileMode
		config     string // "" for no --config
		daemonUp   bool
		wantPeers  string // status, then a part of the detail or fix
		wantConfig string
	}{
		{name: "nothing yet", daemonUp: true, wantPeers: "skip does not exist", wantConfig: "skip without --config"},
		{name: "daemon down", wantPeers: "skip does not exist", wantConfig: "skip does not answer"},
		{name: "sound", peers: "192.0.2.1 " + fp + "\npbx@192.0.2.2 " + fp + " last-call=encrypted\n", peersMode: 0o600,
			config: "policy = \"require\"\n", daemonUp: true, wantPeers: "pass 2 peer(s)", wantConfig: "pass parses"},
		{name: "peers readable by others", peers: "192.0.2.1 " + fp + "\n", peersMode: 0o644, daemonUp: true,
			wantPeers: "fail chmod 600", wantConfig: "skip"},
		{name: "a line that does not parse", peers: "192.0.2.1 " + fp + "\n192.0.2.2 AAAA\n", peersMode: 0o600, daemonUp: true,
			wantPeers: "fail :2:", wantConfig: "skip"},
		{name: "config that does not parse", config: "policy = \n", daemonUp: true, wantPeers: "skip", wantConfig: "fail config check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := knownpeers.Path(dir)
			if tt.peers != "" {
				if err := os.WriteFile(path, []byte(tt.peers), tt.peersMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.peersMode); err != nil {
					t.Fatal(err)
				}
			}
			cfg := ""
			if tt.config != "" {
				cfg = filepath.Join(dir, "iaxcrypt.toml")
				if err := os.WriteFile(cfg, []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			checks := knownFilesCheck(dir, cfg, tt.daemonUp)
			if len(checks) != 2 {
				t.Fatalf("%d checks, want 2: %+v", len(checks), checks)
			}
			for i, want := range []string{tt.wantPeers, tt.wantConfig} {
				c := checks[i]
				status, part, _ := strings.Cut(want, " ")
				if c.Status != status || !strings.Contains(c.Detail+" "+c.Fix, part) {
					t.Errorf("%s: %s %q (fix %q), want %s with %q", c.Name, c.Status, c.Detail, c.Fix, status, part)
				}
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Errorf("the known-peers file changed:\n%s\nwas\n%s", after, before)
			}
			if _, err := os.Stat(path + ".lock"); err == nil {
				t.Error("doctor left a lock file")
			}
		})
	}
}
