package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"
)

// writeUsage prints the list of commands.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "usage: iaxcrypt <command> [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range visible() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nRun \"iaxcrypt <command> --help\" for a command's flags.\n")
}

// commandLine is a command's synopsis: name, arguments and, when it has
// any, "[flags]".
func commandLine(c *command, fs *pflag.FlagSet) string {
	line := "iaxcrypt " + c.name
	if c.synopsis != "" {
		line += " " + c.synopsis
	}
	if fs.HasAvailableFlags() {
		line += " [flags]"
	}
	return line
}

// paragraphs splits a description into its paragraphs, each on one line.
func paragraphs(text string) []string {
	var ps []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// writeCommandHelp prints "iaxcrypt COMMAND --help".
func writeCommandHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n", commandLine(c, fs))
	for _, p := range paragraphs(c.description) {
		fmt.Fprintf(w, "%s\n\n", wrap(p, 76))
	}
	if fs.HasAvailableFlags() {
		fmt.Fprintf(w, "flags:\n%s", fs.FlagUsages())
	}
}

// wrap breaks text into lines of at most width characters.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

var helpCommand = &command{
	name:        "help",
	summary:     "show the commands, or a command's flags",
	synopsis:    "[COMMAND]",
	description: `Without COMMAND, lists the commands; with it, prints that command's help (as "iaxcrypt COMMAND --help" does).`,
	args:        []argCompletion{{commandName: true}},
	setup: func() (*pflag.FlagSet, runFunc) {
		fs := newFlagSet("help")
		return fs, func(_ []string, stdout, stderr io.Writer) int {
			switch fs.NArg() {
			case 0:
				writeUsage(stdout)
				return exitOK
			case 1:
				c := lookup(fs.Arg(0))
				if c == nil {
					return usageExit(stderr, usagef("help: unknown command %q (see iaxcrypt help)", fs.Arg(0)))
				}
				writeCommandHelp(stdout, c, c.flags())
				return exitOK
			}
			return usageExit(stderr, usagef("usage: iaxcrypt help [COMMAND]"))
		}
	},
}

var versionCommand = &command{
	name:        "version",
	summary:     "print the version",
	description: "Prints the version this binary was built from.",
	setup: func() (*pflag.FlagSet, runFunc) {
		fs := newFlagSet("version")
		return fs, func(_ []string, stdout, stderr io.Writer) int {
			if fs.NArg() > 0 {
				return usageExit(stderr, usagef("version takes no arguments, got %q", fs.Arg(0)))
			}
			fmt.Fprintln(stdout, "iaxcrypt", version)
			return exitOK
		}
	},
}
