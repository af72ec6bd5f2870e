package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/iaxcrypt/iaxcrypt/demo"
)

// cmdDemo implements "iaxcrypt demo": two namespace hosts, a daemon and a
// phone on each, one encrypted call, everything removed at the end (also
// on Ctrl-C).
func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", stderr)
	if err := fs.Parse(args); err != nil {
		return usageExit(stderr, usagef("%w", err))
	}
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
