package route

// The macOS router is built from route(8) command lines. It lives in a file
// without a build tag so that its logic and exact argument vectors are
// tested on any OS with a fake Runner; route_darwin.go only wires it to
// the real command.

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
)

// Runner runs one command and returns its combined output. It exists so
// tests can record the commands instead of running them.
type Runner interface {
	Run(name string, args ...string) ([]byte, error)
}

// routeCmd is the path of macOS's route(8).
const routeCmd = "/sbin/route"

func inetFlag(addr netip.Addr) string {
	if addr.Is6() {
		return "-inet6"
	}
	return "-inet"
}

// darwinAddHostRouteArgs returns the arguments of route(8) that send
// traffic for host addr into the interface ifName. -n keeps route(8) from
// resolving names.
func darwinAddHostRouteArgs(addr netip.Addr, ifName string) []string {
	return []string{"-n", "add", inetFlag(addr), "-host", addr.String(), "-interface", ifName}
}

// darwinDelHostRouteArgs returns the arguments that remove that route.
func darwinDelHostRouteArgs(addr netip.Addr, ifName string) []string {
	return []string{"-n", "delete", inetFlag(addr), "-host", addr.String(), "-interface", ifName}
}

// cmdRouter is the macOS Router: host routes per peer, nothing else (see
// the package comment for what that means for the kill switch).
type cmdRouter struct {
	cfg Config
	run Runner

	mu     sync.Mutex
	up     bool
	closed bool
	peers  map[netip.Addr]bool // value: a route is installed
}

func newCmdRouter(cfg Config, run Runner) (*cmdRouter, error) {
	if cfg.TunName == "" {
		return nil, fmt.Errorf("route config: %w: the TUN name is empty", ErrInvalidConfig)
	}
	return &cmdRouter{cfg: cfg, run: run, peers: make(map[netip.Addr]bool)}, nil
}

func (r *cmdRouter) runRoute(args []string) error {
	out, err := r.run.Run(routeCmd, args...)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", routeCmd, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (r *cmdRouter) addRoute(addr netip.Addr) error {
	if err := r.runRoute(darwinAddHostRouteArgs(addr, r.cfg.TunName)); err != nil {
		return err
	}
	r.peers[addr] = true
	return nil
}

func (r *cmdRouter) delRoute(addr netip.Addr) error {
	err := r.runRoute(darwinDelHostRouteArgs(addr, r.cfg.TunName))
	r.peers[addr] = false
	return err
}

// Up installs host routes for peers added before; nothing else exists to
// install on macOS.
func (r *cmdRouter) Up() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("route up: %w", ErrClosed)
	}
	if r.up {
		return nil
	}
	for _, addr := range sortedAddrs(r.peers) {
		if err := r.addRoute(addr); err != nil {
			r.removeAll()
			return fmt.Errorf("route up: %w", err)
		}
	}
	r.up = true
	return nil
}

func (r *cmdRouter) AddPeer(addr netip.Addr) error {
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

func (r *cmdRouter) DelPeer(addr netip.Addr) error {
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

func (r *cmdRouter) Peers() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedAddrs(r.peers)
}

func (r *cmdRouter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.up = false
	if err := r.removeAll(); err != nil {
		return fmt.Errorf("route close: %w", err)
	}
	return nil
}

// removeAll deletes every installed host route. A route that is already
// gone (the utun vanished and took it along) fails in route(8) with "not
// in table", which counts as removed.
func (r *cmdRouter) removeAll() error {
	var errs []error
	for _, addr := range sortedAddrs(r.peers) {
		if !r.peers[addr] {
			continue
		}
		if err := r.delRoute(addr); err != nil && !strings.Contains(err.Error(), "not in table") {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func sortedAddrs[V any](m map[netip.Addr]V) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sortAddrs(out)
	return out
}
