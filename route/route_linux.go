package route

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

const (
	frActNop = nl.FR_ACT_NOP // rule action "nop", from linux/fib_rules.h

	// The TUN route must win over the blackhole whenever the TUN exists.
	tunMetric       = 10
	blackholeMetric = 1000000
)

var families = []int{netlink.FAMILY_V4, netlink.FAMILY_V6}

// New returns the Linux router for cfg, acting on the calling process's
// network namespace.
func New(cfg Config) (Router, error) {
	return newLinux(cfg, kernelOps{})
}

// Cleanup removes what a crashed run with the same Config left behind: our
// rules (by table, and by goto/nop at our priorities), every route of our
// table, and a TUN device called cfg.TunName. Call it before creating the
// TUN. It returns one line per object removed.
func Cleanup(cfg Config) (removed []string, err error) {
	return cleanupLinux(cfg, kernelOps{})
}

// Leftovers lists, one line each, the rules and routes of cfg that exist
// now: after a crash, what Up with cfg.TakeOver would take over. It
// changes nothing.
func Leftovers(cfg Config) (found []string, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	found, _, _, err = findLeftovers(kernelOps{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("list leftovers: %w", err)
	}
	return found, nil
}

type linuxRouter struct {
	cfg Config
	ops netlinkOps

	mu        sync.Mutex
	up        bool
	closed    bool
	noIPv6    bool                         // the kernel has no IPv6: nothing to steer or stop
	peers     map[netip.Addr]*netlink.Rule // rule is nil until installed
	rules     []*netlink.Rule              // base rules, in install order
	routes    []*netlink.Route             // table routes, in install order
	linkIndex int
}

func newLinux(cfg Config, ops netlinkOps) (*linuxRouter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &linuxRouter{cfg: cfg, ops: ops, peers: make(map[netip.Addr]*netlink.Rule)}, nil
}

// baseRules returns the rules of one family in the order they are
// installed: the goto target before the goto, the exemption before the
// rule that captures the application's packets.
func (r *linuxRouter) baseRules(family int) []*netlink.Rule {
	p := r.cfg.Priority
	nop := netlink.NewRule()
	nop.Family = family
	nop.Priority = p + offNop
	nop.Type = frActNop

	exempt := netlink.NewRule()
	exempt.Family = family
	exempt.Priority = p + offExempt
	exempt.Mark = r.cfg.FwMark
	exempt.Goto = p + offNop

	app := netlink.NewRule()
	app.Family = family
	app.Priority = p + offApp
	app.IPProto = unix.IPPROTO_UDP
	app.Sport = netlink.NewRulePortRange(r.cfg.AppPort, r.cfg.AppPort)
	app.Table = r.cfg.Table

	return []*netlink.Rule{nop, exempt, app}
}

// tableRoutes returns the routes of table T for one family, kill switch
// first so that there is no moment with a TUN route but no blackhole.
func (r *linuxRouter) tableRoutes(family, linkIndex int) []*netlink.Route {
	blackhole := &netlink.Route{
		Family:   family,
		Dst:      defaultDst(family),
		Table:    r.cfg.Table,
		Type:     unix.RTN_BLACKHOLE,
		Priority: blackholeMetric,
	}
	viaTun := &netlink.Route{
		Family:    family,
		Dst:       defaultDst(family),
		Table:     r.cfg.Table,
		LinkIndex: linkIndex,
		Priority:  tunMetric,
	}
	if family == netlink.FAMILY_V4 {
		viaTun.Scope = netlink.SCOPE_LINK
	}
	return []*netlink.Route{blackhole, viaTun}
}

func (r *linuxRouter) peerRule(addr netip.Addr) *netlink.Rule {
	rule := netlink.NewRule()
	bits := addr.BitLen()
	rule.Dst = &net.IPNet{IP: net.IP(addr.AsSlice()), Mask: net.CIDRMask(bits, bits)}
	rule.Family = netlink.FAMILY_V4
	if addr.Is6() {
		rule.Family = netlink.FAMILY_V6
	}
	rule.Priority = r.cfg.Priority + offPeer
	rule.IPProto = unix.IPPROTO_UDP
	rule.Table = r.cfg.Table
	return rule
}

func (r *linuxRouter) Up() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("route up: %w", ErrClosed)
	}
	if r.up {
		return nil
	}
	found, rules, routes, err := findLeftovers(r.ops, r.cfg)
	if err != nil {
		return fmt.Errorf("route up: %w", err)
	}
	if len(found) > 0 && !r.cfg.TakeOver {
		return &StaleError{Found: found}
	}
	idx, err := r.ops.LinkIndex(r.cfg.TunName)
	if err != nil {
		return fmt.Errorf("route up: find TUN %q (create it before routing into it): %w", r.cfg.TunName, err)
	}
	r.linkIndex = idx
	plan := newTakeOverPlan()
	if len(found) > 0 {
		if plan, err = r.planTakeOver(found, rules, routes); err != nil {
			return err
		}
	}
	if err := r.install(plan); err != nil {
		return fmt.Errorf("route up: %w", err)
	}
	r.up = true
	return nil
}

