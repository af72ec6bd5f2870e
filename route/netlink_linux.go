package route

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/tun"
)

// netlinkOps is every kernel call the Linux router makes. The real one talks
// netlink; tests use a fake that records rules and routes.
type netlinkOps interface {
	RuleAdd(r *netlink.Rule) error
	RuleDel(r *netlink.Rule) error
	RuleList(family int) ([]netlink.Rule, error)
	RouteAdd(r *netlink.Route) error
	// RouteReplace replaces the route of the same table, destination and
	// metric, or adds r if there is none.
	RouteReplace(r *netlink.Route) error
	RouteDel(r *netlink.Route) error
	// RouteListTable lists the routes of one table (all types, blackhole
	// included).
	RouteListTable(family, table int) ([]netlink.Route, error)
	LinkIndex(name string) (int, error)
	LinkExists(name string) bool
	DeleteTUN(name string) error
}

// kernelOps is netlinkOps on the calling process's network namespace.
type kernelOps struct{}

func (kernelOps) RuleAdd(r *netlink.Rule) error { return netlink.RuleAdd(r) }
func (kernelOps) RuleDel(r *netlink.Rule) error { return netlink.RuleDel(r) }
func (kernelOps) RuleList(family int) ([]netlink.Rule, error) {
	return netlink.RuleList(family)
}
func (kernelOps) RouteAdd(r *netlink.Route) error     { return netlink.RouteAdd(r) }
func (kernelOps) RouteReplace(r *netlink.Route) error { return netlink.RouteReplace(r) }
func (kernelOps) RouteDel(r *netlink.Route) error     { return netlink.RouteDel(r) }
func (kernelOps) RouteListTable(family, table int) ([]netlink.Route, error) {
	return netlink.RouteListFiltered(family, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
}
func (kernelOps) LinkIndex(name string) (int, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return 0, err
	}
	return link.Attrs().Index, nil
}
func (kernelOps) LinkExists(name string) bool { return tun.Exists(name) }
func (kernelOps) DeleteTUN(name string) error { return tun.Delete(name) }

// isNotFound reports whether a delete failed because the object is
// already gone, which the router treats as success.
func isNotFound(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// isNoIPv6 reports whether err means the kernel has IPv6 switched off, in
// which case there is no IPv6 traffic to steer or to stop.
func isNoIPv6(err error) bool {
	return errors.Is(err, unix.EAFNOSUPPORT)
}

func familyName(f int) string {
	if f == netlink.FAMILY_V6 {
		return "-6 "
	}
	return ""
}

// describeRule renders a rule the way "ip rule" would write it; tests
// compare these strings and Cleanup reports them.
func describeRule(r *netlink.Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%srule pref %d", familyName(r.Family), r.Priority)
	if r.Invert {
		b.WriteString(" not")
	}
	if r.Dst != nil {
		fmt.Fprintf(&b, " to %s", r.Dst)
	}
	if r.Mark != 0 {
		fmt.Fprintf(&b, " fwmark %#x", r.Mark)
	}
	if r.IPProto == unix.IPPROTO_UDP {
		b.WriteString(" ipproto udp")
	} else if r.IPProto != 0 {
		fmt.Fprintf(&b, " ipproto %d", r.IPProto)
	}
	if r.Sport != nil {
		fmt.Fprintf(&b, " sport %d", r.Sport.Start)
		if r.Sport.End != r.Sport.Start {
			fmt.Fprintf(&b, "-%d", r.Sport.End)
		}
	}
	switch {
	case r.Goto >= 0:
		fmt.Fprintf(&b, " goto %d", r.Goto)
	case r.Type == frActNop:
		b.WriteString(" nop")
	case r.Table != 0:
		fmt.Fprintf(&b, " lookup %d", r.Table)
	default:
		// A listed nop rule: the kernel reports no table and netlink
		// does not parse the action.
		b.WriteString(" nop")
	}
	return b.String()
}

// describeRoute renders a route the way "ip route" would write it.
func describeRoute(r *netlink.Route, linkName string) string {
	var b strings.Builder
	fam := r.Family
	if r.Dst != nil && r.Dst.IP.To4() == nil {
		fam = netlink.FAMILY_V6
	}
	fmt.Fprintf(&b, "%sroute", familyName(fam))
	if r.Type == unix.RTN_BLACKHOLE {
		b.WriteString(" blackhole")
	}
	dst := "default"
	if r.Dst != nil {
		if ones, _ := r.Dst.Mask.Size(); ones != 0 {
			dst = r.Dst.String()
		}
	}
	fmt.Fprintf(&b, " %s", dst)
	if r.Type != unix.RTN_BLACKHOLE && r.LinkIndex != 0 {
		if linkName == "" {
			linkName = fmt.Sprintf("if%d", r.LinkIndex)
		}
		fmt.Fprintf(&b, " dev %s", linkName)
	}
	fmt.Fprintf(&b, " table %d metric %d", r.Table, r.Priority)
	return b.String()
}

// defaultDst returns 0.0.0.0/0 or ::/0.
func defaultDst(family int) *net.IPNet {
	if family == netlink.FAMILY_V6 {
		return &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
	}
	return &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
}
