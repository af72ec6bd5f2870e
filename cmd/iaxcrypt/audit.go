package main

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/audit"
)

// exitLeak is the exit status of "iaxcrypt audit" when a frame of an
// encrypted call crossed in cleartext after the switch.
const exitLeak = 3

var auditCommand = &command{
	name:     "audit",
	summary:  "FILE: check a packet capture for IAX2 calls and cleartext after the switch",
	synopsis: "FILE",
	description: `Reports every IAX2 call of a pcap or pcapng capture (endpoints, call numbers, the encryption
marker offered and answered, when encryption started, frames by kind) and every frame of an encrypted
call that crossed in cleartext after the switch. No daemon is needed.

Exit status: 0 no such frame, 1 the file cannot be read, 2 usage error, ` + strconv.Itoa(exitLeak) + ` such a frame was found.`,
	args:  []argCompletion{{file: true}},
	setup: auditSetup,
}

// auditSetup: "iaxcrypt audit FILE [--json] [--port N]...". Exit status:
// 0 no leak, 1 the file cannot be read, 2 usage, exitLeak a leak.
func auditSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("audit")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	ports := fs.UintSlice("port", nil, "another UDP port that carries IAX2 (repeatable; 4569, 4570 and 4571 always are)")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runAudit(fs, *asJSON, *ports, stdout, stderr) }
}

func runAudit(fs *pflag.FlagSet, asJSON bool, ports []uint, stdout, stderr io.Writer) int {
	if fs.NArg() != 1 {
		return usageExit(stderr, usagef("usage: iaxcrypt audit FILE [--json] [--port N]..."))
	}
	opts := audit.Options{}
	for _, p := range ports {
		if p == 0 || p > 65535 {
			return usageExit(stderr, usagef("--port %d: give a UDP port from 1 to 65535", p))
		}
		opts.Ports = append(opts.Ports, uint16(p))
	}
	r, err := audit.ReadFile(fs.Arg(0), opts)
	if err != nil {
		return fail(stderr, err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		return fail(stderr, err)
	}
	if r.Leaks > 0 {
		return exitLeak
	}
	return exitOK
}
