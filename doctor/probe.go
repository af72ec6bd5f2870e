package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/probe"
)

// probeWait is how long doctor waits for the daemon to report a probe.
// The TUN hands it over within a millisecond; the rest is slack for a
// loaded host.
const probeWait = 2 * time.Second

// probeOutcome is what became of one probe datagram.
type probeOutcome int

const (
	probeSeen        probeOutcome = iota // the daemon read it from its TUN
	probeNotSeen                         // sent, never arrived: it went elsewhere
	probeRefused                         // the kernel refused to send it
	probePortBusy                        // the port is held and not shared
	probeUnsupported                     // the daemon has no probe request
	probeFailed                          // doctor could not ask or prepare
)

// probeResult is a probe's outcome with what was sent and seen.
type probeResult struct {
	outcome probeOutcome
	from    netip.AddrPort // the socket's local address (port 0: not bound)
	seen    control.ProbeResult
	err     error
}

// sendProbe sends one probe datagram to dst from local port sport (0: any
// port), the way the application would, and asks the daemon whether it
// arrived in its TUN. Taking the application's port while the application
// holds it needs sharing (see shareControl): the socket is connected to
// dst at once, so the kernel gives it only datagrams from dst, never the
// application's.
func sendProbe(ctx context.Context, c control.Client, sport uint16, dst netip.AddrPort) probeResult {
	n, err := probe.NewNonce()
	if err != nil {
		return probeResult{outcome: probeFailed, err: err}
	}
	conn, err := dialShared(ctx, sport, dst)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return probeResult{outcome: probePortBusy, err: err}
		}
		return probeResult{outcome: probeRefused, err: err}
	}
	defer conn.Close()
	r := probeResult{from: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	payload := probe.Payload(n)
	if _, err := conn.Write(payload); err != nil {
		r.outcome, r.err = probeRefused, err
		return r
	}
	// The requests run under the caller's context; the wait for the
	// probe has its own deadline, so a request cut short by it is never
	// mistaken for a failure to ask.
	deadline := time.Now().Add(probeWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	resent := false
	for {
		seen, err := c.Probe(ctx, n.String())
		var re *control.RemoteError
		switch {
		case errors.As(err, &re):
			r.outcome, r.err = probeUnsupported, err
			return r
		case err != nil:
			r.outcome, r.err = probeFailed, err
			return r
		case seen.Seen:
			r.outcome, r.seen = probeSeen, seen
			return r
		case time.Now().After(deadline):
			r.outcome = probeNotSeen
			return r
		}
		select {
		case <-ctx.Done():
			r.outcome, r.err = probeFailed, ctx.Err()
			return r
		case <-tick.C:
		}
		if !resent && time.Until(deadline) < probeWait/2 {
			// One more, in case the first was lost to a full queue.
			conn.Write(payload)
			resent = true
		}
	}
}

// dialShared opens a UDP socket from local port sport connected to dst.
// For a port in use it tries the wildcard address first and then each of
// the host's own addresses of dst's family: XNU lets a socket with
// SO_REUSEADDR bind a port another socket holds on a different local
// address; Linux lets it when the holder set SO_REUSEADDR too (Asterisk
// does).
func dialShared(ctx context.Context, sport uint16, dst netip.AddrPort) (*net.UDPConn, error) {
	network := "udp4"
	if dst.Addr().Is6() {
		network = "udp6"
	}
	locals := []netip.Addr{netip.IPv4Unspecified()}
	if dst.Addr().Is6() {
		locals[0] = netip.IPv6Unspecified()
	}
	if sport != 0 {
		locals = append(locals, hostAddrs(dst.Addr().Is6())...)
	}
	var first error
	for _, la := range locals {
		d := net.Dialer{LocalAddr: net.UDPAddrFromAddrPort(netip.AddrPortFrom(la, sport)), Control: shareControl}
		c, err := d.DialContext(ctx, network, dst.String())
		if err == nil {
			return c.(*net.UDPConn), nil
		}
		if first == nil {
			first = err
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	return nil, first
}

// hostAddrs lists the host's global unicast addresses of one family.
func hostAddrs(v6 bool) []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr()
		if ip.Is6() == v6 && ip.IsGlobalUnicast() && !ip.IsLinkLocalUnicast() {
			out = append(out, ip)
		}
	}
	return out
}

// probeChecks sends a probe from the application's port to a test address
// (every destination of that port is captured) and one to each routed
// peer from an ordinary port (those are captured by destination), and
// reports whether each arrived at the daemon instead of leaving on the
// real interface.
func probeChecks(ctx context.Context, c control.Client, in control.Info, fix string) []Check {
	var out []Check
	app := netip.AddrPortFrom(testAddr4, probe.DiscardPort)
	out = append(out, judgeProbe("probe: application's port", sendProbe(ctx, c, in.AppPort, app),
		fmt.Sprintf("UDP from port %d to %s", in.AppPort, app), in, fix))
	for _, p := range in.Peers {
		peer, err := netip.ParseAddr(p)
		if err != nil {
			continue
		}
		dst := netip.AddrPortFrom(peer, probe.DiscardPort)
		out = append(out, judgeProbe("probe: peer "+p, sendProbe(ctx, c, 0, dst),
			fmt.Sprintf("UDP to routed peer %s", dst), in, "iaxcrypt route add "+p+"; "+fix))
	}
	return out
}

// judgeProbe turns a probe's outcome into a check.
func judgeProbe(name string, r probeResult, what string, in control.Info, fix string) Check {
	switch r.outcome {
	case probeSeen:
		return pass(name, fmt.Sprintf("a probe datagram (%s) arrived at the daemon through %s as %s -> %s, not on the real network", what, in.TUN, r.seen.Src, r.seen.Dst))
	case probeNotSeen:
		return fail(name, fmt.Sprintf("a probe datagram (%s, sent from %s) did not arrive at the daemon within %v: such datagrams go elsewhere, most likely out on the real interface in clear", what, r.from, probeWait), fix)
	case probeRefused:
		return fail(name, fmt.Sprintf("the kernel refused to send a probe datagram (%s): %v: nothing leaves in clear (a blackhole or block rule stops it, or there is no route at all), but it does not reach the daemon either, so calls fail", what, r.err), fix)
	case probePortBusy:
		return Check{Name: name, Status: Skip, Detail: fmt.Sprintf("no probe (%s) could be sent: port %d is held by a program that does not share it (%v); the route and rule checks above are what is left", what, in.AppPort, r.err)}
	case probeUnsupported:
		return Check{Name: name, Status: Skip, Detail: fmt.Sprintf("the daemon does not answer probe requests (%v): it is older than this doctor", r.err)}
	}
	return fail(name, fmt.Sprintf("could not probe (%s): %v", what, r.err), "run doctor as root (sudo)")
}
