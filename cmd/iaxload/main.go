// Command iaxload generates synthetic IAX2 call load and measures it: see
// package internal/load.
//
//	iaxload answer --listen :4571                      # the callee side
//	iaxload call --to 10.77.0.2:4569 --calls 500       # the caller side
//	iaxload merge caller.json callee.json              # both directions
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/internal/load"
)

const usage = `usage: iaxload <command> [flags]

commands:
  call     place calls and measure the voice that comes back
  answer   answer every call (ACCEPT, ANSWER, own voice or --echo) until
           interrupted, then report the voice that came in
  merge    put a caller's and a callee's JSON reports together

Run "iaxload <command> --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "call":
		return cmdRun(load.Caller, args[1:], stdout, stderr)
	case "answer":
		return cmdRun(load.Callee, args[1:], stdout, stderr)
	case "merge":
		return cmdMerge(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "iaxload: unknown command %q\n%s", args[0], usage)
	return 2
}

// options are the flags of call and answer.
type options struct {
	cfg    load.Config
	listen string
	to     string
	json   bool
	out    string
}

func parseRun(role load.Role, args []string, stderr io.Writer) (*options, error) {
	o := &options{cfg: load.Config{Role: role}}
	fs := pflag.NewFlagSet("iaxload "+role.String(), pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	c := &o.cfg
	if role == load.Caller {
		fs.StringVar(&o.to, "to", "", "where the calls go: the callee, or the peer's iaxcrypt daemon (IP:PORT)")
		fs.StringVar(&o.listen, "listen", ":4571", "local address to send from (the application port iaxcrypt steers)")
		fs.IntVar(&c.Calls, "calls", 100, "calls at once")
		fs.DurationVar(&c.Hold, "hold", load.DefaultHold, "voice time of each call before its HANGUP")
		fs.Float64Var(&c.SetupRate, "setup-rate", load.DefaultSetupRate, "NEWs per second at most")
		fs.DurationVar(&c.RunFor, "run-for", 0, "keep --calls up, replacing calls that end, for this long (a soak); 0: each call once")
		fs.DurationVar(&c.Drain, "drain", load.DefaultDrain, "after the last HANGUP was due, wait at most this long for calls to end")
	} else {
		fs.StringVar(&o.listen, "listen", ":4571", "local address to answer on")
		fs.BoolVar(&c.Echo, "echo", false, "send every voice frame back instead of voice of its own")
	}
	fs.BoolVar(&c.Silent, "silent", false, "no voice, only the calls' signalling")
	fs.BoolVar(&c.Trunk, "trunk", false, "send voice in meta trunk frames with per-entry timestamps (Asterisk trunk=yes)")
	fs.IntVar(&c.TrunkMTU, "trunk-mtu", load.DefaultTrunkMTU, "largest trunk frame")
	fs.DurationVar(&c.TrunkInterval, "trunk-interval", load.DefaultTrunkInterval, "time between trunk frames")
	fs.DurationVar(&c.Interval, "interval", load.DefaultInterval, "time between voice frames of a call")
	fs.IntVar(&c.PayloadSize, "payload", load.DefaultPayloadSize, "voice payload bytes")
	fs.DurationVar(&c.Retry, "retry", load.DefaultRetry, "first retransmission of an unacknowledged full frame (then x10, at most 10s)")
	fs.IntVar(&c.MaxRetries, "max-retries", load.DefaultMaxRetries, "retransmissions before a call fails")
	fs.BoolVar(&c.PerCall, "per-call", false, "report every call")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of text")
	fs.StringVar(&o.out, "out", "", "also write the JSON report to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if role == load.Caller {
		if o.to == "" {
			return nil, errors.New("--to is required: the callee's address, or the peer's iaxcrypt daemon")
		}
		ap, err := netip.ParseAddrPort(o.to)
		if err != nil {
			return nil, fmt.Errorf("--to %q: %w (give IP:PORT)", o.to, err)
		}
		c.Target = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return o, nil
}

func cmdRun(role load.Role, args []string, stdout, stderr io.Writer) int {
	o, err := parseRun(role, args, stderr)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "iaxload %s: %v\n", role, err)
		return 2
	}
	conn, err := load.Listen(o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "iaxload %s: %v\n", role, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if role == load.Callee {
		fmt.Fprintf(stderr, "iaxload: answering on %s\n", o.listen)
	} else {
		fmt.Fprintf(stderr, "iaxload: placing %d calls to %s from %s\n", o.cfg.Calls, o.to, o.listen)
	}
	start := time.Now()
	r, err := load.Run(ctx, o.cfg, conn)
	if err != nil && r == nil {
		fmt.Fprintf(stderr, "iaxload %s: %v\n", role, err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "iaxload %s: after %v: %v\n", role, time.Since(start).Round(time.Millisecond), err)
	}
	if err := output(r, o.json, o.out, stdout, r.WriteText); err != nil {
		fmt.Fprintf(stderr, "iaxload %s: %v\n", role, err)
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

// output prints v as JSON or text and writes it as JSON to file if set.
func output(v any, asJSON bool, file string, stdout io.Writer, text func(io.Writer) error) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the report: %w", err)
	}
	if file != "" {
		if err := os.WriteFile(file, append(js, '\n'), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	if asJSON {
		_, err = stdout.Write(append(js, '\n'))
		return err
	}
	return text(stdout)
}

func cmdMerge(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("iaxload merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the merged report as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(stderr, "usage: iaxload merge CALLER.json CALLEE.json")
		return 2
	}
	var reps [2]*load.Report
	for i, f := range fs.Args() {
		b, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(b, &reps[i])
		}
		if err != nil {
			fmt.Fprintf(stderr, "iaxload merge: read %s: %v\n", f, err)
			return 1
		}
	}
	p, err := load.Merge(reps[0], reps[1])
	if err != nil {
		fmt.Fprintf(stderr, "iaxload merge: %v\n", err)
		return 1
	}
	if err := output(p, *asJSON, "", stdout, p.WriteText); err != nil {
		fmt.Fprintf(stderr, "iaxload merge: %v\n", err)
		return 1
	}
	return 0
}
