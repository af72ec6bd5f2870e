package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/config"
	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/keystore"
	"github.com/iaxcrypt/iaxcrypt/route"
)

// Defaults of the command line.
const (
	defaultListen   = ":4570"
	defaultStateDir = keystore.DefaultDir
	defaultPolicy   = "opportunistic"
)

// usageError is a command-line mistake: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usageError; %w works as in fmt.Errorf.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// defaultTUN is the TUN name: macOS only allows utunN, and "utun" lets
// the system pick N.
func defaultTUN() string {
	if runtime.GOOS == "darwin" {
		return "utun"
	}
	return "iax0"
}

// upOptions is the parsed command line of "iaxcrypt up".
type upOptions struct {
	tun      string
	appPort  uint16
	listen   string
	peers    []netip.Addr
	policy   engine.Policy
	stateDir string
	control  string
	iface    string
	logLevel slog.Level
	// configFile is --config; rules are its [[peer]] sections.
	configFile string
	rules      config.Peers
	notify     bool
	sasAudio   bool
	debug      string
	metrics    string
	logFormat  string
}

var upCommand = &command{
	name:    "up",
	summary: "run the daemon in the foreground until SIGINT or SIGTERM",
	description: `Runs the daemon in the foreground: creates the TUN device, routes the local IAX2 application's
traffic (its UDP port, --app-port) through it, and encrypts each call with a peer whose daemon answers
the offer, in the clear otherwise (--policy). After setting up it keeps only the capabilities it still
needs (CAP_NET_ADMIN, to remove its routes at exit). SIGINT or SIGTERM stops it and removes its routing;
SIGHUP reads the --config file again.

The --config file is TOML: one key per flag (the flag's name; all but --config and --peer) and
[[peer]] sections, whose route = true does what --peer does. The command line overrides the file;
iaxcrypt config check FILE checks it.`,
	setup: upSetup,
}

// upFlagValues holds the flags of "iaxcrypt up" as parsed, before they
// are checked into upOptions.
type upFlagValues struct {
	o      upOptions
	peers  []string
	policy string
	level  string
}

// policies, logLevels and logFormats are the values of --policy,
// --log-level and --log-format, for completion.
var (
	policies   = []string{"opportunistic", "require", "off"}
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// upFlags defines the flags of "iaxcrypt up".
func upFlags() (*pflag.FlagSet, *upFlagValues) {
	fs := newFlagSet("up")
	v := &upFlagValues{}
	o := &v.o
	fs.StringVar(&o.tun, "tun", defaultTUN(), "name of the TUN device to create")
	fs.Uint16Var(&o.appPort, "app-port", route.DefaultAppPort, "UDP port of the local IAX2 application")
	fs.StringVar(&o.listen, "listen", defaultListen, "address of the daemon's own UDP socket")
	fs.StringArrayVar(&v.peers, "peer", nil, "peer IP address to route through the daemon (repeatable)")
	fs.StringVar(&v.policy, "policy", defaultPolicy, "opportunistic, require or off")
	oneOf(fs, "policy", policies...)
	fs.StringVar(&o.stateDir, "state-dir", defaultStateDir, "directory of the identity key and the known peers")
	takesDir(fs, "state-dir")
	fs.StringVar(&o.control, "control", control.DefaultPath, "path of the control socket")
	takesFile(fs, "control")
	fs.StringVar(&o.iface, "interface", "", "macOS: the real interface the daemon's sockets are pinned to (default: the default route's, e.g. en0, followed when it changes)")
	fs.StringVar(&v.level, "log-level", "info", "debug, info, warn or error")
	oneOf(fs, "log-level", logLevels...)
	fs.StringVar(&o.configFile, "config", "", "TOML file: a key per flag, and [[peer]] sections (flags override it; reloaded on SIGHUP)")
	takesFile(fs, "config")
	fs.BoolVar(&o.notify, "notify", false, "show a desktop notification with the SAS of each encrypted call")
	fs.BoolVar(&o.sasAudio, "sas-audio", false, "play the SAS as DTMF to the local application at the start of each encrypted G.711 call")
	fs.StringVar(&o.debug, "debug-addr", "", "serve Go profiles (/debug/pprof/), the goroutine count (/debug/goroutines) and the live heap (/debug/heap) on this address, unix:/PATH or 127.0.0.1:PORT (off by default)")
	fs.StringVar(&o.logFormat, "log-format", "text", "text (key=value) or json (one object a line)")
	oneOf(fs, "log-format", logFormats...)
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at /metrics on this HOST:PORT, e.g. 127.0.0.1:9469 (off by default)")
	return fs, v
}

// upSetup: "iaxcrypt up [flags]".
func upSetup() (*pflag.FlagSet, runFunc) {
	fs, v := upFlags()
	return fs, func(args []string, stdout, stderr io.Writer) int {
		o, err := v.check(fs)
		if err != nil {
			return usageExit(stderr, err)
		}
		return runUp(o, args, stderr)
	}
}

// parseUp parses and checks the flags of "iaxcrypt up".
func parseUp(args []string, stderr io.Writer) (upOptions, error) {
	fs, v := upFlags()
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return v.o, usagef("%w", err)
	}
	return v.check(fs)
}

