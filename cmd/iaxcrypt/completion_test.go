package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestCompletion: the script names every command of the table, and each of
// them is one run knows (not "unknown command").
func TestCompletion(t *testing.T) {
	names := commandNames()
	if len(names) < 10 || names[0] != "up" {
		t.Fatalf("commands from the table: %v", names)
	}
	for _, sh := range []string{"bash", "zsh"} {
		code, out, stderr := runArgs("completion", sh)
		if code != exitOK || !strings.Contains(out, "complete -F _iaxcrypt iaxcrypt") {
			t.Fatalf("%s: exit %d, %s", sh, code, stderr)
		}
		if !strings.Contains(out, `"`+strings.Join(names, " ")+`"`) {
			t.Errorf("%s script lacks the command list %q", sh, names)
		}
	}
	for _, n := range names {
		if _, _, stderr := runArgs(n, "--no-such-flag"); strings.Contains(stderr, "unknown command") {
			t.Errorf("the table lists %q but run does not know it", n)
		}
	}
	if code, _, _ := runArgs("completion", "fish"); code != exitUsage {
		t.Errorf("completion fish: exit %d, want usage error", code)
	}
}

// completer runs the generated script in a real shell (bash, or zsh
// through bashcompinit), in a directory holding a.toml, b.pcap and the
// directory sub.
type completer struct {
	shell, script, dir, home string
}

func newCompleter(t *testing.T, shell string) *completer {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		t.Skipf("skipping: no %s", shell)
	}
	code, script, stderr := runArgs("completion", shell)
	if code != exitOK {
		t.Fatalf("completion %s: exit %d, %s", shell, code, stderr)
	}
	dir := t.TempDir()
	c := &completer{shell: shell, script: filepath.Join(dir, "iaxcrypt."+shell), dir: filepath.Join(dir, "work"), home: dir}
	if err := os.MkdirAll(filepath.Join(c.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{c.script, filepath.Join(c.dir, "a.toml"), filepath.Join(c.dir, "b.pcap")} {
		if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// complete sets COMP_WORDS to words (the last one is being completed),
// calls _iaxcrypt and returns COMPREPLY, sorted. zsh runs it as its
// bashcompinit does (sh emulation, so arrays count from 0); its compgen
// leaves matching the word to zsh, which this does for it.
func (c *completer) complete(t *testing.T, words ...string) []string {
	t.Helper()
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	call := "COMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) +
		"\n_iaxcrypt\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", "source "+c.script+"\n"+call)
	if c.shell == "zsh" {
		cmd = exec.Command("zsh", "-f", "-c", "source "+c.script+"\n_t() {\nemulate -L sh\nsetopt kshglob noshglob braceexpand nokshautoload\n"+call+"}\n_t\n")
	}
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "HOME="+c.home)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%s completing %q: %v\n%s", c.shell, words, err, stderr.String())
	}
	cur := words[len(words)-1]
	if cur == "=" {
		cur = ""
	}
	var got []string
	for _, l := range strings.Split(out.String(), "\n") {
		if l != "" && (c.shell == "bash" || strings.HasPrefix(l, cur)) {
			got = append(got, l)
		}
	}
	slices.Sort(got)
	return got
}

// TestShellCompletion: commands, subcommands, flags, flag values and
// files, completed by bash itself and by zsh.
func TestShellCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) { testShellCompletion(t, newCompleter(t, shell)) })
	}
}

