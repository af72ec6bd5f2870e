package doctor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/route"
)

// systemChecks compares the kernel's links, rules and routes with what the
// daemon says it installed, and asks the kernel where a datagram from the
// application's port, and one from the daemon's socket, would go.
func systemChecks(in control.Info) []Check {
	var out []Check
	link, err := netlink.LinkByName(in.TUN)
	switch {
	case err != nil:
		out = append(out, fail("tun", fmt.Sprintf("no device %s: %v", in.TUN, err), "restart the daemon (sudo systemctl restart iaxcrypt)"))
		return out
	case link.Attrs().Flags&net.FlagUp == 0:
		out = append(out, fail("tun", in.TUN+" is down", "sudo ip link set "+in.TUN+" up, or restart the daemon"))
	default:
		out = append(out, pass("tun", fmt.Sprintf("%s exists and is up (index %d); on Linux it carries no address by design", in.TUN, link.Attrs().Index)))
	}
	idx := link.Attrs().Index

	found, err := route.Leftovers(route.Config{TunName: in.TUN, AppPort: in.AppPort, Table: in.Table, Priority: in.Priority, FwMark: in.FwMark})
	if err != nil {
		out = append(out, fail("routing", err.Error(), "run doctor as root"))
		return out
	}
	all := strings.Join(found, "\n")
	var missing []string
	for _, w := range []struct{ what, text string }{
		{"IPv4 rule for the application's port", fmt.Sprintf("\nrule pref %d ipproto udp sport %d lookup %d", in.Priority+1, in.AppPort, in.Table)},
		{"IPv4 exemption of the daemon's socket", fmt.Sprintf("\nrule pref %d fwmark %#x goto %d", in.Priority, in.FwMark, in.Priority+route.PrioritySpan-1)},
		{"IPv4 route into " + in.TUN, fmt.Sprintf("\nroute default dev if%d table %d metric", idx, in.Table)},
	} {
		if !strings.Contains("\n"+all, w.text) {
			missing = append(missing, w.what)
		}
	}
	if len(missing) > 0 {
		out = append(out, fail("routing", "missing: "+strings.Join(missing, ", ")+"; present:\n    "+strings.Join(found, "\n    "),
			"restart the daemon (its start installs them again); if the rules were removed by hand, find out by what"))
	} else {
		out = append(out, pass("routing", fmt.Sprintf("%d rules and routes of table %d in place", len(found), in.Table)))
	}

	var ks []string
	for _, fam := range []string{"", "-6 "} {
		if strings.Contains("\n"+all, fmt.Sprintf("\n%sroute blackhole default table %d metric", fam, in.Table)) {
			ks = append(ks, strings.TrimSpace(fam+"blackhole"))
		}
	}
	if len(ks) == 0 || (len(ks) == 1 && ipv6Enabled()) {
		out = append(out, fail("kill switch", fmt.Sprintf("table %d has %v, want a blackhole default route for IPv4 and IPv6: if the daemon dies, the application's packets would leave in clear", in.Table, ks),
			"restart the daemon (sudo systemctl restart iaxcrypt), which installs the kill switch again"))
	} else {
		out = append(out, pass("kill switch", fmt.Sprintf("blackhole routes in table %d (%s) drop the application's packets if the daemon dies", in.Table, strings.Join(ks, ", "))))
	}

	out = append(out, lookupCheck("application's datagrams", testAddr4, in.AppPort, 0, func(oif int, err error) (bool, string) {
		if err != nil {
			return false, fmt.Sprintf("the kernel's lookup for UDP from port %d to %s failed: %v (the route into %s is missing; only the kill switch is left)", in.AppPort, testAddr4, err, in.TUN)
		}
		return oif == idx, fmt.Sprintf("UDP from port %d to %s goes to %s", in.AppPort, testAddr4, ifName(oif))
	}, "restart the daemon; check `ip rule` and `ip route show table "+fmt.Sprint(in.Table)+"`"))
	for _, p := range in.Peers {
		peer, err := netip.ParseAddr(p)
		if err != nil {
			continue
		}
		out = append(out, lookupCheck("peer "+p, peer, 40000, 0, func(oif int, err error) (bool, string) {
			if err != nil {
				return false, fmt.Sprintf("lookup for UDP to routed peer %s failed: %v", p, err)
			}
			return oif == idx, fmt.Sprintf("UDP to routed peer %s from any port goes to %s", p, ifName(oif))
		}, "iaxcrypt route add "+p))
	}
	out = append(out, lookupCheck("daemon's socket", testAddr4, 0, in.FwMark, func(oif int, err error) (bool, string) {
		if err != nil {
			return false, fmt.Sprintf("lookup for the daemon's socket (mark %#x) failed: %v: its datagrams would not leave", in.FwMark, err)
		}
		return oif != idx, fmt.Sprintf("the daemon's socket (mark %#x) leaves on %s", in.FwMark, ifName(oif))
	}, "the fwmark exemption rule is missing: restart the daemon"))
	return out
}

