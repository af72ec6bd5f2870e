package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestCommandTable: each command is complete, reachable by run, and its
// --help shows its synopsis, description and every flag.
func TestCommandTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commands {
		if c.name == "" || c.summary == "" || c.description == "" || c.setup == nil {
			t.Errorf("command %+v lacks a name, summary, description or setup", c)
			continue
		}
		if seen[c.name] {
			t.Errorf("command %s twice", c.name)
		}
		seen[c.name] = true
		if lookup(c.name) != c {
			t.Errorf("lookup(%q) does not find it", c.name)
		}
		code, stdout, stderr := runArgs(c.name, "--help")
		if code != exitOK || stdout != "" {
			t.Errorf("%s --help: exit %d, stdout %q", c.name, code, stdout)
		}
		fs := c.flags()
		if !strings.HasPrefix(stderr, "usage: "+commandLine(c, fs)+"\n") {
			t.Errorf("%s --help does not start with its synopsis:\n%s", c.name, stderr)
		}
		if first := paragraphs(c.description)[0]; !strings.Contains(strings.Join(strings.Fields(stderr), " "), first) {
			t.Errorf("%s --help lacks its description %q", c.name, first)
		}
		for _, name := range flagNames(fs) {
			if !strings.Contains(stderr, "--"+name) {
				t.Errorf("%s --help lacks --%s", c.name, name)
			}
		}
		// help COMMAND prints the same on stdout.
		if code, out, _ := runArgs("help", c.name); code != exitOK || out != stderr {
			t.Errorf("help %s: exit %d, output differs from --help:\n%s", c.name, code, out)
		}
	}
	if code, _, stderr := runArgs("help", "frobnicate"); code != exitUsage || !strings.Contains(stderr, "unknown command") {
		t.Errorf("help frobnicate: exit %d, %q", code, stderr)
	}
}

// TestUsageListsVisibleCommands: usage names each visible command with
// its summary, and no hidden one.
func TestUsageListsVisibleCommands(t *testing.T) {
	code, out, _ := runArgs("help")
	if code != exitOK {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands {
		listed := false
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == c.name {
				listed = strings.HasSuffix(line, c.summary)
			}
		}
		if listed == c.hidden {
			t.Errorf("%s (hidden %v): listed with its summary %v in\n%s", c.name, c.hidden, listed, out)
		}
	}
	for _, alias := range [][]string{{"--help"}, {"-h"}} {
		if code, got, _ := runArgs(alias...); code != exitOK || got != out {
			t.Errorf("%q: exit %d, not the usage of help", alias, code)
		}
	}
	if code, got, _ := runArgs("--version"); code != exitOK || got != "iaxcrypt dev\n" {
		t.Errorf("--version: exit %d, %q", code, got)
	}
}

func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}
