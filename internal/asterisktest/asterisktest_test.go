package asterisktest

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

func TestConfigFiles(t *testing.T) {
	in := Install{Prefix: "/opt/ast"}
	cfg := Config{
		Name:     "pbxA",
		BindPort: 4571,
		IAX:      []Section{{Name: "pbxB", Lines: []string{"type=friend", "host=10.77.0.2", "trunk=yes"}}},
		Dialplan: []Section{{Name: "frommodem", Lines: []string{"exten => 100,1,Dial(IAX2/pbxB/100)"}}},
	}
	files := cfg.files(in, "/tmp/ast-1")
	for name, wants := range map[string][]string{
		"asterisk.conf":   {"astetcdir => /tmp/ast-1/etc\n", "astmoddir => /opt/ast/lib/asterisk/modules\n", "astrundir => /tmp/ast-1/run\n", "astlogdir => /tmp/ast-1/log\n"},
		"modules.conf":    {"autoload = no\n", "require => chan_iax2.so\n", "require => res_timing_timerfd.so\n", "require => bridge_simple.so\n"},
		"iax.conf":        {"[general]\nbindport=4571\nbindaddr=0.0.0.0\ndisallow=all\nallow=ulaw\njitterbuffer=no\ntrunkfreq=20\n", "\n[pbxB]\ntype=friend\nhost=10.77.0.2\ntrunk=yes\n"},
		"extensions.conf": {"[frommodem]\nexten => 100,1,Dial(IAX2/pbxB/100)\n"},
		"logger.conf":     {"full => notice,warning,error,verbose\n"},
	} {
		text, ok := files[name]
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, text)
			}
		}
	}
	// Nothing may point at the machine's own Asterisk folders.
	for name, text := range files {
		for _, sys := range []string{"/etc/asterisk", "/var/lib/asterisk", "/var/run/asterisk", "/var/log/asterisk", "/var/spool/asterisk"} {
			if strings.Contains(text, sys) {
				t.Errorf("%s mentions %s:\n%s", name, sys, text)
			}
		}
	}

	custom := Config{IAXGeneral: []string{"allow=alaw"}}.files(in, "/d")["iax.conf"]
	if !strings.Contains(custom, "bindport=4569\nbindaddr=0.0.0.0\nallow=alaw\n") || strings.Contains(custom, "trunkfreq") {
		t.Errorf("IAXGeneral does not replace the defaults:\n%s", custom)
	}
}

