package main

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

const manPagePath = "../../docs/iaxcrypt.8"

// TestManPageUpToDate: docs/iaxcrypt.8 is what the command table
// generates; run "make man" after changing a command.
func TestManPageUpToDate(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the man page holds the Linux defaults (paths, TUN name)")
	}
	code, want, stderr := runArgs("manpage")
	if code != exitOK {
		t.Fatalf("manpage: exit %d, %s", code, stderr)
	}
	got, err := os.ReadFile(manPagePath)
	if err != nil {
		t.Fatalf("%v (generate it with make man)", err)
	}
	if string(got) != want {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("docs/iaxcrypt.8 differs from the command table at line %d:\nfile:  %s\ntable: %s\nrun make man", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("docs/iaxcrypt.8 has %d lines, the command table gives %d: run make man", len(gl), len(wl))
	}
}

// TestManPageContents: every visible command, each of its flags with its
// default, and the sections a man page needs; no hidden command.
func TestManPageContents(t *testing.T) {
	_, page, _ := runArgs("manpage")
	for _, sec := range []string{".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS", ".SH FILES", ".SH EXIT STATUS", ".SH SEE ALSO"} {
		if !strings.Contains(page, "\n"+sec+"\n") {
			t.Errorf("no %s", sec)
		}
	}
	for _, c := range commands {
		if has := strings.Contains(page, "\n.SS "+manEscape(c.name)+"\n"); has == c.hidden {
			t.Errorf("command %s (hidden %v): section present %v", c.name, c.hidden, has)
		}
	}
	for _, want := range []string{`\fB\-\-policy\fR \fIstring\fR`, `opportunistic, require or off (default: opportunistic)`,
		`\fB\-\-interval\fR \fIduration\fR`, `(default: 1s)`, `\fB\-\-json\fR` + "\n", `/var/lib/iaxcrypt/known_peers`,
		"\n.B 3\n", `\fB\-\-log\-format\fR`} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
}

// TestManPageRenders: groff formats the page without a single warning.
func TestManPageRenders(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("skipping: no groff (Debian package groff-base)")
	}
	_, page, _ := runArgs("manpage")
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("groff -man -Tutf8 -ww -z: %v\n%s", err, stderr.String())
	}
	// The check can fail: a page with a mistake draws a warning.
	bad := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	bad.Stdin = strings.NewReader(page + ".XY\n\\fQ\n")
	if out, _ := bad.CombinedOutput(); len(out) == 0 {
		t.Fatal("groff -ww warned about nothing on a page with an unknown macro and font")
	}
}

func TestManEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"--flag", `\-\-flag`},
		{`a\b`, `a\eb`},
		{".hidden start", `\&.hidden start`},
		{"'quote", `\&'quote`},
		{"plain", "plain"},
	} {
		if got := manEscape(tc.in); got != tc.want {
			t.Errorf("manEscape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
