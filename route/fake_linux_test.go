package route

import (
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// fakeOps is an in-memory kernel: it keeps rules, routes and links, and logs
// every change in "ip"-like text so tests can compare exact sequences.
type fakeOps struct {
	rules  []netlink.Rule
	routes []netlink.Route
	links  map[string]int
	log    []string
	// failOn makes the first add, replace or delete whose description
	// contains it fail.
	failOn string
	// onChange, if set, is called after every change with its log line.
	onChange func(line string)
}

func (f *fakeOps) record(line string) {
	f.log = append(f.log, line)
	if f.onChange != nil {
		f.onChange(line)
	}
}

// sameRouteKey reports whether a and b have the same family, table,
// destination and metric: the kernel refuses to add a second such route
// (NLM_F_EXCL), and replace swaps it.
func sameRouteKey(a, b *netlink.Route) bool {
	dst := func(r *netlink.Route) string {
		if r.Dst == nil {
			return defaultDst(r.Family).String()
		}
		return r.Dst.String()
	}
	return a.Family == b.Family && a.Table == b.Table && a.Priority == b.Priority && dst(a) == dst(b)
}

func newFakeOps() *fakeOps {
	return &fakeOps{links: map[string]int{"iax0": 7}}
}

func (f *fakeOps) linkName(idx int) string {
	for n, i := range f.links {
		if i == idx {
			return n
		}
	}
	return ""
}

func (f *fakeOps) fail(desc string) bool {
	if f.failOn != "" && strings.Contains(desc, f.failOn) {
		f.failOn = ""
		return true
	}
	return false
}

func (f *fakeOps) RuleAdd(r *netlink.Rule) error {
	d := describeRule(r)
	if f.fail(d) {
		return unix.EPERM
	}
	for i := range f.rules {
		if describeRule(&f.rules[i]) == d {
			return unix.EEXIST
		}
	}
	f.rules = append(f.rules, *r)
	f.record("add " + d)
	return nil
}

func (f *fakeOps) RuleDel(r *netlink.Rule) error {
	d := describeRule(r)
	if f.fail(d) {
		return unix.EPERM
	}
	for i := range f.rules {
		if describeRule(&f.rules[i]) == d {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			f.record("del " + d)
			return nil
		}
	}
	return unix.ENOENT
}

func (f *fakeOps) RuleList(family int) ([]netlink.Rule, error) {
	var out []netlink.Rule
	for _, r := range f.rules {
		if r.Family == family {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeOps) RouteAdd(r *netlink.Route) error {
	d := describeRoute(r, f.linkName(r.LinkIndex))
	if f.fail(d) {
		return unix.EPERM
	}
	for i := range f.routes {
		if sameRouteKey(&f.routes[i], r) {
			return unix.EEXIST
		}
	}
	f.routes = append(f.routes, *r)
	f.record("add " + d)
	return nil
}

func (f *fakeOps) RouteReplace(r *netlink.Route) error {
	d := describeRoute(r, f.linkName(r.LinkIndex))
	if f.fail(d) {
		return unix.EPERM
	}
	for i := range f.routes {
		if sameRouteKey(&f.routes[i], r) {
			f.routes[i] = *r
			f.record("replace " + d)
			return nil
		}
	}
	f.routes = append(f.routes, *r)
	f.record("replace " + d)
	return nil
}

func (f *fakeOps) RouteDel(r *netlink.Route) error {
	d := describeRoute(r, "")
	for i := range f.routes {
		if describeRoute(&f.routes[i], "") == d {
			f.routes = append(f.routes[:i], f.routes[i+1:]...)
			f.record("del " + describeRoute(r, f.linkName(r.LinkIndex)))
			return nil
		}
	}
	return unix.ESRCH
}

func (f *fakeOps) RouteListTable(family, table int) ([]netlink.Route, error) {
	var out []netlink.Route
	for _, r := range f.routes {
		if r.Family == family && r.Table == table {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeOps) LinkIndex(name string) (int, error) {
	if i, ok := f.links[name]; ok {
		return i, nil
	}
	return 0, netlink.LinkNotFoundError{}
}

func (f *fakeOps) LinkExists(name string) bool { _, ok := f.links[name]; return ok }

func (f *fakeOps) DeleteTUN(name string) error {
	delete(f.links, name)
	f.record("del link " + name)
	return nil
}

// crashTUN does what the kernel does when the daemon dies: the TUN and
// the routes through it vanish, everything else stays.
func (f *fakeOps) crashTUN(name string) {
	idx := f.links[name]
	delete(f.links, name)
	kept := f.routes[:0]
	for _, r := range f.routes {
		if r.LinkIndex != idx {
			kept = append(kept, r)
		}
	}
	f.routes = kept
}
