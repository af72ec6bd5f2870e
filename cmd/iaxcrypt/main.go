// Command iaxcrypt runs the opportunistic IAX2 encryption daemon and talks
// to it. This package holds flags and wiring only; the work is done by the
// packages it wires together.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `usage: iaxcrypt <command> [flags]

commands:
  up        run the daemon in the foreground until SIGINT or SIGTERM
  status    show the calls the daemon follows (--json for machine output, --watch to redraw)
  route     add|del PEER: route the application's traffic to PEER through the daemon
  down      remove routing left by a daemon that did not exit cleanly
  identity  print this host's identity fingerprint (creates the key if needed)
  peers     list | verify PEER | forget PEER: the peers this host remembers (key continuity)
  config    check FILE: validate a configuration file for up --config
  doctor    check this host's set-up end to end (--json for machine output)
  install   install the daemon as a system service (--print to only show it); uninstall removes it
  audit     FILE: check a packet capture for IAX2 calls and cleartext after the switch
  demo      two namespace hosts, a daemon and a phone on each, one encrypted call (root)
  completion bash|zsh: print a shell completion script
  version   print the version

Run "iaxcrypt <command> --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up":
		return cmdUp(rest, stdout, stderr)
	case "status":
		return cmdStatus(rest, stdout, stderr)
	case "route":
		return cmdRoute(rest, stdout, stderr)
	case "down":
		return cmdDown(rest, stdout, stderr)
	case "identity":
		return cmdIdentity(rest, stdout, stderr)
	case "peers":
		return cmdPeers(rest, stdout, stderr)
	case "config":
		return cmdConfig(rest, stdout, stderr)
	case "doctor":
		return cmdDoctor(rest, stdout, stderr)
	case "install", "uninstall":
		return cmdInstall(cmd, rest, stdout, stderr)
	case "audit":
		return cmdAudit(rest, stdout, stderr)
	case "demo":
		return cmdDemo(rest, stdout, stderr)
	case "completion":
		return cmdCompletion(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "iaxcrypt", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "iaxcrypt: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// fail prints an error the way every command does and returns exitError.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "iaxcrypt:", err)
	return exitError
}