func TestParseChannels(t *testing.T) {
	// As chan_iax2 22 prints it (FORMAT2 header, FORMAT lines).
	out := `Channel               Peer                                      Username    ID (Lo/Rem)  Seq (Tx/Rx)  Lag      Jitter  JitBuf  Format  FirstMsg    LastMsg
IAX2/pbxB-16385       10.77.0.2                                 pbxA        16385/15338  00004/00005  00000ms  -0001ms  0000ms  ulaw    Tx:NEW      Rx:ACK     
(None)                127.0.0.1                                 (None)      00003/00002  00001/00001  00000ms  -0001ms  0000ms  unknow  Rx:NEW      Tx:ACCEPT  
2 active IAX channels
`
	got := parseChannels(out)
	want := []Channel{
		{Name: "IAX2/pbxB-16385", Peer: "10.77.0.2", Username: "pbxA", LocalCall: 16385, RemoteCall: 15338},
		{Name: "(None)", Peer: "127.0.0.1", Username: "(None)", LocalCall: 3, RemoteCall: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("parseChannels = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("channel %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := parseChannels("0 active IAX channels\n"); len(got) != 0 {
		t.Errorf("no channels: got %+v", got)
	}
}

func TestParsePeerAddr(t *testing.T) {
	for _, tt := range []struct {
		out  string
		want netip.AddrPort
		err  bool
	}{
		{"  Addr->IP     : 127.0.0.1 Port 4580\n", netip.MustParseAddrPort("127.0.0.1:4580"), false},
		{"  Addr->IP     : (null) Port 0\n", netip.AddrPort{}, false},
		{"  Addr->IP     : 0.0.0.0 Port 0\n", netip.AddrPort{}, false},
		{"Peer modemx not found.\n", netip.AddrPort{}, true},
	} {
		got, err := parsePeerAddr(tt.out)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parsePeerAddr(%q) = %v, %v; want %v, error %v", tt.out, got, err, tt.want, tt.err)
		}
	}
}

func TestFindWithoutTarball(t *testing.T) {
	t.Setenv(EnvTarball, filepath.Join(t.TempDir(), "absent.tar.gz"))
	_, err := find()
	if !errors.Is(err, ErrNoTarball) || !strings.Contains(err.Error(), EnvTarball) {
		t.Fatalf("find() = %v, want ErrNoTarball naming %s", err, EnvTarball)
	}
}

func TestFindNotBuiltThenBuilt(t *testing.T) {
	dir := t.TempDir()
	tarball := filepath.Join(dir, "a.tar.gz")
	if err := os.WriteFile(tarball, []byte("not really a tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTarball, tarball)
	t.Setenv(EnvCache, filepath.Join(dir, "cache"))
	if _, err := find(); !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "asterisk-build.sh") {
		t.Fatalf("find() = %v, want ErrNotBuilt naming the build script", err)
	}
	// The folder is keyed by the sha256 of the tarball's bytes, as
	// `sha256sum` prints it (and scripts/asterisk-build.sh names it).
	prefix := filepath.Join(dir, "cache", "asterisk-b3b786ecd6e4f6ab3398d0b1bfd62dbc47534c8723cd3802f642f7203a3b55d7")
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := find(); !errors.Is(err, ErrNotBuilt) {
		t.Fatalf("find() without .complete = %v, want ErrNotBuilt", err)
	}
	if err := os.WriteFile(filepath.Join(prefix, ".complete"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := find()
	if err != nil || in.Prefix != prefix || in.Binary() != filepath.Join(prefix, "sbin", "asterisk") {
		t.Fatalf("find() = %+v, %v; want prefix %s", in, err, prefix)
	}
}

// TestTwoPBXsSideBySide boots two real Asterisk instances, one per
// namespace, peers of each other with qualify: each must see the other
// reachable (POKE/PONG over the veth), its CLI must answer, and Stop must
// end it.
func TestTwoPBXsSideBySide(t *testing.T) {
	if testing.Short() {
		t.Skip("Asterisk test skipped with -short")
	}
	netns.RequireRoot(t)
	in := Require(t)
	a, b := netns.NewPair(t, "asttest")
	peer := func(name string, h *netns.Host) Section {
		return Section{Name: name, Lines: []string{"type=peer", "host=" + h.IP().String(), "qualify=yes", "qualifyfreqok=1000", "qualifyfreqnotok=500"}}
	}
	pa := Start(t, a, in, Config{Name: "A", IAX: []Section{peer("B", b)}})
	pb := Start(t, b, in, Config{Name: "B", IAX: []Section{peer("A", a)}})
	for _, x := range []struct {
		pbx  *PBX
		peer string
	}{{pa, "B"}, {pb, "A"}} {
		netns.WaitFor(t, 20*time.Second, func() (bool, string) {
			out, err := x.pbx.CLI("iax2 show peers")
			if err != nil {
				return false, err.Error()
			}
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) > 0 && f[0] == x.peer && strings.Contains(line, "OK (") {
					return true, ""
				}
			}
			return false, x.pbx.Config.Name + " does not see its peer reachable:\n" + out
		})
	}
	if out := pa.MustCLI(t, "module show like chan_iax2"); !strings.Contains(out, "chan_iax2.so") {
		t.Errorf("chan_iax2 not listed as loaded:\n%s", out)
	}
	if err := pa.Stop(); err != nil {
		t.Fatal(err)
	}
	if !pa.Proc.Exited() {
		t.Fatal("asterisk A still running after Stop")
	}
	if ok, _ := a.UDPBound(DefaultBindPort); ok {
		t.Error("port 4569 still bound in A after Stop")
	}
}
