package doctor

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/platform"
	"github.com/iaxcrypt/iaxcrypt/route"
	"github.com/iaxcrypt/iaxcrypt/tun"
)

// systemChecks on macOS: the utun and its addresses, pf enabled with the
// anchor evaluated and complete (capture and kill switch), each routed
// peer's host route, and the interface the daemon's sockets are pinned to.
func systemChecks(in control.Info) []Check {
	var out []Check
	ifc, err := net.InterfaceByName(in.TUN)
	if err != nil {
		return append(out, fail("tun", fmt.Sprintf("no interface %s: %v", in.TUN, err), "restart the daemon: sudo launchctl kickstart -k system/org.iaxcrypt.iaxcrypt"))
	}
	addrs, _ := ifc.Addrs()
	have := map[netip.Addr]bool{}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			have[p.Addr()] = true
		}
	}
	var missing []string
	for _, w := range tun.Addresses() {
		if !have[w] {
			missing = append(missing, w.String())
		}
	}
	if len(missing) > 0 {
		out = append(out, fail("tun", fmt.Sprintf("%s lacks address %s (has %v): host routes and pf's route-to need them", in.TUN, strings.Join(missing, ", "), addrs), "restart the daemon"))
	} else {
		out = append(out, pass("tun", fmt.Sprintf("%s exists with %v", in.TUN, addrs)))
	}

	st, err := route.InspectPf(in.PfAnchor, in.TUN, in.AppPort)
	switch {
	case err != nil:
		out = append(out, fail("pf", err.Error(), "run doctor as root (sudo)"))
	case !st.Enabled:
		out = append(out, fail("pf", "pf is disabled: nothing steers the application's port into "+in.TUN+" and there is no kill switch; the application's IAX2 leaves in clear", "restart the daemon (it enables pf with a reference); find what ran `pfctl -d`"))
	case !st.MainOK:
		out = append(out, fail("pf", "the main ruleset does not evaluate anchor "+in.PfAnchor, "sudo pfctl -f /etc/pf.conf (macOS's pf.conf evaluates com.apple/*)"))
	default:
		out = append(out, pass("pf", "enabled; the main ruleset evaluates "+in.PfAnchor))
	}
	if err == nil {
		var capture, kill []string
		for _, m := range st.Missing {
			if strings.Contains(m, "kill switch") {
				kill = append(kill, m)
			} else {
				capture = append(capture, m)
			}
		}
		if len(capture) > 0 {
			out = append(out, fail("application's datagrams", "anchor "+in.PfAnchor+" lacks "+strings.Join(capture, ", ")+": UDP from port "+fmt.Sprint(in.AppPort)+" is not routed into "+in.TUN, "restart the daemon"))
		} else {
			out = append(out, pass("application's datagrams", fmt.Sprintf("pf routes UDP from port %d into %s, bound applications included", in.AppPort, in.TUN)))
		}
		if len(kill) > 0 {
			out = append(out, fail("kill switch", "anchor "+in.PfAnchor+" has no block rule", "restart the daemon"))
		} else {
			out = append(out, pass("kill switch", "pf drops UDP from port "+fmt.Sprint(in.AppPort)+" that does not go into "+in.TUN+", also when the daemon is gone"))
		}
	}
	for _, p := range in.Peers {
		peer, err := netip.ParseAddr(p)
		if err != nil {
			continue
		}
		name, err := route.RouteInterface(peer)
		if err != nil || name != in.TUN {
			out = append(out, fail("peer "+p, fmt.Sprintf("traffic to %s goes to %q (%v), not %s", p, name, err, in.TUN), "iaxcrypt route add "+p))
		} else {
			out = append(out, pass("peer "+p, "host route into "+in.TUN+" (applications bound to a LAN address bypass it; their port-"+fmt.Sprint(in.AppPort)+" IAX2 is still caught by pf)"))
		}
	}
	def, err := platform.DefaultInterface()
	switch {
	case err != nil:
		out = append(out, fail("daemon's socket", err.Error(), "connect to a network"))
	case in.Interface != def:
		out = append(out, fail("daemon's socket", fmt.Sprintf("pinned to %s but the default route now uses %s: its datagrams cannot leave (the daemon follows the default route unless started with --interface; its log says why it did not)", in.Interface, def), "restart the daemon, or pass --interface "+def))
	default:
		out = append(out, pass("daemon's socket", "pinned to "+def+", the default route's interface"))
	}
	return out
}

// probeFix is what to do when a probe does not arrive at the daemon.
const probeFix = "restart the daemon (sudo launchctl kickstart -k system/org.iaxcrypt.iaxcrypt); check that pf is enabled (`sudo pfctl -s info`) and the anchor loaded (`sudo pfctl -a com.apple/iaxcrypt -s rules`)"
