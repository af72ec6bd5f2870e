package platform

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// DefaultInterface returns the interface of the main table's default route
// with the lowest metric, IPv4 first, then IPv6, e.g. "eth0".
func DefaultInterface() (string, error) {
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := netlink.RouteListFiltered(fam, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		if err != nil {
			continue
		}
		best := -1
		for i, r := range routes {
			if r.Dst != nil {
				if ones, _ := r.Dst.Mask.Size(); ones != 0 {
					continue
				}
			}
			if r.LinkIndex == 0 && len(r.MultiPath) > 0 {
				routes[i].LinkIndex = r.MultiPath[0].LinkIndex
			}
			if routes[i].LinkIndex != 0 && (best < 0 || r.Priority < routes[best].Priority) {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		link, err := netlink.LinkByIndex(routes[best].LinkIndex)
		if err != nil {
			return "", fmt.Errorf("find default interface: %w", err)
		}
		return link.Attrs().Name, nil
	}
	return "", fmt.Errorf("find default interface: %w", ErrNoDefaultRoute)
}