// install brings routing to the state of a fresh Up, keeping what plan
// says is in place already. The order never opens the direct path: per
// family the blackhole, then the route into the TUN, then the rules that
// steer into the table; peer rules after; removals of stale entries
// last, once every route into the new TUN is in. On failure it removes
// what it added (rules first, the kill switch last) and forgets the rest.
func (r *linuxRouter) install(plan *takeOverPlan) (err error) {
	var addedRules []*netlink.Rule
	var addedRoutes []*netlink.Route
	defer func() {
		if err == nil {
			return
		}
		var errs []error
		for i := len(addedRules) - 1; i >= 0; i-- {
			if derr := r.ops.RuleDel(addedRules[i]); derr != nil && !isNotFound(derr) {
				errs = append(errs, fmt.Errorf("delete %s: %w", describeRule(addedRules[i]), derr))
			}
		}
		for i := len(addedRoutes) - 1; i >= 0; i-- {
			rt := addedRoutes[i]
			if derr := r.ops.RouteDel(rt); derr != nil && !isNotFound(derr) && !errors.Is(derr, unix.ENODEV) {
				errs = append(errs, fmt.Errorf("delete %s: %w", describeRoute(rt, r.cfg.TunName), derr))
			}
		}
		if uerr := errors.Join(errs...); uerr != nil {
			err = errors.Join(err, fmt.Errorf("undo partial setup: %w", uerr))
		}
		r.rules, r.routes = nil, nil
		for addr := range r.peers {
			r.peers[addr] = nil
		}
	}()
	addRule := func(rule *netlink.Rule) error {
		if plan.keepRules[describeRule(rule)] {
			return nil
		}
		if err := r.ops.RuleAdd(rule); err != nil {
			return fmt.Errorf("add %s: %w", describeRule(rule), err)
		}
		addedRules = append(addedRules, rule)
		return nil
	}

	for _, fam := range families {
		routes := r.tableRoutes(fam, r.linkIndex)
		blackhole, viaTun := routes[0], routes[1]
		if !plan.blackhole[fam] {
			if err := r.ops.RouteAdd(blackhole); err != nil {
				if fam == netlink.FAMILY_V6 && isNoIPv6(err) {
					r.noIPv6 = true
					continue
				}
				return fmt.Errorf("add %s: %w", describeRoute(blackhole, ""), err)
			}
			addedRoutes = append(addedRoutes, blackhole)
		}
		r.routes = append(r.routes, blackhole)
		switch old := plan.oldTUN[fam]; {
		case plan.tunRoute[fam]:
		case len(old) > 0:
			// A route of the same metric into another device: adding
			// ours would fail with EEXIST, deleting it first would
			// leave only the blackhole for a moment (safe) but replacing
			// it is one step and keeps packets flowing.
			if err := r.ops.RouteReplace(viaTun); err != nil {
				return fmt.Errorf("replace %s with %s: %w", describeRoute(&old[0], ""), describeRoute(viaTun, r.cfg.TunName), err)
			}
			plan.oldTUN[fam] = old[1:]
			addedRoutes = append(addedRoutes, viaTun)
		default:
			if err := r.ops.RouteAdd(viaTun); err != nil {
				return fmt.Errorf("add %s: %w", describeRoute(viaTun, r.cfg.TunName), err)
			}
			addedRoutes = append(addedRoutes, viaTun)
		}
		r.routes = append(r.routes, viaTun)
		for _, rule := range r.baseRules(fam) {
			if err := addRule(rule); err != nil {
				return err
			}
			r.rules = append(r.rules, rule)
		}
	}
	for _, addr := range sortedPeers(r.peers) {
		if addr.Is6() && r.noIPv6 {
			return fmt.Errorf("peer %s: %w: the kernel has IPv6 disabled", addr, ErrInvalidPeer)
		}
		rule := r.peerRule(addr)
		if err := addRule(rule); err != nil {
			return err
		}
		r.peers[addr] = rule
	}

	// Every route into the new TUN is in: what is left of the earlier run
	// and not part of this one can go.
	for _, fam := range families {
		for i := range plan.oldTUN[fam] {
			rt := &plan.oldTUN[fam][i]
			if err := r.ops.RouteDel(rt); err != nil && !isNotFound(err) && !errors.Is(err, unix.ENODEV) {
				return fmt.Errorf("delete stale %s: %w", describeRoute(rt, ""), err)
			}
		}
	}
	for i := range plan.staleRules {
		rule := &plan.staleRules[i]
		if err := r.ops.RuleDel(rule); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete stale %s: %w", describeRule(rule), err)
		}
	}
	return nil
}

