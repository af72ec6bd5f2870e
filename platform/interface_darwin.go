package platform

import (
	"fmt"
	"os/exec"
)

// DefaultInterface returns the interface of the IPv4 default route, from
// "route -n get default" (falling back to IPv6), e.g. "en0".
func DefaultInterface() (string, error) {
	for _, fam := range []string{"-inet", "-inet6"} {
		out, err := exec.Command("/sbin/route", "-n", "get", fam, "default").Output()
		if err != nil {
			continue
		}
		if name := parseRouteGetInterface(string(out)); name != "" {
			return name, nil
		}
	}
	return "", fmt.Errorf("find default interface: %w", ErrNoDefaultRoute)
}
