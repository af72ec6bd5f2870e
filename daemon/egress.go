package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/iaxcrypt/iaxcrypt/platform"
	"github.com/iaxcrypt/iaxcrypt/route"
)

// egressStep is one thing that names the real interface and must follow
// the default route (a socket's IP_BOUND_IF, pf's source translation).
type egressStep struct {
	what string
	move func(iface string) error
}

// egressMover moves the daemon to a new real interface, step by step, and
// remembers the interface it is on (the control socket's info reports it).
type egressMover struct {
	steps []egressStep

	mu      sync.Mutex
	current string
}

func (m *egressMover) Current() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current
}

// Move runs every step for iface; the first failure stops it and the
// daemon counts as still on old (the follower tries again on the next
// routing change).
func (m *egressMover) Move(old, iface string) error {
	for _, s := range m.steps {
		if err := s.move(iface); err != nil {
			return fmt.Errorf("move %s from %s to %s: %w", s.what, old, iface, err)
		}
	}
	m.mu.Lock()
	m.current = iface
	m.mu.Unlock()
	return nil
}

// egressSteps lists what names the real interface on macOS: each UDP
// socket, the pass-through raw socket, and the pf anchor's nat rule.
func egressSteps(socks []platform.UDPSocket, raw *platform.RawSocket, router route.Router) []egressStep {
	var steps []egressStep
	for _, s := range socks {
		steps = append(steps, egressStep{"UDP socket " + s.Network + " " + s.Conn.LocalAddr().String(),
			func(iface string) error { return platform.PinToInterface(s.Conn, s.Network, iface) }})
	}
	steps = append(steps, egressStep{"pass-through raw socket", raw.Repin})
	if se, ok := router.(interface{ SetEgress(string) error }); ok {
		steps = append(steps, egressStep{"pf anchor's source translation", se.SetEgress})
	}
	return steps
}

// followEgress starts following the default route's interface (macOS,
// when --interface was not given) and returns what stops it, or nil and
// the reason it cannot (the daemon then stays on its first interface).
func followEgress(m *egressMover, log *slog.Logger) (stop func(), err error) {
	ctx, cancel := context.WithCancel(context.Background())
	msgs, err := route.WatchRoutingMessages(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	f := &route.EgressFollower{Current: m.Current(), Lookup: route.DefaultRouteInterface, Apply: m.Move, Log: log}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx, msgs)
	}()
	return func() { cancel(); <-done }, nil
}
