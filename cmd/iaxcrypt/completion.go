package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

var completionCommand = &command{
	name:     "completion",
	summary:  "bash|zsh: print a shell completion script",
	synopsis: "bash|zsh",
	description: `Prints a completion script for bash or zsh (zsh through its bashcompinit): commands, their
subcommands and flags, the values of flags that take one of a few words, and file names where a flag or
argument is a file. For example: iaxcrypt completion bash > /etc/bash_completion.d/iaxcrypt, or in
~/.zshrc: source <(iaxcrypt completion zsh).`,
	args:  []argCompletion{{words: []string{"bash", "zsh"}}},
	setup: completionSetup,
}

// completionSetup: "iaxcrypt completion bash|zsh".
func completionSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("completion")
	return fs, func(_ []string, stdout, stderr io.Writer) int {
		if fs.NArg() != 1 || (fs.Arg(0) != "bash" && fs.Arg(0) != "zsh") {
			return usageExit(stderr, usagef("completion takes bash or zsh (e.g. iaxcrypt completion bash > /etc/bash_completion.d/iaxcrypt)"))
		}
		if fs.Arg(0) == "zsh" {
			fmt.Fprint(stdout, zshPrelude)
		}
		writeBashCompletion(stdout, visible())
		return exitOK
	}
}

// zshPrelude lets zsh run the bash script.
const zshPrelude = `# zsh completion for iaxcrypt, through bashcompinit
if ! (( $+functions[compdef] )); then autoload -U +X compinit && compinit; fi
autoload -U +X bashcompinit && bashcompinit
`

// writeBashCompletion writes the completion function _iaxcrypt for cs,
// all of it from the command table: names, positional words, flags and
// their values.
func writeBashCompletion(w io.Writer, cs []*command) {
	var names []string
	for _, c := range cs {
		names = append(names, c.name)
	}
	var flagCases, valueCases, argCases strings.Builder
	for _, c := range cs {
		var flags, valued []string
		c.flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			flags = append(flags, "--"+f.Name)
			if f.Shorthand != "" {
				flags = append(flags, "-"+f.Shorthand)
			}
			if !takesValue(f) {
				return
			}
			valued = append(valued, "--"+f.Name)
			if f.Shorthand != "" {
				valued = append(valued, "-"+f.Shorthand)
			}
			words, kind := valuesOf(f)
			if kind != "" {
				fmt.Fprintf(&valueCases, "\t%q) %s ;;\n", c.name+" --"+f.Name, compgen(kind, words))
			}
		})
		flags = append(flags, "--help")
		fmt.Fprintf(&flagCases, "\t%s) flags=%q valued=%q ;;\n", c.name, strings.Join(flags, " "), strings.Join(valued, " "))
		for i, a := range c.args {
			kind, words := "words", a.words
			switch {
			case a.file:
				kind = "file"
			case a.commandName:
				words = names
			}
			fmt.Fprintf(&argCases, "\t%q) %s ;;\n", fmt.Sprint(c.name, " ", i), compgen(kind, words))
		}
	}
	fmt.Fprintf(w, bashTemplate, strings.Join(names, " "), flagCases.String(), valueCases.String(), argCases.String())
}

// compgen is the shell command that sets COMPREPLY for words, files or
// directories matching $cur.
func compgen(kind string, words []string) string {
	switch kind {
	case "file":
		return `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`
	case "dir":
		return `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))`
	}
	return fmt.Sprintf(`COMPREPLY=($(compgen -W %q -- "$cur"))`, strings.Join(words, " "))
}

// bashTemplate: %[1]s the command names, %[2]s a case per command setting
// its flags and the flags that take a value, %[3]s a case per "COMMAND
// --FLAG" with known values, %[4]s a case per "COMMAND N" (N-th argument).
// --flag=value arrives split at "=" (COMP_WORDBREAKS).
const bashTemplate = `# bash completion for iaxcrypt; generated from its command table by "iaxcrypt completion bash"
_iaxcrypt() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= flag=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W %[1]q -- "$cur"))
		return
	fi
	if [[ $cur == "=" ]]; then
		cur= flag=$prev
	elif [[ $prev == "=" ]]; then
		flag=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur != -* ]]; then
		flag=$prev
	fi
	local cmd=${COMP_WORDS[1]} flags= valued=
	case $cmd in
%[2]s	*) return ;;
	esac
	if [[ -n $flag && " $valued " == *" $flag "* ]]; then
		case "$cmd $flag" in
%[3]s		esac
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return
	fi
	local i w n=0 skip=
	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == "=" ]]; then
			skip=1
			continue
		fi
		if [[ -n $skip ]]; then
			skip=
			continue
		fi
		if [[ " $valued " == *" $w "* ]]; then
			skip=1
			continue
		fi
		[[ $w == -* ]] || n=$((n + 1))
	done
	case "$cmd $n" in
%[4]s	esac
}
complete -F _iaxcrypt iaxcrypt
`
