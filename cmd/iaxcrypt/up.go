package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/iaxcrypt/iaxcrypt/daemon"
	"github.com/iaxcrypt/iaxcrypt/platform"
)

// requireRoot is platform.RequireRoot, named for the commands that need it.
func requireRoot() error { return platform.RequireRoot() }

// cmdUp implements "iaxcrypt up": it runs the daemon until a signal.
func cmdUp(args []string, stdout, stderr io.Writer) int {
	o, err := parseUp(args, stderr)
	if err != nil {
		return usageExit(stderr, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := daemon.Config{TUN: o.tun, AppPort: o.appPort, Listen: o.listen, Peers: o.peers,
		Policy: o.policy, StateDir: o.stateDir, Control: o.control, Version: version, Interface: o.iface, DebugAddr: o.debug}
	if err := daemon.Run(ctx, cfg, log); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}
