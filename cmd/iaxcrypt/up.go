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

// runUp runs the daemon until a signal; args is the command line, parsed
// again from the start on each reload.
func runUp(o upOptions, args []string, stderr io.Writer) int {
	// A cgo build drops its privileges by starting again with them dropped
	// (this call then does not return); set-up runs in that image.
	if err := platform.PrepareDropPrivileges(o.notify); err != nil {
		return fail(stderr, err)
	}
	level := new(slog.LevelVar)
	level.Set(o.logLevel)
	log := newLogger(stderr, o.logFormat, level)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := daemonConfig(o)
	cfg.LogLevel = level
	// On SIGHUP the daemon reads the configuration again: the same command
	// line over the file as it is now.
	cfg.Reload = func() (daemon.Config, error) {
		o, err := parseUp(args, io.Discard)
		return daemonConfig(o), err
	}
	if err := daemon.Run(ctx, cfg, log); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}

// daemonConfig turns the parsed command line into the daemon's Config.
func daemonConfig(o upOptions) daemon.Config {
	return daemon.Config{TUN: o.tun, AppPort: o.appPort, Listen: o.listen, Peers: o.peers,
		Policy: o.policy, StateDir: o.stateDir, Control: o.control, Version: version,
		Interface:  o.iface,
		ConfigFile: o.configFile, PeerRules: o.rules, Notify: o.notify, SASAudio: o.sasAudio, Level: o.logLevel,
		DebugAddr: o.debug, MetricsAddr: o.metrics}
}

// newLogger makes the daemon's logger: format is "text" (key=value) or
// "json" (one object a line), as checked by parseUp.
func newLogger(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