func testShellCompletion(t *testing.T, b *completer) {
	files := []string{"a.toml", "b.pcap", "sub"}
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"iaxcrypt", ""}, commandNames()},
		{[]string{"iaxcrypt", "st"}, []string{"status"}},
		{[]string{"iaxcrypt", "un"}, []string{"uninstall"}},
		{[]string{"iaxcrypt", "man"}, nil}, // hidden
		{[]string{"iaxcrypt", "frobnicate", ""}, nil},
		{[]string{"iaxcrypt", "route", ""}, []string{"add", "del"}},
		{[]string{"iaxcrypt", "route", "d"}, []string{"del"}},
		{[]string{"iaxcrypt", "route", "add", ""}, nil}, // PEER: anything
		{[]string{"iaxcrypt", "route", "--control", "/x.sock", "a"}, []string{"add"}},
		{[]string{"iaxcrypt", "route", "--control", "=", "/x.sock", "a"}, []string{"add"}},
		{[]string{"iaxcrypt", "peers", ""}, []string{"forget", "list", "verify"}},
		{[]string{"iaxcrypt", "peers", "--json", "l"}, []string{"list"}},
		{[]string{"iaxcrypt", "config", ""}, []string{"check"}},
		{[]string{"iaxcrypt", "config", "check", ""}, files},
		{[]string{"iaxcrypt", "completion", ""}, []string{"bash", "zsh"}},
		{[]string{"iaxcrypt", "completion", "bash", ""}, nil},
		{[]string{"iaxcrypt", "audit", ""}, files},
		{[]string{"iaxcrypt", "audit", "--port", "5000", "b"}, []string{"b.pcap"}},
		{[]string{"iaxcrypt", "help", "ro"}, []string{"route"}},
		{[]string{"iaxcrypt", "up", "--pol"}, []string{"--policy"}},
		{[]string{"iaxcrypt", "up", "--log-"}, []string{"--log-format", "--log-level"}},
		{[]string{"iaxcrypt", "status", "--"}, []string{"--control", "--help", "--interval", "--json", "--watch"}},
		{[]string{"iaxcrypt", "up", "--policy", ""}, []string{"off", "opportunistic", "require"}},
		{[]string{"iaxcrypt", "up", "--policy", "r"}, []string{"require"}},
		{[]string{"iaxcrypt", "up", "--policy", "="}, []string{"off", "opportunistic", "require"}},
		{[]string{"iaxcrypt", "up", "--policy", "=", "o"}, []string{"off", "opportunistic"}},
		{[]string{"iaxcrypt", "up", "--log-format", ""}, []string{"json", "text"}},
		{[]string{"iaxcrypt", "up", "--log-level", "w"}, []string{"warn"}},
		{[]string{"iaxcrypt", "up", "--config", ""}, files},
		{[]string{"iaxcrypt", "up", "--config", "a"}, []string{"a.toml"}},
		{[]string{"iaxcrypt", "up", "--state-dir", ""}, []string{"sub"}},
		{[]string{"iaxcrypt", "up", "--tun", ""}, nil},
		{[]string{"iaxcrypt", "up", "--json", ""}, nil},
		{[]string{"iaxcrypt", "status", "--control", ""}, files},
	}
	for _, tc := range tests {
		got := b.complete(t, tc.words...)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("completing %q: got %q, want %q", tc.words, got, want)
		}
	}
}

// TestBashCompletionFromTable: every flag of every command completes, and
// each flag with a fixed set of values offers exactly that set, every
// value of which "up" accepts.
func TestBashCompletionFromTable(t *testing.T) {
	b := newCompleter(t, "bash")
	for _, c := range visible() {
		c.flags().VisitAll(func(f *pflag.Flag) {
			if got := b.complete(t, "iaxcrypt", c.name, "--"+f.Name); !slices.Contains(got, "--"+f.Name) {
				t.Errorf("%s --%s: completion offers %q", c.name, f.Name, got)
			}
			words, kind := valuesOf(f)
			if kind != "words" {
				return
			}
			want := slices.Clone(words)
			slices.Sort(want)
			if got := b.complete(t, "iaxcrypt", c.name, "--"+f.Name, ""); !slices.Equal(got, want) {
				t.Errorf("%s --%s values: got %q, want %q", c.name, f.Name, got, want)
			}
			if c != upCommand {
				return
			}
			for _, w := range words {
				if _, err := parseUp([]string{"--" + f.Name, w}, &bytes.Buffer{}); err != nil {
					t.Errorf("completion offers up --%s %s, which up refuses: %v", f.Name, w, err)
				}
			}
		})
	}
}
