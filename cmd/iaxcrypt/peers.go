package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/daemon"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

const peersUsage = `usage: iaxcrypt peers list [--json] | verify PEER [--identity FP] | forget PEER
           [--state-dir DIR] [--control PATH]
PEER is ADDRESS (every record of that address), ADDRESS:PORT as status shows
it, or USER@ADDRESS. verify: after both people read the same SAS aloud.`

var peersCommand = &command{
	name:     "peers",
	summary:  "list | verify PEER | forget PEER: the peers this host remembers (key continuity)",
	synopsis: "list | verify PEER | forget PEER",
	description: `Lists, verifies or forgets the peers this host remembers (key continuity: the identity each
peer presented, in known_peers in the state directory). PEER is ADDRESS (every record of that address),
ADDRESS:PORT as status shows it, or USER@ADDRESS. Verify a peer after both people read the same SAS
aloud; forget one whose identity changed for a known reason.

While the daemon runs the request goes through its control socket; otherwise the file is changed
directly.`,
	args:  []argCompletion{{words: []string{"list", "verify", "forget"}}},
	setup: peersSetup,
}

// peersSetup: "iaxcrypt peers list|verify|forget". While the daemon runs
// (it holds the store's lock) the request goes through its control
// socket, so that its memory and the file stay one; otherwise the file is
// edited directly, under the same lock.
func peersSetup() (*pflag.FlagSet, runFunc) {
	fs := newFlagSet("peers")
	var o peersOptions
	fs.BoolVar(&o.asJSON, "json", false, "list: print the records as JSON")
	fs.StringVar(&o.identity, "identity", "", "verify: the fingerprint to verify (default: the one the peer's last call presented)")
	fs.StringVar(&o.dir, "state-dir", defaultStateDir, "the daemon's state directory (holds known_peers)")
	takesDir(fs, "state-dir")
	fs.StringVar(&o.path, "control", control.DefaultPath, "path of the control socket")
	takesFile(fs, "control")
	return fs, func(_ []string, stdout, stderr io.Writer) int { return runPeers(fs, o, stdout, stderr) }
}

// peersOptions are the flags of "iaxcrypt peers".
type peersOptions struct {
	asJSON        bool
	identity, dir string
	path          string
}

func runPeers(fs *pflag.FlagSet, o peersOptions, stdout, stderr io.Writer) int {
	op, peer := fs.Arg(0), fs.Arg(1)
	switch {
	case op == "list" && fs.NArg() == 1:
	case (op == "verify" || op == "forget") && fs.NArg() == 2:
		if _, err := knownpeers.ParseSelector(peer); err != nil {
			return usageExit(stderr, usagef("%w", err))
		}
	default:
		return usageExit(stderr, usagef("%s", peersUsage))
	}
	if o.identity != "" && op != "verify" {
		return usageExit(stderr, usagef("--identity goes with verify"))
	}
	res, err := peersRequest(op, peer, o.identity, o.dir, o.path)
	var lw listWarnings
	if errors.As(err, &lw) {
		// Bad lines of a hand-edited file: the other records still list.
		fmt.Fprintln(stderr, "iaxcrypt: warning:", lw.error)
	} else if err != nil {
		return fail(stderr, err)
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	switch op {
	case "list":
		printPeers(stdout, res)
	case "verify":
		for _, r := range res.Peers {
			fmt.Fprintf(stdout, "verified %s: identity %s\n", r.Peer, r.Identity)
		}
	case "forget":
		for _, r := range res.Peers {
			fmt.Fprintf(stdout, "forgot %s\n", r.Peer)
		}
	}
	return exitOK
}

// peersRequest runs one peers operation, through the daemon or on the
// file.
func peersRequest(op, peer, identity, dir, path string) (control.Peers, error) {
	store, lineErrs, err := knownpeers.Open(knownpeers.Path(dir), knownpeers.Options{Lock: true})
	if errors.Is(err, knownpeers.ErrLocked) {
		return peersThroughDaemon(op, peer, identity, path)
	}
	if err != nil {
		return control.Peers{}, fmt.Errorf("%w (run as root, or pass --state-dir)", err)
	}
	var rs []knownpeers.Record
	switch op {
	case "list":
		for _, e := range lineErrs {
			err = errors.Join(err, e)
		}
		rs = store.List()
	case "verify":
		rs, err = daemon.VerifyPeer(store, peer, identity, time.Now())
	case "forget":
		rs, err = daemon.ForgetPeer(store, peer)
	}
	if cerr := store.Close(); cerr != nil && op != "list" {
		return control.Peers{}, cerr
	}
	out := control.Peers{File: store.Path(), Peers: daemon.PeerRecords(rs)}
	if err != nil && op != "list" {
		return control.Peers{}, err
	}
	if err != nil { // bad lines: list the rest, and say which lines
		return out, listWarnings{err}
	}
	return out, nil
}

// listWarnings are bad lines met while listing: the records are printed,
// the lines reported.
type listWarnings struct{ error }

func peersThroughDaemon(op, peer, identity, path string) (control.Peers, error) {
	c := control.Client{Path: path}
	ctx := context.Background()
	var (
		res control.Peers
		err error
	)
	switch op {
	case "list":
		res, err = c.PeersList(ctx)
	case "verify":
		res, err = c.PeersVerify(ctx, peer, identity)
	case "forget":
		res, err = c.PeersForget(ctx, peer)
	}
	if errors.Is(err, control.ErrNoDaemon) {
		return res, fmt.Errorf("the known peers are held by a running daemon, but %w", err)
	}
	return res, err
}

// printPeers writes the records as a table.
func printPeers(w io.Writer, p control.Peers) {
	if len(p.Peers) == 0 {
		fmt.Fprintf(w, "no known peers (%s)\n", p.File)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tIDENTITY\tFIRST-SEEN\tLAST-SEEN\tLAST-CALL\tVERIFIED\tWARN")
	for _, r := range p.Peers {
		verified := "no"
		if r.Verified {
			verified = r.VerifiedAt
		}
		warn := "-"
		if r.Presented != "" {
			warn = "identity_changed: presented " + shortID(r.Presented)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Peer, dash(shortID(r.Identity)), dash(r.FirstSeen),
			dash(r.LastSeen), dash(r.LastCall), verified, warn)
	}
	tw.Flush()
}
