package device

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	wgtun "golang.zx2c4.com/wireguard/tun"

	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/probe"
)

// Engine is what the data path needs from the per-packet logic;
// *engine.Engine implements it.
type Engine interface {
	Outbound(now time.Time, peer netip.AddrPort, frame, out []byte) engine.Result
	Inbound(now time.Time, peer netip.AddrPort, pkt, out []byte) engine.Result
	TakeInjected(dst []engine.Packet) []engine.Packet
	Expire(now time.Time)
}

const (
	// tunOffset is the headroom left in front of every packet read from or
	// written to the TUN. Linux needs at least 10 bytes for the virtio-net
	// header; 16 keeps the IP header aligned.
	tunOffset = 16
	// maxDatagram is the largest IP packet or UDP payload a buffer holds.
	maxDatagram = 65535
	// maxBatch caps the batch size a TUN or socket asks for.
	maxBatch = 128
	// maxAppAddrs bounds the table of the application's local address per
	// peer; it is filled only from the application's own packets.
	maxAppAddrs = 4096
	// DefaultExpireInterval is how often Engine.Expire runs by default.
	DefaultExpireInterval = time.Second
)

// Config is what New needs. TUN, Conn and Engine are required.
type Config struct {
	// TUN carries the application's packets. The Device owns it and
	// closes it in Close.
	TUN wgtun.Device
	// Conn is the daemon's UDP socket. The Device owns it and closes it
	// in Close.
	Conn UDPConn
	// Conn6, when set, is a second socket for IPv6 peers (macOS, whose
	// IPv6 sockets cannot send to IPv4 peers, gets one socket of each
	// family): datagrams to IPv6 peers leave from it, those to IPv4 peers
	// from Conn, and both are read. Optional; owned and closed like Conn.
	Conn6 UDPConn
	// Engine handles every datagram in both directions.
	Engine Engine
	// Raw sends packets read from the TUN that are not the application's
	// IAX2 (other traffic to a routed peer) unchanged on the real network.
	// Optional: when nil such packets are dropped and counted as NotIAX.
	// The Device owns it and closes it in Close.
	Raw RawSender
	// AppPort is the application's IAX2 port (4569 by default); only UDP
	// from this port is taken from the TUN, and replies go to it.
	AppPort uint16
	// FallbackAppAddrs are local addresses to deliver a peer's datagram
	// to when neither the application has sent to that peer yet nor the
	// socket told the address the datagram arrived on (IPv4 first used for
	// IPv4 peers, IPv6 for IPv6 peers). Optional.
	FallbackAppAddrs []netip.Addr
	// Clock gives the time passed to the engine; time.Now when nil.
	Clock func() time.Time
	// ExpireInterval is how often Engine.Expire runs;
	// DefaultExpireInterval when zero.
	ExpireInterval time.Duration
	// Logger receives the data path's rare messages; slog.Default when nil.
	Logger *slog.Logger
}

// Device runs the data path between a TUN and a UDP socket. Create it with
// New and stop it with Close.
type Device struct {
	tun     wgtun.Device
	conn    UDPConn
	conn6   UDPConn // nil: conn carries both families
	eng     Engine
	raw     RawSender
	appPort uint16
	clock   func() time.Time
	log     *slog.Logger
	expire  time.Duration
	fallbk4 netip.Addr
	fallbk6 netip.Addr

	stats counters
	// probes remembers the doctor's probes read from the TUN.
	probes probe.Log

	// appAddrs maps a peer's IP to the application's local IP seen as
	// the source of its packets to that peer.
	appMu    sync.RWMutex
	appAddrs map[netip.Addr]netip.Addr

	closeOnce sync.Once
	closing   chan struct{}
	wg        sync.WaitGroup
	closeErr  error
}

