// Package route owns the routing that steers the local IAX2 application's
// packets into the daemon's TUN device, and the kill switch that keeps them
// from leaving in clear when the daemon is gone.
//
// # Linux
//
// Policy rules, for IPv4 and IPv6 alike, at priorities counted from
// Config.Priority (P):
//
//	P    fwmark M goto P+9                     the daemon's own socket skips our rules
//	P+1  ipproto udp sport APP_PORT lookup T   the application's IAX2 packets
//	P+2  to PEER ipproto udp lookup T          one per peer added with AddPeer
//	P+9  nop                                   target of the goto
//
// and in table T:
//
//	default dev TUN metric 10
//	blackhole default metric 1000000           the kill switch
//
// The exemption is a goto rather than the "not fwmark M" of wg-quick
// because FIB_RULE_INVERT negates a rule's whole selector: "not fwmark M to
// PEER ipproto udp" would match every packet that is not (marked and UDP and
// to PEER), far more than intended. Jumping over our rules lets marked packets
// meet every other rule of the system, as wg-quick's do.
//
// # Kill switch
//
// If the daemon dies, the kernel deletes the TUN and with it the route
// "default dev TUN"; the rules and the blackhole route remain, so the
// application's IAX2 packets are dropped instead of taking the direct path
// in clear. This holds until the next run takes the leftovers over, or
// until "iaxcrypt down" (Cleanup) removes the rules and so restores the
// direct path on purpose. An encrypted call never continues in cleartext
// by accident. Router.Close removes the kill switch too: a clean exit is
// deliberate.
//
// # Take-over
//
// A new run must not remove the leftovers before its own route is in
// place: in between, a call still in progress would send its frames in
// clear. With Config.TakeOver, Up sorts what it finds:
//
//   - rules identical to those this Config installs, peer rules of peers
//     this run routes too, and the blackholes are kept as they are;
//   - a route "default dev OTHER metric 10" (into a device that still
//     exists, e.g. a TUN of another name) is replaced in one step by the
//     route into the new TUN;
//   - peer rules of peers this run does not route are removed, last;
//   - anything else (another application port, another priority, a route
//     or rule of another shape in table T, selectors we never set) makes Up
//     fail with a *StaleError naming it, and nothing is changed.
//
// Then it adds, in the order a fresh Up uses, whatever is missing: the
// route into the new TUN comes before any removal, and the sport rule and
// the blackhole are never removed at all. The end state is that of a
// fresh Up. If a step fails, Up removes what it added (the TUN route
// first, so the blackhole takes over again) and keeps what it found; a
// route it replaced is not restored. The daemon's TUN must be new: a
// stale TUN of the same name has to be deleted before it is created again
// (its route goes with it, the blackhole stays).
//
// # macOS
//
// macOS has no policy routing that can match ports; pf can. Up loads the
// anchor com.apple/iaxcrypt (see pfRules): route-to into the utun for the
// application's UDP port, and a block rule; pf is enabled with a reference
// kept in Config.TokenFile. The anchor outlives the daemon, so a crash
// drops the application's packets instead of sending them in clear, and
// the next Up replaces it in one step. AddPeer adds a host route into the
// utun through the routing socket (see rtmsg.go), reading the kernel's
// answer back; the daemon's sockets are pinned to the real interface
// (package platform) so those routes do not catch them. Close removes the
// host routes first (before the utun goes), then the anchor. Everything
// but the system calls is tested on Linux; none of it has run on a Mac.
package route

import (
	"fmt"
	"net/netip"
	"slices"
)

// Defaults for Config. The table and mark are written in hex to read as the
// IAX2 port 4569; the priority keeps our rules ahead of "lookup main"
// (32766) with room for other software's rules around them.
const (
	DefaultTable    = 0x4569 // 17769
	DefaultPriority = 4560
	DefaultFwMark   = 0x4569
	DefaultAppPort  = 4569
)

// PrioritySpan is how many consecutive rule priorities, starting at
// Config.Priority, the Linux router uses.
const PrioritySpan = 10

// Offsets of each rule from Config.Priority.
const (
	offExempt = 0
	offApp    = 1
	offPeer   = 2
	offNop    = PrioritySpan - 1
)

