// Command iaximpair runs the impairment relay of package impair in the
// middle namespace of the soak and impairment tests:
//
//	iaximpair --listen-a 10.77.1.254:4569 --listen-b 10.77.2.254:4569 \
//	    --peer-b 10.77.2.1:4569 --loss 0.01 --reorder 0.01 --duplicate 0.01
//
// It prints "iaximpair: ready" once it listens and, when interrupted, what
// it did as JSON (to --out as well, if given).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/internal/impair"
)

func main() {
	var (
		cfg   impair.Config
		r     impair.Rates
		peerB string
		out   string
	)
	fs := pflag.NewFlagSet("iaximpair", pflag.ExitOnError)
	fs.StringVar(&cfg.ListenA, "listen-a", "", "address facing host A (A sends to it)")
	fs.StringVar(&cfg.ListenB, "listen-b", "", "address facing host B (the relay sends to B from it)")
	fs.StringVar(&peerB, "peer-b", "", "host B's address and port")
	fs.Float64Var(&r.Loss, "loss", 0, "probability of dropping a datagram")
	fs.Float64Var(&r.Duplicate, "duplicate", 0, "probability of sending a datagram twice")
	fs.DurationVar(&r.DuplicateGap, "duplicate-gap", 0, "time between a datagram and its copy")
	fs.Float64Var(&r.Reorder, "reorder", 0, "probability of holding a datagram back so later ones overtake it")
	fs.DurationVar(&r.ReorderDelay, "reorder-delay", 0, "how long a reordered datagram is held back (5ms if 0)")
	fs.DurationVar(&r.Delay, "delay", 0, "delay of every datagram")
	fs.DurationVar(&r.Jitter, "jitter", 0, "up to this much more delay, without reordering")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the random choices")
	fs.StringVar(&out, "out", "", "write the report to this file too")
	fs.Parse(os.Args[1:])
	pb, err := netip.ParseAddrPort(peerB)
	if err != nil {
		fmt.Fprintf(os.Stderr, "iaximpair: --peer-b %q: %v\n", peerB, err)
		os.Exit(2)
	}
	cfg.PeerB, cfg.AtoB, cfg.BtoA = pb, r, r
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := impair.Run(ctx, cfg, func() { fmt.Println("iaximpair: ready") })
	if err != nil {
		fmt.Fprintf(os.Stderr, "iaximpair: %v\n", err)
		os.Exit(1)
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(js))
	if out != "" {
		if err := os.WriteFile(out, append(js, '\n'), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "iaximpair: %v\n", err)
			os.Exit(1)
		}
	}
}