// check checks the parsed flags (reading the --config file) into
// upOptions.
func (v *upFlagValues) check(fs *pflag.FlagSet) (upOptions, error) {
	if fs.NArg() > 0 {
		return v.o, usagef("unexpected argument %q (peers go in --peer)", fs.Arg(0))
	}
	uc := applyConfigFile(fs, v.o.configFile) // sets the flags the command line left alone
	o, peers, policy, level := v.o, v.peers, v.policy, v.level
	if o.tun == "" {
		uc.bad("tun", "--tun is empty: give a device name such as %s", defaultTUN())
	}
	if o.appPort == 0 {
		uc.bad("app-port", "--app-port 0: give the IAX2 application's UDP port (usually 4569)")
	}
	if port, err := listenPort(o.listen); err != nil {
		uc.bad("listen", "--listen %q: %v", o.listen, err)
	} else if port == o.appPort {
		blame := "listen" // the line to show, when one of the two is from the file
		if _, fromFile := uc.fromFile["listen"]; !fromFile {
			if _, fromFile := uc.fromFile["app-port"]; fromFile {
				blame = "app-port"
			}
		}
		uc.bad(blame, "--listen port %d is the application's port (--app-port): the daemon needs a port of its own "+
			"(a host that answers calls: --listen :4569 and move the application to --app-port 4571; one that only calls out: --listen :4570 --app-port 4569)", port)
	}
	for _, p := range peers {
		a, err := netip.ParseAddr(p)
		if err != nil {
			uc.bad("peer", "--peer %q is not an IP address: give the peer host's IPv4 or IPv6 address", p)
			continue
		}
		o.peers = append(o.peers, a.Unmap())
	}
	if uc.file != nil {
		o.rules = uc.file.Peers
		for _, a := range o.rules.Routes() {
			if !slices.Contains(o.peers, a) {
				o.peers = append(o.peers, a)
			}
		}
	}
	var err error
	if o.policy, err = engine.ParsePolicy(policy); err != nil {
		uc.bad("policy", "--policy: %v", err)
	}
	if err := o.logLevel.UnmarshalText([]byte(level)); err != nil {
		uc.bad("log-level", "--log-level %q: use debug, info, warn or error", level)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		uc.bad("log-format", "--log-format %q: use text or json", o.logFormat)
	}
	return o, uc.err()
}

// listenPort checks a --listen address (":4570", "0.0.0.0:4570",
// "[::]:4570") and returns its port, which must not be 0: the peer's daemon
// must know where to answer.
func listenPort(addr string) (uint16, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("want HOST:PORT or :PORT (%w)", err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return 0, fmt.Errorf("host %q is not an IP address", host)
		}
	}
	p, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("port %q must be a number from 1 to 65535", ps)
	}
	return uint16(p), nil
}

// usageExit prints a usage error with the command's flags and returns 2;
// help requested explicitly returns 0.
func usageExit(stderr io.Writer, err error) int {
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if !errors.As(err, &ue) {
		return fail(stderr, err)
	}
	fmt.Fprintln(stderr, "iaxcrypt:", err)
	return exitUsage
}