// Config says which TUN, port, table, priorities and mark the router uses.
// Zero fields take the defaults above (TunName has none and is required).
type Config struct {
	TunName  string // the TUN device, e.g. "iax0" or "utun5"
	AppPort  uint16 // the local IAX2 application's UDP port
	Table    int    // routing table for the TUN and the kill switch (Linux)
	Priority int    // first rule priority; rules use Priority..Priority+PrioritySpan-1 (Linux)
	FwMark   uint32 // the mark on the daemon's socket (Linux SO_MARK)

	// TakeOver makes Up adopt the routing that an earlier run with the
	// same settings left behind (Linux), instead of failing with
	// ErrStale: see "Take-over" in the package comment.
	TakeOver bool

	// macOS only.
	PfAnchor  string       // pf anchor of the rules; DefaultPfAnchor when empty
	TokenFile string       // keeps pf's enable reference across runs; none when empty
	Egress    string       // the real interface, for the pass-through source translation
	TunAddrs  []netip.Addr // the utun's addresses, translated to Egress's when passed through
}

// Router installs and removes the routing of one daemon run. Its methods
// are safe for concurrent use.
type Router interface {
	// Up installs rules, routes and the kill switch, and routes for peers
	// added before. If an earlier run left routing behind, it fails with
	// an error matching ErrStale (a *StaleError listing what it found),
	// unless Config.TakeOver is set and the leftovers are what this Config
	// installs; then it takes them over without ever opening the direct
	// path. If Up fails, it removes what it added and keeps what it found.
	Up() error
	// AddPeer routes UDP to addr into the TUN. Before Up, the peer is
	// remembered and installed by Up.
	AddPeer(addr netip.Addr) error
	// DelPeer removes what AddPeer installed for addr.
	DelPeer(addr netip.Addr) error
	// Peers returns the added peers, sorted.
	Peers() []netip.Addr
	// Close removes everything the router installed, kill switch
	// included. It is idempotent.
	Close() error
}

// withDefaults returns cfg with zero fields set to the defaults, or an
// error saying which field is invalid.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.TunName == "" {
		return cfg, fmt.Errorf("route config: %w: the TUN name is empty", ErrInvalidConfig)
	}
	if cfg.AppPort == 0 {
		cfg.AppPort = DefaultAppPort
	}
	if cfg.Table == 0 {
		cfg.Table = DefaultTable
	}
	if cfg.Priority == 0 {
		cfg.Priority = DefaultPriority
	}
	if cfg.FwMark == 0 {
		cfg.FwMark = DefaultFwMark
	}
	// 253-255 are the kernel's default, main and local tables.
	if cfg.Table < 1 || (cfg.Table >= 253 && cfg.Table <= 255) || int64(cfg.Table) > 0xffffffff {
		return cfg, fmt.Errorf("route config: %w: table %d is reserved or out of range; choose another with --table", ErrInvalidConfig, cfg.Table)
	}
	// Rules must come after "lookup local" (0) and before "lookup main"
	// (32766), or they would either break local delivery or never match.
	if cfg.Priority < 1 || cfg.Priority+PrioritySpan > 32766 {
		return cfg, fmt.Errorf("route config: %w: priority %d must be in 1..%d", ErrInvalidConfig, cfg.Priority, 32766-PrioritySpan)
	}
	return cfg, nil
}

// checkPeer returns addr in canonical form (IPv4-mapped IPv6 unmapped), or
// an error if it cannot be a peer host.
func checkPeer(addr netip.Addr) (netip.Addr, error) {
	if !addr.IsValid() {
		return addr, fmt.Errorf("peer: %w: no address given", ErrInvalidPeer)
	}
	addr = addr.Unmap()
	switch {
	case addr.Zone() != "":
		return addr, fmt.Errorf("peer %s: %w: scoped addresses are not supported; use a global address", addr, ErrInvalidPeer)
	case addr.IsUnspecified(), addr.IsLoopback(), addr.IsMulticast(), addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		// Loopback never reaches policy rules (the local table wins),
		// and the others are not hosts.
		return addr, fmt.Errorf("peer %s: %w: it must be a unicast address of another host", addr, ErrInvalidPeer)
	}
	return addr, nil
}

func sortAddrs(a []netip.Addr) { slices.SortFunc(a, netip.Addr.Compare) }

func sortedAddrs[V any](m map[netip.Addr]V) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sortAddrs(out)
	return out
}
