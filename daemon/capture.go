package daemon

import "fmt"

// captureSummary says in one sentence what the daemon captures, so that an
// operator reading the log of `iaxcrypt up` (with or without peers) knows
// what is encrypted and what is not.
func captureSummary(goos string, appPort uint16, tun string, peers int) string {
	how := fmt.Sprintf("a policy rule routes UDP from port %d, to any address, into %s", appPort, tun)
	if goos == "darwin" {
		how = fmt.Sprintf("pf anchor com.apple/iaxcrypt routes UDP from port %d, to any address and from any local address, into %s", appPort, tun)
	}
	s := fmt.Sprintf("the application's IAX2 (%s; if the daemon dies it is dropped, not sent in clear)", how)
	if peers == 0 {
		return s + "; no peers routed, so other programs' traffic is untouched"
	}
	return s + fmt.Sprintf("; and the traffic of other programs to %d routed peer(s), passed through unchanged", peers)
}
