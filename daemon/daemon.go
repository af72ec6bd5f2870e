// Package daemon runs iaxcrypt's tunnel daemon: it creates the TUN device,
// the socket and the routing, starts the data path (package device) around
// the engine, serves the control socket, drops privileges, and undoes all
// of it when told to stop. cmd/iaxcrypt only turns flags into a Config.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	wgtun "golang.zx2c4.com/wireguard/tun"

	"github.com/iaxcrypt/iaxcrypt/config"
	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/device"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/keystore"
	"github.com/iaxcrypt/iaxcrypt/platform"
	"github.com/iaxcrypt/iaxcrypt/probe"
	"github.com/iaxcrypt/iaxcrypt/route"
	"github.com/iaxcrypt/iaxcrypt/tun"
)

// Config is what `iaxcrypt up` was asked to run.
type Config struct {
	TUN      string       // TUN device name (iax0; utun on macOS)
	AppPort  uint16       // the IAX2 application's UDP port
	Listen   string       // the daemon's own UDP address, e.g. ":4570"
	Peers    []netip.Addr // peers routed through the daemon from the start
	Policy   engine.Policy
	StateDir string // holds the identity key
	Control  string // path of the control socket
	Version  string // logged at start
	// Interface is the real interface the daemon's sockets are pinned to
	// on macOS; "" means the default route's. Ignored on Linux.
	Interface string

	// ConfigFile is the --config file; PeerRules are its [[peer]]
	// sections (policies and pinned identities per peer).
	ConfigFile string
	PeerRules  config.Peers
	// Notify shows a desktop notification with the SAS of each encrypted
	// call; SASAudio plays the SAS into the call's audio (G.711 only).
	Notify   bool
	SASAudio bool
	// Level is the log level asked for; LogLevel, if set, is the logger's
	// level, which a reload changes.
	Level    slog.Level
	LogLevel *slog.LevelVar
	// Reload, if set, returns the configuration as it is now (the file
	// read again under the same flags); the daemon calls it on SIGHUP.
	Reload func() (Config, error)
	// DebugAddr, if set, serves Go's profiles there ("unix:/path" or
	// "host:port"; see startDebug). Off by default.
	DebugAddr string
	// MetricsAddr, if set, serves Prometheus metrics at /metrics on this
	// host:port (see startMetrics). Off by default.
	MetricsAddr string
}

// tunMTU leaves room for what an encrypted frame adds, so a full-size
// datagram of the application still fits a 1500-byte path once sealed.
const tunMTU = 1500 - engine.Overhead

