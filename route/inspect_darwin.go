package route

import (
	"fmt"
	"net/netip"
	"os"
)

// PfState is what "iaxcrypt doctor" reads of pf on macOS.
type PfState struct {
	Enabled bool     // pfctl -s info: Status: Enabled
	MainOK  bool     // the main ruleset evaluates the anchor
	Missing []string // rules of the anchor that are not loaded
}

// InspectPf reads pf's state for a daemon on tun with appPort.
func pfInfoArgs() []string { return []string{"-s", "info"} }

func InspectPf(anchor, tun string, appPort uint16) (PfState, error) {
	ops := &sysOps{}
	var st PfState
	info, err := ops.Pfctl("", pfInfoArgs()...)
	if err != nil {
		return st, err
	}
	st.Enabled = parsePfEnabled(info)
	main, err := ops.Pfctl("", pfMainRulesArgs()...)
	if err != nil {
		return st, err
	}
	st.MainOK = mainEvaluatesAnchor(main, anchor)
	shown, err := ops.Pfctl("", pfShowArgs(anchor)...)
	if err != nil {
		return st, err
	}
	st.Missing = missingPfRules(shown, pfConfig{Tun: tun, AppPort: appPort})
	return st, nil
}

// RouteInterface asks the kernel (RTM_GET on the routing socket) which
// interface carries packets to dst from an unbound socket.
func RouteInterface(dst netip.Addr) (string, error) {
	ops := &sysOps{}
	ops.seq.Store(int32(os.Getpid() % 100000))
	msg, err := getRouteMsg(ops.NextSeq(), dst)
	if err != nil {
		return "", err
	}
	r, err := ops.RouteMsg(msg)
	if err != nil {
		return "", fmt.Errorf("route to %s: %w", dst, err)
	}
	_, name, ok := linkIndexName(r.addrs[rtaxIndex(rtaIfp)])
	if !ok || name == "" {
		return "", fmt.Errorf("route to %s: the kernel named no interface", dst)
	}
	return name, nil
}
