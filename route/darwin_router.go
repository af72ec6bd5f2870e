package route

// The macOS router: a pf anchor captures the application's port and is
// the kill switch; peers added with AddPeer get host routes through the
// routing socket. It lives in a file without a build tag so that its
// logic, the messages it writes and the pfctl calls it makes are tested
// on Linux with a fake darwinOps; route_darwin.go wires the real ones.

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"syscall"
)

// darwinOps is every system call the macOS router makes.
type darwinOps interface {
	// RouteMsg writes one routing message and returns the kernel's
	// answer; an error carries the kernel's errno (a syscall.Errno).
	RouteMsg(msg []byte) (rtReply, error)
	// NextSeq numbers routing messages.
	NextSeq() int32
	// IfIndex returns the index of a network interface.
	IfIndex(name string) (int, error)
	// Pfctl runs pfctl with args and stdin and returns its output; a
	// non-zero exit is an error that includes the output.
	Pfctl(stdin string, args ...string) (string, error)
	// LoadToken and SaveToken keep pf's enable reference in a file so a
	// later run can give back the one a crashed run took.
	LoadToken() (uint64, bool)
	SaveToken(t uint64) error
}

type darwinRouter struct {
	cfg Config
	ops darwinOps

	mu       sync.Mutex
	up       bool
	closed   bool
	token    uint64
	tunIndex int
	peers    map[netip.Addr]bool // value: a host route is installed
}

func newDarwin(cfg Config, ops darwinOps) (*darwinRouter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.PfAnchor == "" {
		cfg.PfAnchor = DefaultPfAnchor
	}
	return &darwinRouter{cfg: cfg, ops: ops, peers: make(map[netip.Addr]bool)}, nil
}

func (r *darwinRouter) pfConfig() pfConfig {
	return pfConfig{Tun: r.cfg.TunName, AppPort: r.cfg.AppPort, Egress: r.cfg.Egress, TunAddrs: r.cfg.TunAddrs}
}

// Up checks that pf evaluates the anchor, takes a reference that keeps pf
// enabled (given back by Close, or by the next run if this one dies),
// loads the anchor, which replaces a crashed run's in one step, reads it
// back, and installs the peers' host routes. If it fails after loading,
// the kill switch stays (and Close or "iaxcrypt down" removes it).
func (r *darwinRouter) Up() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("route up: %w", ErrClosed)
	}
	if r.up {
		return nil
	}
	idx, err := r.ops.IfIndex(r.cfg.TunName)
	if err != nil {
		return fmt.Errorf("route up: find utun %q (create it before routing into it): %w", r.cfg.TunName, err)
	}
	r.tunIndex = idx
	main, err := r.ops.Pfctl("", pfMainRulesArgs()...)
	if err != nil {
		return fmt.Errorf("route up: read pf's main ruleset: %w", err)
	}
	if !mainEvaluatesAnchor(main, r.cfg.PfAnchor) {
		return fmt.Errorf("route up: pf's main ruleset does not evaluate anchor %q (macOS's /etc/pf.conf has `anchor \"com.apple/*\"`; restore it with `sudo pfctl -f /etc/pf.conf`)", r.cfg.PfAnchor)
	}
	out, err := r.ops.Pfctl("", pfEnableArgs()...)
	if err != nil {
		return fmt.Errorf("route up: enable pf: %w", err)
	}
	tok, ok := parsePfToken(out)
	if !ok {
		return fmt.Errorf("route up: enable pf: no reference token in pfctl's output %q", strings.TrimSpace(out))
	}
	// The new reference first, then the crashed run's back: pf stays
	// enabled throughout.
	if old, ok := r.ops.LoadToken(); ok && old != tok {
		r.ops.Pfctl("", pfReleaseArgs(old)...) // unknown to pf after a reboot: fine
	}
	r.token = tok
	if err := r.ops.SaveToken(tok); err != nil {
		return fmt.Errorf("route up: %w", err)
	}
	if err := r.loadAnchor(); err != nil {
		return fmt.Errorf("route up: %w", err)
	}
	for _, addr := range sortedAddrs(r.peers) {
		if err := r.addRoute(addr); err != nil {
			r.removeRoutes()
			return fmt.Errorf("route up: %w", err)
		}
	}
	r.up = true
	return nil
}

// loadAnchor loads the rules and reads them back.
func (r *darwinRouter) loadAnchor() error {
	c := r.pfConfig()
	if _, err := r.ops.Pfctl(pfRules(c), pfLoadArgs(r.cfg.PfAnchor)...); err != nil {
		return fmt.Errorf("load pf anchor %s: %w", r.cfg.PfAnchor, err)
	}
	shown, err := r.ops.Pfctl("", pfShowArgs(r.cfg.PfAnchor)...)
	if err != nil {
		return fmt.Errorf("read back pf anchor %s: %w", r.cfg.PfAnchor, err)
	}
	if missing := missingPfRules(shown, c); len(missing) > 0 {
		return fmt.Errorf("pf anchor %s lacks, after loading: %s", r.cfg.PfAnchor, strings.Join(missing, ", "))
	}
	return nil
}