// lookupCheck asks the kernel where a UDP datagram to dst from sport (and
// with mark) would go, as "ip route get DST ipproto udp sport N mark M".
func lookupCheck(name string, dst netip.Addr, sport uint16, mark uint32, judge func(oif int, err error) (bool, string), fix string) Check {
	oif, err := routeGet(dst, sport, mark)
	ok, detail := judge(oif, err)
	if ok {
		return pass(name, detail)
	}
	return fail(name, detail, fix)
}

// routeGet sends RTM_GETROUTE with the ports and mark the policy rules
// match on, which netlink.RouteGetWithOptions cannot, and returns the
// output interface.
func routeGet(dst netip.Addr, sport uint16, mark uint32) (int, error) {
	fam := unix.AF_INET
	if dst.Is6() {
		fam = unix.AF_INET6
	}
	req := nl.NewNetlinkRequest(unix.RTM_GETROUTE, unix.NLM_F_REQUEST)
	msg := nl.NewRtMsg()
	msg.Family = uint8(fam)
	msg.Dst_len = uint8(dst.BitLen())
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.RTA_DST, dst.AsSlice()))
	req.AddData(nl.NewRtAttr(unix.RTA_IP_PROTO, []byte{unix.IPPROTO_UDP}))
	be := func(v uint16) []byte { b := make([]byte, 2); binary.BigEndian.PutUint16(b, v); return b }
	if sport != 0 {
		req.AddData(nl.NewRtAttr(unix.RTA_SPORT, be(sport)))
	}
	req.AddData(nl.NewRtAttr(unix.RTA_DPORT, be(4569)))
	if mark != 0 {
		req.AddData(nl.NewRtAttr(unix.RTA_MARK, nl.Uint32Attr(mark)))
	}
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWROUTE)
	if err != nil {
		return 0, err
	}
	if len(msgs) == 0 {
		return 0, errors.New("no answer")
	}
	attrs, err := nl.ParseRouteAttr(msgs[0][unix.SizeofRtMsg:])
	if err != nil {
		return 0, err
	}
	for _, a := range attrs {
		if a.Attr.Type == unix.RTA_OIF && len(a.Value) >= 4 {
			return int(native.Uint32(a.Value)), nil
		}
	}
	return 0, errors.New("the answer names no output interface")
}

var native = nl.NativeEndian()

func ifName(idx int) string {
	if l, err := netlink.LinkByIndex(idx); err == nil {
		return l.Attrs().Name
	}
	return fmt.Sprintf("interface #%d", idx)
}

func ipv6Enabled() bool {
	_, err := netlink.RuleList(netlink.FAMILY_V6)
	return err == nil
}

// probeFix is what to do when a probe does not arrive at the daemon.
const probeFix = "restart the daemon (sudo systemctl restart iaxcrypt); compare `ip rule` and `ip route show table 17769` with the README"
