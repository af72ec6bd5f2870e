package main

import (
	"errors"
	"fmt"
	"io"
)

// cmdConfig implements "iaxcrypt config check FILE": it reads the file as
// `iaxcrypt up --config FILE` would and prints every mistake with its line.
func cmdConfig(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("config", stderr)
	if err := fs.Parse(args); err != nil {
		return usageExit(stderr, usagef("%w", err))
	}
	if fs.NArg() != 2 || fs.Arg(0) != "check" {
		return usageExit(stderr, usagef("usage: iaxcrypt config check FILE"))
	}
	file := fs.Arg(1)
	o, err := parseUp([]string{"--config", file}, io.Discard)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			err = ue.err // every mistake, one a line; not a mistake of this command line
		}
		fmt.Fprintln(stderr, err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s: ok: policy %s, %d [[peer]] sections, %d routed peers\n", file, o.policy, len(o.rules), len(o.peers))
	return exitOK
}
