package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/dist"
	"github.com/iaxcrypt/iaxcrypt/keystore"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

var manpageCommand = &command{
	name:        "manpage",
	summary:     "print the man page (troff), as docs/iaxcrypt.8 holds it",
	description: "Prints the man page generated from the command table: make man writes it to docs/iaxcrypt.8.",
	hidden:      true,
	setup: func() (*pflag.FlagSet, runFunc) {
		fs := newFlagSet("manpage")
		return fs, func(_ []string, stdout, stderr io.Writer) int {
			if fs.NArg() > 0 {
				return usageExit(stderr, usagef("manpage takes no arguments, got %q", fs.Arg(0)))
			}
			writeManPage(stdout, visible())
			return exitOK
		}
	},
}

// manDescription is the man page's DESCRIPTION, paragraphs as in a
// command's description.
const manDescription = `iaxcrypt adds opportunistic encryption to the calls of an unmodified IAX2 application (RFC 5456):
a softphone, a PBX or a fax gateway. The daemon (iaxcrypt up) routes the application's IAX2 traffic
through a TUN device and adds a marker to each call's NEW frame. When the peer's host runs iaxcrypt too,
its daemon answers in the ACCEPT frame, the two complete a Noise handshake inside those two frames, and
from then on every frame of the call is encrypted between the two daemons. A peer without iaxcrypt ignores
the marker and the call goes on in the clear.

Both people can read the short authentication string (SAS) of an encrypted call aloud: the same SAS on both
sides means no one sits in the middle. The daemon remembers the identity each peer presented (key
continuity) and warns when it changes.

The other commands talk to the running daemon through its control socket, check a host's set-up, manage
the remembered peers, install the service and audit packet captures.`

// manFiles is the FILES section: path, what it is.
var manFiles = [][2]string{
	{keystore.Path(keystore.LinuxDefaultDir), "the host's identity key (mode 0600), created by up or identity; see --state-dir"},
	{knownpeers.Path(keystore.LinuxDefaultDir), "the peers this host remembers and their identities (key continuity); see peers"},
	{control.LinuxDefaultPath, "the daemon's control socket, used by status, route, peers and doctor; see --control"},
	{"/etc/iaxcrypt.toml", "a configuration file for up --config (any path; check it with iaxcrypt config check)"},
	{dist.SystemdDefaultsP, "the flags of up for the systemd service (IAXCRYPT_ARGS)"},
	{dist.SystemdUnitPath, "the systemd unit written by install"},
}

// writeManPage writes the man page of cs in troff -man.
func writeManPage(w io.Writer, cs []*command) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p(`.\" Generated from the command table of cmd/iaxcrypt by "iaxcrypt manpage" (make man). Do not edit.`)
	p(`.TH IAXCRYPT 8 "" "iaxcrypt" "System Manager's Manual"`)
	p(".SH NAME")
	p(`iaxcrypt \- opportunistic encryption of IAX2 calls`)
	p(".SH SYNOPSIS")
	for _, c := range cs {
		p(".B iaxcrypt %s", manEscape(c.name))
		if s := synopsisTail(c, c.flags()); s != "" {
			p("%s", manEscape(s))
		}
		p(".br")
	}
	p(".SH DESCRIPTION")
	manParagraphs(w, manDescription)
	p(".SH COMMANDS")
	for _, c := range cs {
		fs := c.flags()
		p(".SS %s", manEscape(c.name))
		p(`\fBiaxcrypt %s\fR %s`, manEscape(c.name), manEscape(synopsisTail(c, fs)))
		manParagraphs(w, c.description)
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			p(".TP")
			name, usage := pflag.UnquoteUsage(f)
			head := `\fB\-\-` + manEscape(f.Name) + `\fR`
			if f.Shorthand != "" {
				head = `\fB\-` + manEscape(f.Shorthand) + `\fR, ` + head
			}
			if name != "" && takesValue(f) {
				head += ` \fI` + manEscape(name) + `\fR`
			}
			p("%s", head)
			if !isZeroDefault(f) {
				usage += " (default: " + f.DefValue + ")"
			}
			if words, kind := valuesOf(f); kind == "words" && !strings.Contains(usage, words[0]) {
				usage += "; one of: " + strings.Join(words, ", ")
			}
			p("%s", manEscape(usage))
		})
	}
	p(".SH FILES")
	for _, f := range manFiles {
		p(".TP")
		p(`\fI%s\fR`, manEscape(f[0]))
		p("%s", manEscape(f[1]))
	}
	p(".SH EXIT STATUS")
	for _, e := range [][2]string{
		{fmt.Sprint(exitOK), "success"},
		{fmt.Sprint(exitError), "the command failed (the message on standard error says what failed and what to do), or a check of doctor or config check failed"},
		{fmt.Sprint(exitUsage), "a usage error: an unknown command or flag, a missing or extra argument, a bad flag value"},
		{fmt.Sprint(exitLeak), "audit only: a frame of an encrypted call crossed in cleartext after the switch"},
	} {
		p(".TP")
		p(".B %s", e[0])
		p("%s", manEscape(e[1]))
	}
	p(".SH SEE ALSO")
	p(".BR ip (8),")
	p(".BR systemctl (1),")
	p(".BR tshark (1),")
	p(".BR wg (8)")
	p(".PP")
	p("%s", manEscape("docs/protocol.md and docs/security.md in the iaxcrypt source: the protocol and its security analysis."))
}

// synopsisTail is what follows the command's name in its synopsis.
func synopsisTail(c *command, fs *pflag.FlagSet) string {
	return strings.TrimSpace(strings.TrimPrefix(commandLine(c, fs), "iaxcrypt "+c.name))
}

// manParagraphs writes a description's paragraphs, each after .PP.
func manParagraphs(w io.Writer, text string) {
	for _, para := range paragraphs(text) {
		fmt.Fprintf(w, ".PP\n%s\n", manEscape(para))
	}
}

// manEscape makes plain text safe in troff: backslashes and minus signs
// escaped, a leading dot or quote kept from starting a request.
func manEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// isZeroDefault reports whether a flag's default is its type's zero
// value, which the man page does not show.
func isZeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "[]", "0s":
		return true
	}
	return false
}