// Run sets the daemon up in order, runs it until ctx is done, and tears
// down what it set up in reverse order, also when a step fails half way.
// Its errors say what failed and what to do.
func Run(ctx context.Context, o Config, log *slog.Logger) (err error) {
	hup := watchHangup() // before anything: SIGHUP's default action ends the daemon
	defer signal.Stop(hup)
	var undo []func()
	defer func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}()

	if err := platform.RequireRoot(); err != nil {
		return err
	}
	// Routing a crashed run left behind (its rules and the blackhole) is
	// taken over by router.Up, not removed first: removing it would open
	// the direct path until the new route is in, and a call still in
	// progress would send its frames in clear.
	rcfg := route.Config{TunName: o.TUN, AppPort: o.AppPort, FwMark: route.DefaultFwMark, TakeOver: true,
		TokenFile: filepath.Join(filepath.Dir(o.Control), "pf.token"), TunAddrs: tun.Addresses()}
	if found, err := route.Leftovers(rcfg); err != nil {
		log.Warn("list routing left by an earlier run", "err", err)
	} else {
		for _, f := range found {
			log.Warn("taking over routing left by an earlier run", "what", f)
		}
	}

	id, created, err := keystore.LoadOrCreate(o.StateDir)
	if err != nil {
		return err
	}
	log.Info("identity", "fingerprint", id.Public().Fingerprint(), "created", created, "file", keystore.Path(o.StateDir))
	tr, store, closeTrust, err := openTrust(o, log)
	if err != nil {
		return err
	}
	undo = append(undo, closeTrust) // after the data path stopped: the last calls are saved

	// A TUN that outlived its daemon (another process held it open) must
	// go: the new run's route has to point into a device it owns.
	// Deleting it takes its route along; the blackhole stays.
	if tun.Exists(o.TUN) {
		if err := tun.Delete(o.TUN); err != nil {
			return fmt.Errorf("remove TUN %s left by an earlier run: %w (is another iaxcrypt running? if not, try \"iaxcrypt down --tun %s --app-port %d\")", o.TUN, err, o.TUN, o.AppPort)
		}
		log.Warn("removed TUN device left by an earlier run", "tun", o.TUN)
	}
	tdev, err := tun.Create(o.TUN, tunMTU)
	if err != nil {
		return err
	}
	tunName, err := tdev.Name()
	if err != nil {
		tdev.Close()
		return fmt.Errorf("read the name of TUN %s: %w", o.TUN, err)
	}
	rcfg.TunName = tunName
	go routineTUNEvents(tdev.Events(), tunName, log)
	closeTUN := func() { tdev.Close() }
	undo = append(undo, func() {
		if closeTUN != nil {
			closeTUN()
		}
	})

	sopts := platform.SocketOptions{FwMark: rcfg.FwMark, BindInterface: o.Interface}
	if runtime.GOOS == "darwin" {
		if sopts.BindInterface == "" {
			if sopts.BindInterface, err = platform.DefaultInterface(); err != nil {
				return fmt.Errorf("%w (or name it with --interface)", err)
			}
		}
		rcfg.Egress = sopts.BindInterface
	}
	socks, err := platform.ListenUDPSockets(o.Listen, sopts)
	if err != nil {
		return err // says which port and what to do
	}
	conns := make([]device.UDPConn, 0, len(socks))
	for _, s := range socks {
		growBuffers(s.Conn)
		c, err := device.NewUDPConnOf(s.Conn, socketKind(s.Network))
		if err != nil {
			s.Conn.Close()
			for _, c := range conns {
				c.Close()
			}
			return err
		}
		conns = append(conns, device.WithOffload(c))
	}
	conn, conn6 := conns[0], device.UDPConn(nil)
	if len(conns) == 2 {
		conn6 = conns[1]
	}
	closeConn := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	undo = append(undo, func() {
		if closeConn != nil {
			closeConn()
		}
	})

	router, err := route.New(rcfg)
	if err != nil {
		return fmt.Errorf("set up routing: %w", err)
	}
	// Peers added before Up are installed by Up, so that a take-over
	// keeps their rules from the earlier run instead of removing and
	// adding them again.
	for _, p := range o.Peers {
		if err := router.AddPeer(p); err != nil {
			return fmt.Errorf("route peer %s: %w", p, err)
		}
	}
	if err := router.Up(); err != nil {
		// A refused or failed take-over leaves the kill switch as it
		// was: the application's packets stay dropped, not sent in clear.
		return fmt.Errorf("install routing into TUN %s: %w", tunName, err)
	}
	// Routes go before the TUN does (macOS finds a host route by its
	// interface): this undo runs from the step that started the data path
	// too, ahead of closing it, and once only.
	var routerOnce sync.Once
	closeRouter := func() {
		routerOnce.Do(func() {
			if err := router.Close(); err != nil {
				log.Error("remove routing", "err", err, "fix", "run iaxcrypt down")
			}
		})
	}
	undo = append(undo, closeRouter)

	events := device.NewEventLog(log)
	undo = append(undo, events.Close)
	notifier, closeNotifier := startNotifier(o, log)
	undo = append(undo, closeNotifier)
	onEvent := func(ev engine.Event) {
		events.Handle(ev)
		notifier.Handle(ev)
	}
	sas := newSASAudio(o.SASAudio)
	eng, err := engine.New(engine.Config{Identity: id, Policy: o.Policy, OnEvent: onEvent, Trust: tr, SASAudio: sas.Frames})
	if err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	raw, err := platform.OpenRawSocket(sopts) // passes non-IAX2 traffic to routed peers through
	if err != nil {
		return err
	}
	if err := raw.IPv6Err(); err != nil {
		log.Warn("IPv6 traffic to routed peers that is not IAX2 will be dropped", "err", err)
	}
	dev, err := device.New(device.Config{TUN: tdev, Conn: conn, Conn6: conn6, Engine: eng, Raw: raw, AppPort: o.AppPort, Logger: log})
	if err != nil {
		raw.Close()
		return err
	}
	// The device owns the TUN and socket from here on.
	closeTUN, closeConn = nil, nil
	undo = append(undo, func() {
		closeRouter()
		if err := dev.Close(); err != nil {
			log.Warn("stop data path", "err", err)
		}
		s := dev.Stats()
		log.Info("data path stopped", "from_app", s.FromApp, "to_network", s.ToNetwork,
			"from_network", s.FromNetwork, "to_app", s.ToApp, "not_iax", s.NotIAX, "engine_drops", s.EngineDrops,
			"passed_through", s.PassedThrough, "pass_through_errors", s.PassThroughErrors, "probes", s.Probes)
	})

	// On macOS the sockets and the pf anchor name the real interface:
	// follow the default route's unless --interface named one.
	egress := &egressMover{current: rcfg.Egress, steps: egressSteps(socks, raw, router)}
	if runtime.GOOS == "darwin" && o.Interface == "" {
		if stop, err := followEgress(egress, log); err != nil {
			log.Warn("the daemon will not follow a change of network (restart it after one)", "interface", rcfg.Egress, "err", err)
		} else {
			undo = append(undo, stop) // runs before the data path closes
		}
	}

	info := control.Info{TUN: tunName, AppPort: o.AppPort, Listen: o.Listen, StateDir: o.StateDir, Policy: o.Policy.String(),
		Table: route.DefaultTable, Priority: route.DefaultPriority, FwMark: route.DefaultFwMark, Interface: rcfg.Egress, Config: o.ConfigFile}
	if runtime.GOOS == "darwin" {
		info.PfAnchor = route.DefaultPfAnchor
	}
	srv, err := control.Listen(o.Control, &controlHandler{id: id, eng: eng, router: router, info: info, probes: dev, egress: egress, peersHandler: peersHandler{store}}, log)
	if err != nil {
		return err
	}
	undo = append(undo, func() { srv.Close() })
	if o.DebugAddr != "" {
		dbg, err := startDebug(o.DebugAddr, log)
		if err != nil {
			return err
		}
		undo = append(undo, dbg.close)
	}
	if o.MetricsAddr != "" {
		met, err := startMetrics(o.MetricsAddr, metricsSource{device: dev.Stats, engine: eng.Stats, calls: eng.Calls}, log)
		if err != nil {
			return err
		}
		undo = append(undo, met.close)
	}

	if err := dropPrivileges(o); err != nil {
		return err // platform says what failed and how to fix it
	}
	log.Info("iaxcrypt up", "version", o.Version, "tun", tunName, "app_port", o.AppPort, "listen", o.Listen,
		"policy", o.Policy, "peers", o.Peers, "control", o.Control, "config", o.ConfigFile, "peer_sections", len(o.PeerRules))
	log.Info("what goes through the daemon", "captures", captureSummary(runtime.GOOS, o.AppPort, tunName, len(o.Peers)))
	rl := &reloader{hup: hup, running: o, trust: tr, notify: notifier.SetEnabled, sasAudio: sas.SetEnabled, log: log}
	go rl.RoutineReload(ctx)
	<-ctx.Done()
	log.Info("shutting down: removing routes, rules and the TUN device")
	return nil
}

