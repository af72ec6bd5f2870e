package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/engine"
)

const fp = "9LFNXqBGMpSH6SVZvOx4RoHSRbk0UwUz1uYjBw3mDWA="

func TestParseGood(t *testing.T) {
	text := `# iaxcrypt
policy = "opportunistic"
app-port = 4571
listen = ":4569"
notify = true

[[peer]]
match = "192.0.2.7"
identity = "` + fp + `"
route = true

[[peer]]
  match = "user:pbxA"   # the PBX's user
  policy = "require"

[[peer]]
match = "10.0.0.0/8"
policy = "off"

[[peer]]
match = "2001:db8::/32"
`
	f, err := Parse("iaxcrypt.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range f.Settings {
		keys = append(keys, s.Key+"="+s.String())
	}
	if got := strings.Join(keys, " "); got != "policy=opportunistic app-port=4571 listen=:4569 notify=true" {
		t.Fatalf("settings %s", got)
	}
	if f.Settings[1].Line != 3 || f.Settings[1].Value != int64(4571) {
		t.Fatalf("app-port setting %+v", f.Settings[1])
	}
	if len(f.Peers) != 4 {
		t.Fatalf("%d peers", len(f.Peers))
	}
	for i, want := range []int{7, 12, 16, 20} {
		if f.Peers[i].Line != want {
			t.Errorf("peer %d on line %d, want %d", i, f.Peers[i].Line, want)
		}
	}
	pin := f.Peers[0]
	if pin.Identity == nil || pin.Identity.Fingerprint() != fp || !pin.Route || pin.HasPolicy ||
		pin.EffectivePolicy(engine.PolicyOpportunistic) != engine.PolicyRequire {
		t.Fatalf("pinned peer %+v: a pin without a policy means require", pin)
	}
	if got := f.Peers.Routes(); len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.7") {
		t.Fatalf("routes %v", got)
	}
	for _, tc := range []struct {
		addr, user string
		want       int // index of the section, -1 for none
	}{
		{"192.0.2.7", "pbxA", 0},
		{"192.0.2.8", "pbxA", 1},
		{"10.1.2.3", "", 2},
		{"::ffff:10.1.2.3", "", 2},
		{"2001:db8::5", "x", 3},
		{"198.51.100.1", "pbxB", -1},
	} {
		p := f.Peers.Lookup(netip.MustParseAddr(tc.addr), tc.user)
		if (p == nil && tc.want >= 0) || (p != nil && p.Index != tc.want) {
			t.Errorf("%s %s: section %+v, want %d", tc.addr, tc.user, p, tc.want)
		}
	}
	if got := f.Peers[3].EffectivePolicy(engine.PolicyRequire); got != engine.PolicyRequire {
		t.Errorf("a section without policy or pin takes the daemon's: %v", got)
	}
}

// TestParseErrors: a file with one mistake per line; every one is reported,
// each with its line.
func TestParseErrors(t *testing.T) {
	text := `policy = "require"
[daemon]
x = 1
[[peer]]
match = "not an address"
policy = "sometimes"
identity = "short"
colour = "blue"
route = "yes"
[[peer]]
policy = "require"
[[peer]]
match = "10.0.0.0/8"
route = true
[[peer]]
match = 7
[[peer]]
match = "10.1.0.0/16"
[[peer]]
match = "192.0.2.1"
policy = "off"
identity = "` + fp + `"
[[peer]]
match = "user:"
[[peer]]
match = "10.0.0.1/8"
[[peer]]
match = "user:pbx"
route = true
[[peers]]
match = "192.0.2.9"
`
	want := []struct {
		line int
		key  string
		msg  string
	}{
		{2, "daemon", "unknown table [daemon]"},
		{5, "peer[0].match", "not an address, a range"},
		{6, "peer[0].policy", "use opportunistic, require or off"},
		{7, "peer[0].identity", "not an identity fingerprint"},
		{8, "peer[0].colour", `unknown key "colour"`},
		{9, "peer[0].route", "want true or false, got a string"},
		{10, "peer[1]", "without match"},
		{14, "peer[2].route", "single address, not the range 10.0.0.0/8"},
		{16, "peer[3].match", "want a string, got an integer"},
		{18, "peer[4].match", "never applies: the section of line 12"},
		{22, "peer[5].identity", "policy is off"},
		{24, "peer[6].match", "empty user"},
		{26, "peer[7].match", "did you mean 10.0.0.0/8"},
		{29, "peer[8].route", "address match, not a user"},
		{30, "peers", "unknown section [[peers]]"},
	}
	_, err := Parse("bad.toml", []byte(text))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want Errors", err)
	}
	if len(errs) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		e := errs[i]
		if e.Line != w.line || e.Key != w.key || !strings.Contains(e.Msg, w.msg) || e.File != "bad.toml" {
			t.Errorf("error %d: %v; want line %d, key %s, %q", i, e, w.line, w.key, w.msg)
		}
		if !strings.HasPrefix(e.Error(), "bad.toml:") {
			t.Errorf("error %q does not start with the file and line", e)
		}
	}
}

func TestParseSyntaxError(t *testing.T) {
	for _, tc := range []struct {
		text string
		line int
	}{
		{"policy = \"require\"\nlisten = :4569\n", 2},
		{"a = 1\n\n\n[[peer]\nmatch = \"x\"\n", 4},
		{"policy = \"a\"\npolicy = \"b\"\n", 2},
		{"x = \"\"\"\nmulti\n\"\"\"\ny = [1,\n2,\n", 5},
	} {
		_, err := Parse("s.toml", []byte(tc.text))
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != tc.line {
			t.Errorf("%q: %v, want one error on line %d", tc.text, err, tc.line)
		}
	}
}

func TestKeyLines(t *testing.T) {
	text := `a = 1 # comment with "quote
"b.c" = 'x' # not dotted
d.e = """
[not a table]
x = 2
"""
f = [
  1, "]", '[',
  { g = 3 },
]
h = '''
''' # closed
[t]
'i' = { j = 1, k = [2] }
[[p]]
m = "x#y"
[[p]]
[[p]]
m = 1
`
	want := map[string]int{"a": 1, "b.c": 2, "d.e": 3, "f": 7, "h": 11, "t": 13, "t.i": 14,
		"p": 15, "p[0]": 15, "p[0].m": 16, "p[1]": 17, "p[2]": 18, "p[2].m": 19}
	got := keyLines(text)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s on line %d, want %d", k, got[k], n)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %s (line %d)", k, got[k])
		}
	}
}

func TestLoadRefusesWritableByOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iaxcrypt.toml")
	os.WriteFile(path, []byte("policy = \"require\"\n"), 0o600)
	os.Chmod(path, 0o666)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("world-writable file: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("policy = \"require\"\n[[peer]]\nmatch = \"10.0.0.0/8\"\npolicy = \"off\"\n")
	f.Add("[[peer]]\nmatch = 'user:x'\nidentity = \"" + fp + "\"\nroute = true\n")
	f.Add("x = [\n'a', \"\"\"\nb\n\"\"\"]\n[[peer]]\n")
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Parse("f.toml", []byte(text))
		var errs Errors
		if err != nil && !errors.As(err, &errs) {
			t.Fatalf("error of another type: %v", err)
		}
		for _, e := range errs {
			if e.Line < 0 || e.Line > strings.Count(text, "\n")+1 {
				t.Fatalf("error on line %d of a %d-line file: %v", e.Line, strings.Count(text, "\n")+1, e)
			}
		}
		if file != nil {
			file.Peers.Lookup(netip.MustParseAddr("10.0.0.1"), "x")
		}
	})
}
