package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/iaxcrypt/iaxcrypt/audit"
)

// exitLeak is the exit status of "iaxcrypt audit" when a frame of an
// encrypted call crossed in cleartext after the switch.
const exitLeak = 3

// cmdAudit implements "iaxcrypt audit FILE [--json] [--port N]...". Exit
// status: 0 no leak, 1 the file cannot be read, 2 usage, 3 a leak.
func cmdAudit(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	ports := fs.UintSlice("port", nil, "another UDP port that carries IAX2 (repeatable; 4569, 4570 and 4571 always are)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: iaxcrypt audit FILE [--json] [--port N]...\n\n"+
			"Reports every IAX2 call of a pcap or pcapng capture and every frame of an encrypted\n"+
			"call that crossed in cleartext after the switch. Exit status: 0 no such frame,\n"+
			"1 the file cannot be read, 2 usage error, %d such a frame was found.\n\n", exitLeak)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(stderr, usagef("%w", err))
	}
	if fs.NArg() != 1 {
		return usageExit(stderr, usagef("usage: iaxcrypt audit FILE [--json] [--port N]..."))
	}
	opts := audit.Options{}
	for _, p := range *ports {
		if p == 0 || p > 65535 {
			return usageExit(stderr, usagef("--port %d: give a UDP port from 1 to 65535", p))
		}
		opts.Ports = append(opts.Ports, uint16(p))
	}
	r, err := audit.ReadFile(fs.Arg(0), opts)
	if err != nil {
		return fail(stderr, err)
	}
	if *asJSON {
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
