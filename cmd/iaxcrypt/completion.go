package main

import (
	"fmt"
	"io"
	"strings"
)

// commandNames are the commands listed in usage, in its order.
func commandNames() []string {
	_, list, _ := strings.Cut(usage, "commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var names []string
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// cmdCompletion implements "iaxcrypt completion bash|zsh": a completion
// script for the commands of usage; a command's flags are read from its
// --help when completing, so they never drift from the binary.
func cmdCompletion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		return usageExit(stderr, usagef("completion takes bash or zsh (e.g. iaxcrypt completion bash > /etc/bash_completion.d/iaxcrypt)"))
	}
	cmds := strings.Join(append(commandNames(), "uninstall"), " ")
	if args[0] == "zsh" {
		fmt.Fprintln(stdout, "autoload -U +X bashcompinit && bashcompinit")
	}
	fmt.Fprintf(stdout, `_iaxcrypt() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W %q -- "$cur"))
		return
	fi
	case "$cur" in
	-*)
		local flags
		flags=$("${COMP_WORDS[0]}" "${COMP_WORDS[1]}" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		;;
	*)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
}
complete -F _iaxcrypt iaxcrypt
`, cmds)
	return exitOK
}
