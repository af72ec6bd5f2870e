package platform

import (
	"bufio"
	"strings"
)

// parseRouteGetInterface returns the interface named in the output of
// macOS's "route -n get default" (a line "interface: en0"), or "". It has
// no build tag so that it is tested everywhere.
func parseRouteGetInterface(out string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if ok && key == "interface" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}
