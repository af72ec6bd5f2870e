package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/doctor"
)

// cmdDoctor implements "iaxcrypt doctor [--json] [--control PATH]
// [--state-dir DIR]": exit 0 when every check passes, 1 otherwise.
func cmdDoctor(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("doctor", stderr)
	asJSON := fs.Bool("json", false, "print the checks as JSON")
	path := fs.String("control", control.DefaultPath, "path of the control socket")
	dir := fs.String("state-dir", defaultStateDir, "directory of the identity key (when the daemon does not answer)")
	if err := fs.Parse(args); err != nil {
		return usageExit(stderr, usagef("%w", err))
	}
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("doctor takes no arguments, got %q", fs.Arg(0)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep := doctor.Run(ctx, doctor.Options{Control: *path, StateDir: *dir})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		for _, c := range rep.Checks {
			fmt.Fprintf(stdout, "%-4s  %-24s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
			if c.Fix != "" {
				fmt.Fprintf(stdout, "      %-24s fix: %s\n", "", c.Fix)
			}
		}
		if rep.OK {
			fmt.Fprintln(stdout, "all checks passed")
		} else {
			fmt.Fprintln(stdout, "some checks failed: the application's calls may not be protected")
		}
	}
	if !rep.OK {
		return exitError
	}
	return exitOK
}
