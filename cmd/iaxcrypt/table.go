package main

import (
	"io"

	"github.com/spf13/pflag"
)

// command is one command of iaxcrypt. The table of them, commands, is the
// one place a command is described: run dispatches on it, and the usage
// text, each command's --help, the shell completion scripts and the man
// page (docs/iaxcrypt.8) are all generated from it.
type command struct {
	name    string
	summary string // one line, for the usage text
	// synopsis is what follows the name on the command line, flags left
	// out ("add|del PEER"); empty for a command without arguments.
	synopsis string
	// description is plain text for --help and the man page: paragraphs
	// separated by a blank line, lines joined within a paragraph.
	description string
	// args completes the positional arguments, one entry a position.
	args []argCompletion
	// hidden commands are left out of usage, completion and the man page.
	hidden bool
	// setup makes the command's flag set and the function that runs the
	// command once the flag set has parsed the command line.
	setup func() (*pflag.FlagSet, runFunc)
}

// runFunc runs a command: args is the command line after the command's
// name, already parsed by the command's flag set (which the function
// reads its flags and positional arguments from).
type runFunc func(args []string, stdout, stderr io.Writer) int

// argCompletion says what a positional argument can be, for completion.
type argCompletion struct {
	words []string // one of these words
	file  bool     // a file name
	// commandName: the name of a command (help COMMAND).
	commandName bool
}

// flags returns the command's flag set, for help, completion and the man
// page.
func (c *command) flags() *pflag.FlagSet {
	fs, _ := c.setup()
	return fs
}

// commands is the table, in the order usage and the man page list them;
// filled in by init because help refers to the table itself.
var commands []*command

func init() {
	commands = []*command{
		upCommand, statusCommand, routeCommand, downCommand, identityCommand, peersCommand,
		configCommand, doctorCommand, installCommand, uninstallCommand, auditCommand, demoCommand,
		completionCommand, versionCommand, helpCommand, manpageCommand,
	}
}

// lookup finds a command by name, hidden ones included.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// visible returns the commands usage, completion and the man page show.
func visible() []*command {
	var cs []*command
	for _, c := range commands {
		if !c.hidden {
			cs = append(cs, c)
		}
	}
	return cs
}

// commandNames are the names of the visible commands, in table order.
func commandNames() []string {
	var names []string
	for _, c := range visible() {
		names = append(names, c.name)
	}
	return names
}

// newFlagSet makes a flag set that reports errors instead of exiting and
// keeps the flags in the order they are defined.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("iaxcrypt "+name, pflag.ContinueOnError)
	fs.SortFlags = false
	return fs
}

// execute parses args with the command's flags and runs it. --help prints
// the command's help on stderr and exits 0.
func (c *command) execute(args []string, stdout, stderr io.Writer) int {
	fs, run := c.setup()
	fs.SetOutput(stderr)
	fs.Usage = func() { writeCommandHelp(stderr, c, fs) }
	if err := fs.Parse(args); err != nil {
		return usageExit(stderr, usagef("%w", err))
	}
	return run(args, stdout, stderr)
}

// Annotations of flags, read by completion and the man page.
const (
	annotValues = "iaxcrypt_values" // the flag's value is one of these
	annotFile   = "iaxcrypt_file"   // the flag's value is a file name
	annotDir    = "iaxcrypt_dir"    // the flag's value is a directory
)

// oneOf records the values a flag takes, for completion.
func oneOf(fs *pflag.FlagSet, name string, values ...string) {
	annotate(fs, name, annotValues, values)
}

// takesFile marks a flag whose value is a file name.
func takesFile(fs *pflag.FlagSet, name string) { annotate(fs, name, annotFile, []string{"true"}) }

// takesDir marks a flag whose value is a directory.
func takesDir(fs *pflag.FlagSet, name string) { annotate(fs, name, annotDir, []string{"true"}) }

func annotate(fs *pflag.FlagSet, name, key string, values []string) {
	if err := fs.SetAnnotation(name, key, values); err != nil {
		panic("iaxcrypt: command table: " + err.Error()) // a flag name mistyped in the table
	}
}

// valuesOf returns what completion offers for a flag's value: its words,
// "file", "dir" or nothing.
func valuesOf(f *pflag.Flag) (words []string, kind string) {
	switch {
	case f.Annotations[annotValues] != nil:
		return f.Annotations[annotValues], "words"
	case f.Annotations[annotFile] != nil:
		return nil, "file"
	case f.Annotations[annotDir] != nil:
		return nil, "dir"
	}
	return nil, ""
}

// takesValue reports whether a flag needs a value (--policy off) rather
// than standing alone (--json).
func takesValue(f *pflag.Flag) bool { return f.NoOptDefVal == "" }