func (r *linuxRouter) installPeer(addr netip.Addr) error {
	if addr.Is6() && r.noIPv6 {
		return fmt.Errorf("peer %s: %w: the kernel has IPv6 disabled", addr, ErrInvalidPeer)
	}
	rule := r.peerRule(addr)
	if err := r.ops.RuleAdd(rule); err != nil {
		return fmt.Errorf("add %s: %w", describeRule(rule), err)
	}
	r.peers[addr] = rule
	return nil
}

func (r *linuxRouter) AddPeer(addr netip.Addr) error {
	addr, err := checkPeer(addr)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("add peer %s: %w", addr, ErrClosed)
	}
	if rule, ok := r.peers[addr]; ok && (rule != nil || !r.up) {
		return nil
	}
	if !r.up {
		r.peers[addr] = nil
		return nil
	}
	if err := r.installPeer(addr); err != nil {
		return fmt.Errorf("add peer: %w", err)
	}
	return nil
}

func (r *linuxRouter) DelPeer(addr netip.Addr) error {
	addr, err := checkPeer(addr)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rule, ok := r.peers[addr]
	if !ok {
		return fmt.Errorf("delete peer %s: %w", addr, ErrUnknownPeer)
	}
	if rule != nil {
		if err := r.ops.RuleDel(rule); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete peer: delete %s: %w", describeRule(rule), err)
		}
	}
	delete(r.peers, addr)
	return nil
}

func (r *linuxRouter) Peers() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedPeers(r.peers)
}

func (r *linuxRouter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.up = false
	if err := r.removeAll(); err != nil {
		return fmt.Errorf("route close: %w (run \"iaxcrypt down\" to retry)", err)
	}
	return nil
}

