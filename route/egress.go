package route

// Following the default route's interface on macOS. The daemon's sockets
// are pinned to the real interface (IP_BOUND_IF) and the pf anchor's
// source translation names it; after a Wi-Fi/Ethernet switch or a sleep
// that interface may no longer carry the default route. EgressFollower
// reads the routing socket's messages, and when one may have moved the
// default route it asks, after the burst settles, which interface carries
// it now and hands a change to Apply. It has no build tag: the decisions
// are tested on Linux with routing messages built byte for byte (and
// compared with golang.org/x/net/route on a Mac); egress_darwin.go opens
// the socket.

import (
	"context"
	"log/slog"
	"time"
)

// DefaultEgressSettle is how long EgressFollower waits after the last
// relevant routing message before it looks the default route up: an
// interface switch or a wake from sleep comes as a burst of messages, and
// the default route is briefly gone in between.
const DefaultEgressSettle = 500 * time.Millisecond

// mayMoveDefault reports whether the routing message b may have changed
// which interface carries the default route: a default route (IPv4 or
// IPv6, destination unspecified with no or an all-zero netmask) added,
// deleted or changed, an interface's state changed (RTM_IFINFO), or an
// address added or removed. Host routes, such as the daemon's own routes
// to peers, and RTM_GET answers do not; nor does a malformed message.
func mayMoveDefault(b []byte) bool {
	r, ok, err := parseRtMsg(b)
	if err != nil {
		return false
	}
	switch r.typ {
	case rtmIfinfo, rtmNewAdr, rtmDelAdr:
		return true
	case rtmAdd, rtmDelete, rtmChange:
	default:
		return false
	}
	if !ok || r.flags&rtfHost != 0 {
		return false
	}
	dst, ok := sockaddrAddr(r.addrs[rtaxIndex(rtaDst)])
	if !ok || !dst.IsUnspecified() {
		return false
	}
	return zeroNetmask(r.addrs[rtaxIndex(rtaNetmask)])
}

// zeroNetmask reports whether a routing message's netmask sockaddr is
// that of a default route: absent, empty (XNU sends a zero-length
// sockaddr for a mask of no bits), or with every byte after its length
// and family zero.
func zeroNetmask(sa []byte) bool {
	if len(sa) <= 2 {
		return true
	}
	for _, c := range sa[2:] {
		if c != 0 {
			return false
		}
	}
	return true
}

// EgressFollower keeps the daemon on the interface of the default route.
type EgressFollower struct {
	// Current is the interface the daemon uses now.
	Current string
	// Lookup returns the interface of the default route.
	Lookup func() (string, error)
	// Apply moves the daemon from old to new (re-pins its sockets,
	// reloads the pf anchor). On error the daemon stays on old and the
	// next relevant message tries again.
	Apply func(old, new string) error
	// Settle is the quiet time before a lookup; DefaultEgressSettle
	// when zero.
	Settle time.Duration
	// Log gets one line per change or failure; slog.Default when nil.
	Log *slog.Logger
}

// Run reads routing messages from msgs until ctx is done or msgs is
// closed, and follows the default route's interface. It returns the
// interface it ended on.
func (f *EgressFollower) Run(ctx context.Context, msgs <-chan []byte) string {
	settle := f.Settle
	if settle <= 0 {
		settle = DefaultEgressSettle
	}
	log := f.Log
	if log == nil {
		log = slog.Default()
	}
	timer := time.NewTimer(settle)
	timer.Stop()
	defer timer.Stop()
	noRoute := false // logged once per outage
	for {
		select {
		case <-ctx.Done():
			return f.Current
		case b, ok := <-msgs:
			if !ok {
				return f.Current
			}
			if mayMoveDefault(b) {
				timer.Reset(settle)
			}
		case <-timer.C:
			name, err := f.Lookup()
			switch {
			case err != nil:
				if !noRoute {
					log.Warn("no default route; the daemon's sockets stay on their interface until one appears", "interface", f.Current, "err", err)
					noRoute = true
				}
			case name == f.Current:
				noRoute = false
			default:
				noRoute = false
				if err := f.Apply(f.Current, name); err != nil {
					log.Error("the default route moved but the daemon could not follow", "from", f.Current, "to", name, "err", err,
						"fix", "restart the daemon, or pass --interface")
					continue
				}
				log.Info("the default route moved: the daemon's sockets and pf's source translation follow", "from", f.Current, "to", name)
				f.Current = name
			}
		}
	}
}
