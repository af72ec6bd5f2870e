package route

import (
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// takeOverPlan sorts what an earlier run left behind: what Up keeps, what
// it replaces and what it removes once the route into the new TUN is in
// place. The zero plan (nothing found) makes install a fresh Up.
type takeOverPlan struct {
	keepRules  map[string]bool         // describeRule of leftover rules identical to one of ours
	blackhole  map[int]bool            // family: the kill switch is in place
	tunRoute   map[int]bool            // family: the route into this TUN is in place
	oldTUN     map[int][]netlink.Route // family: default routes into another device
	staleRules []netlink.Rule          // peer rules of peers this run does not route, and duplicates
}

func newTakeOverPlan() *takeOverPlan {
	return &takeOverPlan{
		keepRules: make(map[string]bool),
		blackhole: make(map[int]bool),
		tunRoute:  make(map[int]bool),
		oldTUN:    make(map[int][]netlink.Route),
	}
}

// planTakeOver sorts the leftovers found by findLeftovers. It returns a
// *StaleError naming the leftovers this Config would not install, in
// which case nothing may be changed. r.linkIndex must be set.
func (r *linuxRouter) planTakeOver(found []string, rules []netlink.Rule, routes []netlink.Route) (*takeOverPlan, error) {
	p := newTakeOverPlan()
	ours := make(map[string]bool)
	for _, fam := range families {
		for _, rule := range r.baseRules(fam) {
			ours[describeRule(rule)] = true
		}
	}
	var mismatch []string
	for i := range rules {
		rule := &rules[i]
		d := describeRule(rule)
		if hasForeignSelectors(rule) {
			mismatch = append(mismatch, d)
			continue
		}
		addr, isPeer := r.peerOfRule(rule)
		switch {
		case !ours[d] && !isPeer:
			mismatch = append(mismatch, d)
		case p.keepRules[d]:
			// A second identical rule: harmless, but not what a fresh
			// Up leaves. One copy stays.
			p.staleRules = append(p.staleRules, *rule)
		case ours[d]:
			p.keepRules[d] = true
		default:
			if _, wanted := r.peers[addr]; wanted {
				p.keepRules[d] = true
			} else {
				p.staleRules = append(p.staleRules, *rule)
			}
		}
	}
	for i := range routes {
		rt := &routes[i]
		switch {
		case isKillSwitchRoute(rt):
			p.blackhole[rt.Family] = true
		case isTUNRoute(rt) && rt.LinkIndex == r.linkIndex:
			p.tunRoute[rt.Family] = true
		case isTUNRoute(rt):
			p.oldTUN[rt.Family] = append(p.oldTUN[rt.Family], *rt)
		default:
			mismatch = append(mismatch, describeRoute(rt, ""))
		}
	}
	if len(mismatch) > 0 {
		return nil, &StaleError{Found: found, Mismatch: mismatch}
	}
	return p, nil
}

// peerOfRule reports whether rule has the shape of a peer rule of this
// Config ("pref P+2 to PEER ipproto udp lookup T") and for which peer.
func (r *linuxRouter) peerOfRule(rule *netlink.Rule) (netip.Addr, bool) {
	if rule.Priority != r.cfg.Priority+offPeer || rule.Table != r.cfg.Table || rule.IPProto != unix.IPPROTO_UDP ||
		rule.Dst == nil || rule.Sport != nil || rule.Mark != 0 || rule.Goto >= 0 || rule.Invert {
		return netip.Addr{}, false
	}
	addr, ok := netip.AddrFromSlice(rule.Dst.IP)
	if !ok {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if ones, bits := rule.Dst.Mask.Size(); bits == 0 || ones != bits || ones != addr.BitLen() {
		return netip.Addr{}, false
	}
	return addr, true
}

// hasForeignSelectors reports whether a listed rule matches on something
// our rules never set, which describeRule does not show. Such a rule
// looks like ours but steers less traffic, so it is never adopted.
func hasForeignSelectors(rule *netlink.Rule) bool {
	return rule.Src != nil || rule.Dport != nil || rule.IifName != "" || rule.OifName != "" ||
		rule.Tos != 0 || rule.TunID != 0 || rule.UIDRange != nil || rule.Flow > 0 ||
		rule.SuppressPrefixlen >= 0 || rule.SuppressIfgroup >= 0 ||
		(rule.Mask != nil && *rule.Mask != 0xffffffff)
}

// isKillSwitchRoute reports whether rt is "blackhole default metric
// 1000000".
func isKillSwitchRoute(rt *netlink.Route) bool {
	return rt.Type == unix.RTN_BLACKHOLE && isDefaultDst(rt.Dst) && rt.Priority == blackholeMetric
}

// isTUNRoute reports whether rt is "default dev X metric 10" for some X,
// the route an earlier run added into its TUN.
func isTUNRoute(rt *netlink.Route) bool {
	return (rt.Type == 0 || rt.Type == unix.RTN_UNICAST) && isDefaultDst(rt.Dst) && rt.Priority == tunMetric &&
		rt.LinkIndex > 0 && rt.Gw == nil && rt.Src == nil && len(rt.MultiPath) == 0 && rt.Via == nil && rt.Encap == nil
}

// isDefaultDst reports whether dst is 0.0.0.0/0 or ::/0; netlink lists a
// default route with a nil Dst or with a zero-length prefix.
func isDefaultDst(dst *net.IPNet) bool {
	if dst == nil {
		return true
	}
	ones, _ := dst.Mask.Size()
	return ones == 0
}