// controlHandler answers control requests from the engine and the router.
type controlHandler struct {
	id     crypt.Identity
	eng    *engine.Engine
	router route.Router
	info   control.Info
	probes *device.Device
	egress *egressMover // the real interface now (macOS)
	peersHandler
}

// ProbeSeen says whether doctor's probe with this nonce arrived in the TUN.
func (d *controlHandler) ProbeSeen(nonce string) (control.ProbeResult, error) {
	n, err := probe.ParseNonce(nonce)
	if err != nil {
		return control.ProbeResult{}, err
	}
	s, ok := d.probes.ProbeSeen(n)
	if !ok {
		return control.ProbeResult{}, nil
	}
	return control.ProbeResult{Seen: true, Src: s.Src.String(), Dst: s.Dst.String()}, nil
}

// Info says how this daemon is set up, for "iaxcrypt doctor".
func (d *controlHandler) Info() control.Info {
	in := d.info
	if d.egress != nil && in.Interface != "" {
		in.Interface = d.egress.Current()
	}
	for _, p := range d.router.Peers() {
		in.Peers = append(in.Peers, p.String())
	}
	return in
}

// socketKind maps platform's socket networks to the data path's kinds.
func socketKind(network string) device.SocketKind {
	switch network {
	case "udp4":
		return device.SocketIPv4
	case "udp6":
		return device.SocketIPv6Only
	}
	return device.SocketDualStack
}