// removeAll deletes peer rules, then base rules, then routes, so the
// kill switch is the last thing to go. Objects already gone (the TUN route
// vanishes with the TUN) count as removed.
func (r *linuxRouter) removeAll() error {
	var errs []error
	for _, addr := range sortedPeers(r.peers) {
		rule := r.peers[addr]
		if rule == nil {
			continue
		}
		if err := r.ops.RuleDel(rule); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", describeRule(rule), err))
		}
		r.peers[addr] = nil
	}
	for i := len(r.rules) - 1; i >= 0; i-- {
		if err := r.ops.RuleDel(r.rules[i]); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", describeRule(r.rules[i]), err))
		}
	}
	r.rules = nil
	for i := len(r.routes) - 1; i >= 0; i-- {
		rt := r.routes[i]
		if err := r.ops.RouteDel(rt); err != nil && !isNotFound(err) && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("delete %s: %w", describeRoute(rt, r.cfg.TunName), err))
		}
	}
	r.routes = nil
	return errors.Join(errs...)
}

// isOurRule reports whether a listed rule belongs to a router with cfg:
// it looks up our table, or it is the exemption goto or its nop target at
// our priorities. Other software's rules are never matched.
func isOurRule(cfg Config, rule *netlink.Rule) bool {
	if rule.Table == cfg.Table {
		return true
	}
	p := cfg.Priority
	switch rule.Priority {
	case p + offExempt:
		return rule.Goto == p+offNop && rule.Mark == cfg.FwMark
	case p + offNop:
		// The kernel reports a nop as a rule with no table, no
		// selector and no goto; netlink does not parse its action.
		return rule.Table == 0 && rule.Goto < 0 && rule.Mark == 0 && rule.IPProto == 0 &&
			rule.Dst == nil && rule.Src == nil && rule.Sport == nil && rule.IifName == "" && rule.OifName == ""
	}
	return false
}

// findLeftovers lists our rules and every route of our table.
func findLeftovers(ops netlinkOps, cfg Config) (found []string, rules []netlink.Rule, routes []netlink.Route, err error) {
	for _, fam := range families {
		list, err := ops.RuleList(fam)
		if err != nil {
			if fam == netlink.FAMILY_V6 && isNoIPv6(err) {
				continue
			}
			return nil, nil, nil, fmt.Errorf("list rules: %w", err)
		}
		for i := range list {
			if isOurRule(cfg, &list[i]) {
				rules = append(rules, list[i])
				found = append(found, describeRule(&list[i]))
			}
		}
	}
	for _, fam := range families {
		list, err := ops.RouteListTable(fam, cfg.Table)
		if err != nil {
			if fam == netlink.FAMILY_V6 && isNoIPv6(err) {
				continue
			}
			return nil, nil, nil, fmt.Errorf("list routes of table %d: %w", cfg.Table, err)
		}
		for i := range list {
			if list[i].Table != cfg.Table {
				continue
			}
			if list[i].Family == 0 {
				list[i].Family = fam
			}
			routes = append(routes, list[i])
			found = append(found, describeRoute(&list[i], ""))
		}
	}
	return found, rules, routes, nil
}

func cleanupLinux(cfg Config, ops netlinkOps) ([]string, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	_, rules, routes, err := findLeftovers(ops, cfg)
	if err != nil {
		return nil, fmt.Errorf("cleanup: %w", err)
	}
	var removed []string
	var errs []error
	for i := range rules {
		what := describeRule(&rules[i])
		if err := ops.RuleDel(&rules[i]); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", what, err))
			continue
		}
		removed = append(removed, "removed "+what)
	}
	for i := range routes {
		what := describeRoute(&routes[i], "")
		if err := ops.RouteDel(&routes[i]); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", what, err))
			continue
		}
		removed = append(removed, "removed "+what)
	}
	if ops.LinkExists(cfg.TunName) {
		if err := ops.DeleteTUN(cfg.TunName); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, "removed device "+cfg.TunName)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("cleanup: %w", err)
	}
	return removed, nil
}

func sortedPeers(m map[netip.Addr]*netlink.Rule) []netip.Addr { return sortedAddrs(m) }
