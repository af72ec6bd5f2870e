package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/keystore"
	"github.com/iaxcrypt/iaxcrypt/route"
)

var statusCommand = &command{
	name:    "status",
	summary: "show the calls the daemon follows (--json for machine output, --watch to redraw)",
	description: `Asks the running daemon, through its control socket, for the calls it follows and prints one line a call:
peer, call numbers, state, cipher, SAS, the peer's identity, packet counters and warnings.

With --watch the table is redrawn every --interval until Ctrl-C, like watch wg show.`,
	setup: statusSetup,
}

// statusSetup: "iaxcrypt status [--json] [--watch [--interval D]] [--control PATH]".
func statusSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("status")
	asJSON := fs.Bool("json", false, "print the daemon's status object as JSON")
	path := fs.String("control", control.DefaultPath, "path of the control socket")
	takesFile(fs, "control")
	watch := fs.Bool("watch", false, "redraw the table every --interval until Ctrl-C (like watch wg show)")
	interval := fs.Duration("interval", time.Second, "time between redraws with --watch")
	return fs, func(_ []string, stdout, stderr io.Writer) int {
		return runStatus(fs, *asJSON, *path, *watch, *interval, stdout, stderr)
	}
}

func runStatus(fs *pflag.FlagSet, asJSON bool, path string, watch bool, interval time.Duration, stdout, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("status takes no arguments, got %q", fs.Arg(0)))
	}
	if watch {
		if asJSON {
			return usageExit(stderr, usagef("--watch draws the table: leave out --json (or poll status --json yourself)"))
		}
		if interval <= 0 {
			return usageExit(stderr, usagef("--interval %s: give a positive duration such as 1s", interval))
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		watchStatus(ctx, control.Client{Path: path}, interval, stdout)
		return exitOK
	}
	st, err := control.Client{Path: path}.Status(context.Background())
	if err != nil {
		return fail(stderr, err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	printStatus(stdout, st)
	return exitOK
}

// clearScreen moves the cursor home and clears the terminal (ANSI).
const clearScreen = "\x1b[H\x1b[2J"

// watchStatus redraws the status table every interval until ctx is done.
// A failed request is shown in place of the table and retried, so the
// watch outlives a daemon restart.
func watchStatus(ctx context.Context, c control.Client, interval time.Duration, w io.Writer) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var screen bytes.Buffer // drawn at once, so the table does not flicker
		screen.WriteString(clearScreen)
		fmt.Fprintf(&screen, "every %s: iaxcrypt status  %s\n\n", interval, time.Now().Format("15:04:05"))
		st, err := c.Status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintln(&screen, "iaxcrypt:", err)
		} else {
			printStatus(&screen, st)
		}
		w.Write(screen.Bytes())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// printStatus writes the status as a table, one line per call.
func printStatus(w io.Writer, st control.Status) {
	fmt.Fprintf(w, "identity %s\n", st.Identity)
	if len(st.Calls) == 0 {
		fmt.Fprintln(w, "no calls")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tCALLS\tSTATE\tCIPHER\tSAS\tPEER-ID\tTX\tRX\tDROPPED\tWARN\tWHY")
	for _, c := range st.Calls {
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n",
			c.Peer, c.LocalCall, c.RemoteCall, c.State, dash(c.Cipher), dash(c.SAS),
			dash(shortID(c.PeerIdentity)), c.TxPackets, c.RxPackets, c.Dropped, dash(c.Warning), c.Reason)
	}
	tw.Flush()
}

// shortID keeps the start of a fingerprint, enough to recognise it.
func shortID(fp string) string {
	const n = 16
	if len(fp) <= n {
		return fp
	}
	return fp[:n] + "…"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var routeCommand = &command{
	name:     "route",
	summary:  "add|del PEER: route the application's traffic to PEER through the daemon",
	synopsis: "add|del PEER",
	description: `Tells the running daemon to steer (add) or stop steering (del) the application's traffic to PEER,
an IPv4 or IPv6 address, through itself, from any source port; as --peer of up does at start.`,
	args:  []argCompletion{{words: []string{"add", "del"}}},
	setup: routeSetup,
}

// routeSetup: "iaxcrypt route add|del PEER [--control PATH]".
func routeSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("route")
	path := fs.String("control", control.DefaultPath, "path of the control socket")
	takesFile(fs, "control")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runRoute(fs, *path, stderr) }
}

func runRoute(fs *pflag.FlagSet, path string, stderr io.Writer) int {
	if fs.NArg() != 2 || (fs.Arg(0) != "add" && fs.Arg(0) != "del") {
		return usageExit(stderr, usagef("usage: iaxcrypt route add|del PEER [--control PATH]"))
	}
	peer, err := netip.ParseAddr(fs.Arg(1))
	if err != nil {
		return usageExit(stderr, usagef("%q is not an IP address: give the peer host's IPv4 or IPv6 address", fs.Arg(1)))
	}
	c := control.Client{Path: path}
	if fs.Arg(0) == "add" {
		err = c.RouteAdd(context.Background(), peer)
	} else {
		err = c.RouteDel(context.Background(), peer)
	}
	if err != nil {
		return fail(stderr, err)
	}
	return exitOK
}

var downCommand = &command{
	name:    "down",
	summary: "remove routing left by a daemon that did not exit cleanly",
	description: `Removes the rules, routes and TUN device a daemon that was killed left behind, so that the
application's traffic flows directly again. Give the --tun and --app-port the daemon ran with.`,
	setup: downSetup,
}

// downSetup: "iaxcrypt down [--tun NAME] [--app-port N]".
func downSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("down")
	tunName := fs.String("tun", defaultTUN(), "name of the TUN device the daemon used")
	appPort := fs.Uint16("app-port", route.DefaultAppPort, "UDP port of the local IAX2 application")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runDown(fs, *tunName, *appPort, stdout, stderr) }
}

func runDown(fs *pflag.FlagSet, tunName string, appPort uint16, stdout, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("down takes no arguments, got %q", fs.Arg(0)))
	}
	if err := requireRoot(); err != nil {
		return fail(stderr, err)
	}
	removed, err := route.Cleanup(route.Config{TunName: tunName, AppPort: appPort})
	for _, r := range removed {
		fmt.Fprintln(stdout, "removed", r)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("remove routing of tun %s, app port %d: %w", tunName, appPort, err))
	}
	if len(removed) == 0 {
		fmt.Fprintln(stdout, "nothing to remove")
	}
	return exitOK
}

var identityCommand = &command{
	name:    "identity",
	summary: "print this host's identity fingerprint (creates the key if needed)",
	description: `Prints the fingerprint of this host's identity key, creating the key first when there is none.
Peers remember it (key continuity); read it to a peer's operator to check a warning.`,
	setup: identitySetup,
}

// identitySetup: "iaxcrypt identity [--state-dir DIR]".
func identitySetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("identity")
	dir := fs.String("state-dir", defaultStateDir, "directory of the identity key")
	takesDir(fs, "state-dir")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runIdentity(fs, *dir, stdout, stderr) }
}

func runIdentity(fs *pflag.FlagSet, dir string, stdout, stderr io.Writer) int {
	if fs.NArg() > 0 {
		return usageExit(stderr, usagef("identity takes no arguments, got %q", fs.Arg(0)))
	}
	id, created, err := keystore.LoadOrCreate(dir)
	if err != nil {
		return fail(stderr, err)
	}
	if created {
		fmt.Fprintln(stderr, "created a new identity in", strconv.Quote(keystore.Path(dir)))
	}
	fmt.Fprintln(stdout, id.Public().Fingerprint())
	return exitOK
}
