package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/demo"
)

var demoCommand = &command{
	name:    "demo",
	summary: "two namespace hosts, a daemon and a phone on each, one encrypted call (root)",
	description: `Sets up two hosts in network namespaces with a daemon and a phone on each, places a call
carrying real audio for a few seconds and prints as it happens the call flow, the negotiated cipher, the
SAS on both sides, one voice frame as the application sent it and as it crossed the wire, and the status
table; then removes everything, also on Ctrl-C. Needs root.`,
	setup: demoSetup,
}

// demoSetup: "iaxcrypt demo": two namespace hosts, a daemon and a phone
// on each, one encrypted call, everything removed at the end (also on
// Ctrl-C).
func demoSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("demo")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runDemo(fs, stdout, stderr) }
}

func runDemo(fs *pflag.FlagSet, stdout, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("demo takes no arguments, got %q", fs.Arg(0)))
	}
	self, err := os.Executable()
	if err != nil {
		return fail(stderr, fmt.Errorf("find the iaxcrypt binary to run as the demo's daemons: %w", err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = demo.Run(ctx, demo.Config{Binary: self, Out: stdout})
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "iaxcrypt: demo interrupted; everything it set up is removed")
		return exitError
	case err != nil:
		return fail(stderr, fmt.Errorf("demo: %w", err))
	}
	return exitOK
}
