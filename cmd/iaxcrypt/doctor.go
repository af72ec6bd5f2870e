package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/doctor"
)

var doctorCommand = &command{
	name:    "doctor",
	summary: "check this host's set-up end to end (--json for machine output)",
	description: `Checks this host's set-up end to end: the daemon answers, its TUN device, rules and routes
are in place, the identity key is safe, and the application's traffic takes the daemon's path. Each
failed check says how to fix it. Exit status 0 when every check passes, 1 otherwise.`,
	setup: doctorSetup,
}

// doctorSetup: "iaxcrypt doctor [--json] [--control PATH] [--state-dir
// DIR]": exit 0 when every check passes, 1 otherwise.
func doctorSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("doctor")
	asJSON := fs.Bool("json", false, "print the checks as JSON")
	path := fs.String("control", control.DefaultPath, "path of the control socket")
	takesFile(fs, "control")
	dir := fs.String("state-dir", defaultStateDir, "directory of the identity key (when the daemon does not answer)")
	takesDir(fs, "state-dir")
	return fs, func(_ []string, stdout, stderr io.Writer) int {
		return runDoctor(fs, *asJSON, *path, *dir, stdout, stderr)
	}
}

func runDoctor(fs *pflag.FlagSet, asJSON bool, path, dir string, stdout, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("doctor takes no arguments, got %q", fs.Arg(0)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep := doctor.Run(ctx, doctor.Options{Control: path, StateDir: dir})
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		width := 0
		for _, c := range rep.Checks {
			width = max(width, len(c.Name))
		}
		for _, c := range rep.Checks {
			fmt.Fprintf(stdout, "%-4s  %-*s %s\n", strings.ToUpper(c.Status), width, c.Name, c.Detail)
			if c.Fix != "" {
				fmt.Fprintf(stdout, "      %-*s fix: %s\n", width, "", c.Fix)
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
