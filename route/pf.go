package route

// The macOS capture and kill switch: a pf anchor. Built as text here,
// without a build tag, so the exact rules are tested on Linux; the
// darwin router loads them with pfctl(8), whose exit status does report a
// refused rule set, and reads them back.

import (
	"bufio"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultPfAnchor is the anchor of iaxcrypt's rules. macOS's /etc/pf.conf
// evaluates every anchor under com.apple/ ("anchor \"com.apple/*\"" and
// "nat-anchor \"com.apple/*\""), so rules there take effect without
// editing pf.conf.
const DefaultPfAnchor = "com.apple/iaxcrypt"

// pfConfig is what the anchor's rules depend on.
type pfConfig struct {
	Tun     string // the utun, e.g. "utun7"
	AppPort uint16
	// Egress and TunAddrs, when set, add the source translation for
	// traffic to routed peers that the daemon passes through: the host
	// route into the utun gives it the utun's address as source, which
	// must leave as the egress interface's.
	Egress   string
	TunAddrs []netip.Addr
}

// pfRules returns the anchor's rule set.
//
// The application's UDP from its port is routed into the utun by
// route-to, on every interface but the utun itself: pf's output hook runs
// after the kernel chose the interface and source address, so this also
// catches an application bound to a LAN address or interface, and the
// source address stays the one the application will receive replies on.
// "no state" makes every packet meet the rules, so a new utun (after a
// restart) takes over at once. If the utun is gone (the daemon died),
// route-to has no interface and pf drops the packet; the block rule drops
// it too should the route-to rules ever not match: a kill switch that
// stays while the anchor does.
func pfRules(c pfConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# iaxcrypt: the IAX2 application's UDP from port %d goes into %s\n", c.AppPort, c.Tun)
	if c.Egress != "" {
		for _, a := range c.TunAddrs {
			fam := "inet"
			if a.Is6() {
				fam = "inet6"
			}
			fmt.Fprintf(&b, "nat on %s %s from %s to any -> (%s)\n", c.Egress, fam, a, c.Egress)
		}
	}
	for _, fam := range []string{"inet", "inet6"} {
		fmt.Fprintf(&b, "pass out quick on ! %s route-to %s %s proto udp from any port %d to any no state\n", c.Tun, c.Tun, fam, c.AppPort)
	}
	fmt.Fprintf(&b, "block drop out quick on ! %s proto udp from any port %d to any\n", c.Tun, c.AppPort)
	return b.String()
}

// pfctl argument vectors.
func pfLoadArgs(anchor string) []string  { return []string{"-a", anchor, "-f", "-"} }
func pfShowArgs(anchor string) []string  { return []string{"-a", anchor, "-s", "rules"} }
func pfFlushArgs(anchor string) []string { return []string{"-a", anchor, "-F", "all"} }
func pfEnableArgs() []string             { return []string{"-E"} }
func pfReleaseArgs(token uint64) []string {
	return []string{"-X", strconv.FormatUint(token, 10)}
}
func pfMainRulesArgs() []string { return []string{"-s", "rules"} }

// parsePfToken reads the reference token "pfctl -E" prints ("Token :
// 123..."), with which "pfctl -X" later gives the reference back.
func parsePfToken(out string) (uint64, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "Token" {
			t, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return t, err == nil && t != 0
		}
	}
	return 0, false
}

// parsePfEnabled reads "pfctl -s info": its first line is "Status:
// Enabled ..." or "Status: Disabled ...".
func parsePfEnabled(out string) bool {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Status:"); ok {
			return strings.HasPrefix(strings.TrimSpace(v), "Enabled")
		}
	}
	return false
}

// mainEvaluatesAnchor reports whether the main ruleset (pfctl -s rules)
// evaluates anchor: a line `anchor "com.apple/*" all` covers
// com.apple/iaxcrypt, as does the anchor's own name.
func mainEvaluatesAnchor(out, anchor string) bool {
	parent, _, _ := strings.Cut(anchor, "/")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "anchor" {
			continue
		}
		name := strings.Trim(f[1], `"`)
		if name == anchor || name == parent+"/*" {
			return true
		}
	}
	return false
}

// missingPfRules compares what "pfctl -a ANCHOR -s rules" printed with
// the filter rules of c and returns those not found. pfctl prints rules
// in its own canonical form ("port = 4569", "all" for "from any to
// any"), so each rule is recognised by the words that make it what it is.
func missingPfRules(shown string, c pfConfig) []string {
	want := []struct {
		what  string
		words []string
	}{
		{"IPv4 route-to " + c.Tun, []string{"pass", "out", "quick", "on ! " + c.Tun, "route-to", c.Tun, "inet ", "udp", fmt.Sprintf("port = %d", c.AppPort), "no state"}},
		{"IPv6 route-to " + c.Tun, []string{"pass", "out", "quick", "on ! " + c.Tun, "route-to", c.Tun, "inet6", "udp", fmt.Sprintf("port = %d", c.AppPort), "no state"}},
		{"kill switch (block)", []string{"block", "drop", "out", "quick", "on ! " + c.Tun, "udp", fmt.Sprintf("port = %d", c.AppPort)}},
	}
	lines := strings.Split(shown, "\n")
	var missing []string
	for _, w := range want {
		found := false
		for _, line := range lines {
			line += " "
			all := true
			for _, word := range w.words {
				if !strings.Contains(line, word) {
					all = false
					break
				}
			}
			if all {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w.what)
		}
	}
	return missing
}