// New checks cfg and starts the data path's routines.
func New(cfg Config) (*Device, error) {
	switch {
	case cfg.TUN == nil:
		return nil, fmt.Errorf("%w: no TUN device", errInvalidConfig)
	case cfg.Conn == nil:
		return nil, fmt.Errorf("%w: no UDP socket", errInvalidConfig)
	case cfg.Engine == nil:
		return nil, fmt.Errorf("%w: no engine", errInvalidConfig)
	case cfg.AppPort == 0:
		return nil, fmt.Errorf("%w: application port is 0; give the IAX2 application's UDP port (usually 4569)", errInvalidConfig)
	}
	d := &Device{
		tun:      cfg.TUN,
		conn:     cfg.Conn,
		conn6:    cfg.Conn6,
		eng:      cfg.Engine,
		raw:      cfg.Raw,
		appPort:  cfg.AppPort,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		expire:   cfg.ExpireInterval,
		appAddrs: make(map[netip.Addr]netip.Addr),
		closing:  make(chan struct{}),
	}
	if d.clock == nil {
		d.clock = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.expire <= 0 {
		d.expire = DefaultExpireInterval
	}
	for _, a := range cfg.FallbackAppAddrs {
		a = a.Unmap()
		if a.Is4() && !d.fallbk4.IsValid() {
			d.fallbk4 = a
		} else if a.Is6() && !d.fallbk6.IsValid() {
			d.fallbk6 = a
		}
	}
	d.wg.Add(3)
	go d.RoutineReadFromTUN()
	go d.RoutineReadFromUDP(d.conn)
	go d.RoutineTimer()
	if d.conn6 != nil {
		d.wg.Add(1)
		go d.RoutineReadFromUDP(d.conn6)
	}
	return d, nil
}

// Close stops the data path: it closes the TUN and the socket, which ends
// the reading routines, closes the RawSender once they have returned, and
// returns. It is safe to call more than once.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		close(d.closing)
		errT := d.tun.Close()
		errC := d.conn.Close()
		if d.conn6 != nil {
			if err := d.conn6.Close(); errC == nil {
				errC = err
			}
		}
		d.wg.Wait()
		var errR error
		if d.raw != nil {
			errR = d.raw.Close()
		}
		switch {
		case errT != nil:
			d.closeErr = fmt.Errorf("close TUN device: %w", errT)
		case errC != nil:
			d.closeErr = fmt.Errorf("close UDP socket: %w", errC)
		case errR != nil:
			d.closeErr = fmt.Errorf("close pass-through raw socket: %w", errR)
		}
	})
	return d.closeErr
}

// isClosing reports whether Close has been called.
func (d *Device) isClosing() bool {
	select {
	case <-d.closing:
		return true
	default:
		return false
	}
}

// learnAppAddr remembers that the application uses local as its source
// address toward peer.
func (d *Device) learnAppAddr(peer, local netip.Addr) {
	d.appMu.RLock()
	cur, ok := d.appAddrs[peer]
	d.appMu.RUnlock()
	if ok && cur == local {
		return
	}
	d.appMu.Lock()
	defer d.appMu.Unlock()
	if _, ok := d.appAddrs[peer]; !ok && len(d.appAddrs) >= maxAppAddrs {
		// Full: forget one arbitrary entry; it is relearned from the
		// application's next packet to that peer.
		for k := range d.appAddrs {
			delete(d.appAddrs, k)
			break
		}
	}
	d.appAddrs[peer] = local
}

// appAddrFor picks the local address to deliver a datagram from peer to:
// the one the application used toward that peer, else the one the datagram
// arrived on, else a configured fallback.
func (d *Device) appAddrFor(peer, arrivedOn netip.Addr) (netip.Addr, bool) {
	d.appMu.RLock()
	a, ok := d.appAddrs[peer]
	d.appMu.RUnlock()
	if ok {
		return a, true
	}
	arrivedOn = arrivedOn.Unmap()
	if arrivedOn.IsValid() && !arrivedOn.IsUnspecified() && arrivedOn.Is4() == peer.Is4() {
		return arrivedOn, true
	}
	if peer.Is4() && d.fallbk4.IsValid() {
		return d.fallbk4, true
	}
	if peer.Is6() && d.fallbk6.IsValid() {
		return d.fallbk6, true
	}
	return netip.Addr{}, false
}

// RoutineTimer runs Engine.Expire every ExpireInterval until Close.
func (d *Device) RoutineTimer() {
	defer d.wg.Done()
	t := time.NewTicker(d.expire)
	defer t.Stop()
	inj := newInjector(d)
	for {
		select {
		case <-d.closing:
			return
		case <-t.C:
			d.eng.Expire(d.clock())
			inj.flush()
		}
	}
}
