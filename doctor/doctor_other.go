//go:build !linux && !darwin

package doctor

import "github.com/iaxcrypt/iaxcrypt/control"

func systemChecks(in control.Info) []Check {
	return []Check{fail("system", "iaxcrypt supports Linux and macOS only", "")}
}

// probeFix is what to do when a probe does not arrive at the daemon.
const probeFix = ""
