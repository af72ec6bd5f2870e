// Command iaxcrypt runs the opportunistic IAX2 encryption daemon and talks
// to it. This package holds flags and wiring only; the work is done by the
// packages it wires together.
package main

//go:generate sh -c "go run . manpage > ../../docs/iaxcrypt.8.tmp && mv ../../docs/iaxcrypt.8.tmp ../../docs/iaxcrypt.8"

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

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "--version":
		name = "version"
	case "-h", "--help":
		name = "help"
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "iaxcrypt: unknown command %q\n\n", name)
		writeUsage(stderr)
		return exitUsage
	}
	return c.execute(rest, stdout, stderr)
}

// fail prints an error the way every command does and returns exitError.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "iaxcrypt:", err)
	return exitError
}
