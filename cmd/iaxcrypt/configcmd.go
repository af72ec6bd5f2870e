package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

var configCommand = &command{
	name:     "config",
	summary:  "check FILE: validate a configuration file for up --config",
	synopsis: "check FILE",
	description: `Reads FILE as "iaxcrypt up --config FILE" would and prints every mistake with its line, or a
summary when there is none. Exit status 1 when the file has a mistake.`,
	args:  []argCompletion{{words: []string{"check"}}, {file: true}},
	setup: configSetup,
}

// configSetup: "iaxcrypt config check FILE": it reads the file as
// `iaxcrypt up --config FILE` would and prints every mistake with its line.
func configSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("config")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runConfig(fs, stdout, stderr) }
}

func runConfig(fs *pflag.FlagSet, stdout, stderr io.Writer) int {
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