// SetEgress reloads the anchor for a new real interface (the source
// translation of passed-through traffic names it).
func (r *darwinRouter) SetEgress(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.Egress == name {
		return nil
	}
	r.cfg.Egress = name
	if !r.up {
		return nil
	}
	return r.loadAnchor()
}

// routeMsg sends a host-route message for addr and maps the kernel's
// answer to an error that says what to do.
func (r *darwinRouter) routeMsg(typ int, addr netip.Addr) error {
	msg, err := hostRouteMsg(typ, r.ops.NextSeq(), addr, r.tunIndex, r.cfg.TunName)
	if err != nil {
		return err
	}
	_, err = r.ops.RouteMsg(msg)
	return err
}

func (r *darwinRouter) addRoute(addr netip.Addr) error {
	if gw, ok := r.defaultGateway(addr); ok && gw == addr {
		return fmt.Errorf("host route to %s: %w: it is the gateway of the default route, and routing it into %s would pull all traffic through the daemon", addr, ErrInvalidPeer, r.cfg.TunName)
	}
	err := r.routeMsg(rtmAdd, addr)
	switch {
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("host route to %s via %s: a route to that host exists already (another VPN's?): %w", addr, r.cfg.TunName, err)
	case errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("host route to %s via %s: %w (the utun has no address of that family)", addr, r.cfg.TunName, err)
	case err != nil:
		return fmt.Errorf("host route to %s via %s: %w", addr, r.cfg.TunName, err)
	}
	r.peers[addr] = true
	return nil
}

// defaultGateway asks the kernel for the gateway of the route that
// reaches addr's family's default.
func (r *darwinRouter) defaultGateway(addr netip.Addr) (netip.Addr, bool) {
	any := netip.IPv4Unspecified()
	if addr.Is6() {
		any = netip.IPv6Unspecified()
	}
	msg, err := getRouteMsg(r.ops.NextSeq(), any)
	if err != nil {
		return netip.Addr{}, false
	}
	rep, err := r.ops.RouteMsg(msg)
	if err != nil || rep.flags&rtfGateway == 0 {
		return netip.Addr{}, false
	}
	return sockaddrAddr(rep.addrs[rtaxIndex(rtaGateway)])
}

// delRoute removes a peer's host route; one already gone (with the utun)
// counts as removed.
func (r *darwinRouter) delRoute(addr netip.Addr) error {
	err := r.routeMsg(rtmDelete, addr)
	r.peers[addr] = false
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("delete host route to %s via %s: %w", addr, r.cfg.TunName, err)
	}
	return nil
}

func (r *darwinRouter) removeRoutes() error {
	var errs []error
	for _, addr := range sortedAddrs(r.peers) {
		if r.peers[addr] {
			if err := r.delRoute(addr); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (r *darwinRouter) AddPeer(addr netip.Addr) error {
	addr, err := checkPeer(addr)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("add peer %s: %w", addr, ErrClosed)
	}
	if installed, ok := r.peers[addr]; ok && (installed || !r.up) {
		return nil
	}
	if !r.up {
		r.peers[addr] = false
		return nil
	}
	if err := r.addRoute(addr); err != nil {
		return fmt.Errorf("add peer: %w", err)
	}
	return nil
}

func (r *darwinRouter) DelPeer(addr netip.Addr) error {
	addr, err := checkPeer(addr)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	installed, ok := r.peers[addr]
	if !ok {
		return fmt.Errorf("delete peer %s: %w", addr, ErrUnknownPeer)
	}
	if installed {
		if err := r.delRoute(addr); err != nil {
			return fmt.Errorf("delete peer: %w", err)
		}
	}
	delete(r.peers, addr)
	return nil
}

func (r *darwinRouter) Peers() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedAddrs(r.peers)
}

// Close removes the host routes (call it before the utun is destroyed:
// the kernel needs the interface to find them), then the anchor, kill
// switch included, and gives pf's reference back.
func (r *darwinRouter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	wasUp := r.up
	r.up = false
	errs := []error{r.removeRoutes()}
	if wasUp || r.token != 0 {
		errs = append(errs, darwinCleanup(r.ops, r.cfg.PfAnchor))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("route close: %w (run \"iaxcrypt down\" to retry)", err)
	}
	return nil
}

// darwinLeftovers lists the rules a run left in the anchor.
func darwinLeftovers(ops darwinOps, anchor string) ([]string, error) {
	shown, err := ops.Pfctl("", pfShowArgs(anchor)...)
	if err != nil {
		return nil, fmt.Errorf("list pf anchor %s: %w", anchor, err)
	}
	var found []string
	for _, line := range strings.Split(shown, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			found = append(found, "pf anchor "+anchor+": "+line)
		}
	}
	return found, nil
}

// darwinCleanup flushes the anchor and gives back the saved pf reference.
func darwinCleanup(ops darwinOps, anchor string) error {
	var errs []error
	if _, err := ops.Pfctl("", pfFlushArgs(anchor)...); err != nil {
		errs = append(errs, fmt.Errorf("flush pf anchor %s: %w", anchor, err))
	}
	if tok, ok := ops.LoadToken(); ok {
		if _, err := ops.Pfctl("", pfReleaseArgs(tok)...); err != nil {
			errs = append(errs, fmt.Errorf("give back pf reference: %w", err))
		}
		if err := ops.SaveToken(0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
