package main

import (
	"strings"
	"testing"
)

// TestCompletion: the script names every command of usage, and each of
// them is one run knows (not "unknown command").
func TestCompletion(t *testing.T) {
	names := commandNames()
	if len(names) < 10 || names[0] != "up" {
		t.Fatalf("commands from usage: %v", names)
	}
	for _, sh := range []string{"bash", "zsh"} {
		code, out, stderr := runArgs("completion", sh)
		if code != exitOK || !strings.Contains(out, "complete -F _iaxcrypt iaxcrypt") {
			t.Fatalf("%s: exit %d, %s", sh, code, stderr)
		}
		for _, n := range names {
			if !strings.Contains(out, " "+n+" ") && !strings.Contains(out, "\""+n+" ") {
				t.Errorf("%s script lacks command %q", sh, n)
			}
		}
	}
	for _, n := range names {
		if _, _, stderr := runArgs(n, "--no-such-flag"); strings.Contains(stderr, "unknown command") {
			t.Errorf("usage lists %q but run does not know it", n)
		}
	}
	if code, _, _ := runArgs("completion", "fish"); code != exitUsage {
		t.Errorf("completion fish: exit %d, want usage error", code)
	}
}