// routineTUNEvents reads the TUN's events until it is closed (the TUN
// stops delivering them, and on macOS its route listener blocks, when
// nobody reads) and logs the changes.
func routineTUNEvents(events <-chan wgtun.Event, name string, log *slog.Logger) {
	for ev := range events {
		switch {
		case ev&wgtun.EventDown != 0:
			log.Warn("TUN device went down", "tun", name)
		case ev&wgtun.EventUp != 0:
			log.Info("TUN device is up", "tun", name)
		case ev&wgtun.EventMTUUpdate != 0:
			log.Info("TUN device MTU changed", "tun", name)
		}
	}
}

func (d *controlHandler) Status() control.Status {
	infos := d.eng.Calls(time.Now())
	st := control.Status{Identity: d.id.Public().Fingerprint(), Calls: make([]control.CallStatus, 0, len(infos))}
	for _, ci := range infos {
		st.Calls = append(st.Calls, callStatus(ci))
	}
	return st
}

// callStatus converts the engine's view of a call for the control socket.
func callStatus(ci engine.CallInfo) control.CallStatus {
	cs := control.CallStatus{
		Peer: ci.Peer.String(), LocalCall: ci.LocalCall, RemoteCall: ci.RemoteCall,
		State: ci.Status.String(), TxPackets: ci.TxPackets, RxPackets: ci.RxPackets, Dropped: ci.Dropped,
		Warning: string(ci.Warning),
	}
	for r, n := range ci.Drops {
		if n > 0 {
			if cs.Drops == nil {
				cs.Drops = make(map[string]uint64)
			}
			cs.Drops[engine.DropReason(r).String()] = uint64(n)
		}
	}
	if ci.Encrypted {
		cs.Cipher = ci.Cipher.String()
		cs.SAS = ci.SAS.String()
		cs.PeerIdentity = ci.PeerIdentity.Fingerprint()
	} else {
		cs.Reason = ci.Reason
	}
	return cs
}

func (d *controlHandler) AddRoute(p netip.Addr) error {
	if err := d.router.AddPeer(p); err != nil {
		return fmt.Errorf("route %s: %w", p, err)
	}
	return nil
}

func (d *controlHandler) DelRoute(p netip.Addr) error {
	if err := d.router.DelPeer(p); err != nil {
		if errors.Is(err, route.ErrUnknownPeer) {
			return fmt.Errorf("%s is not routed through the daemon (see the --peer flags and route add)", p)
		}
		return fmt.Errorf("remove route to %s: %w", p, err)
	}
	return nil
}
