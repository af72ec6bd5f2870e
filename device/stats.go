package device

import "sync/atomic"

// Stats are the data path's counters since New.
type Stats struct {
	// FromApp and ToNetwork count datagrams read from the TUN and sent
	// on the socket (including injected ones).
	FromApp   uint64
	ToNetwork uint64
	// FromNetwork and ToApp count datagrams read from the socket and
	// written into the TUN (including injected ones).
	FromNetwork uint64
	ToApp       uint64
	// NotIAX counts TUN packets that are neither the application's IAX2
	// (UDP from the application port) nor passed through: malformed
	// packets, fragments of UDP, the kernel's link-local and multicast
	// chatter on the TUN, and, when Config.Raw is nil, everything else that
	// is not IAX2. They are dropped.
	NotIAX uint64
	// PassedThrough counts TUN packets that were not the application's
	// IAX2 and were sent out unchanged through Config.Raw;
	// PassThroughErrors counts those the RawSender failed to send.
	PassedThrough     uint64
	PassThroughErrors uint64
	// Probes counts doctor's probe datagrams read from the TUN (recorded,
	// never forwarded; see ProbeSeen).
	Probes uint64
	// EngineDrops counts datagrams the engine decided to drop.
	EngineDrops uint64
	// NoAppAddr counts datagrams from the network dropped because no
	// local address of the application was known.
	NoAppAddr uint64
	// SendErrors and WriteErrors count datagrams lost to socket and TUN
	// errors; ReadErrors counts failed reads.
	SendErrors  uint64
	WriteErrors uint64
	ReadErrors  uint64
}

type counters struct {
	fromApp, toNetwork, fromNetwork, toApp atomic.Uint64
	notIAX, engineDrops, noAppAddr         atomic.Uint64
	sendErrors, writeErrors, readErrors    atomic.Uint64
	passedThrough, passThroughErrors       atomic.Uint64
	probes                                 atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (d *Device) Stats() Stats {
	c := &d.stats
	return Stats{
		FromApp:           c.fromApp.Load(),
		ToNetwork:         c.toNetwork.Load(),
		FromNetwork:       c.fromNetwork.Load(),
		ToApp:             c.toApp.Load(),
		NotIAX:            c.notIAX.Load(),
		PassedThrough:     c.passedThrough.Load(),
		PassThroughErrors: c.passThroughErrors.Load(),
		Probes:            c.probes.Load(),
		EngineDrops:       c.engineDrops.Load(),
		NoAppAddr:         c.noAppAddr.Load(),
		SendErrors:        c.sendErrors.Load(),
		WriteErrors:       c.writeErrors.Load(),
		ReadErrors:        c.readErrors.Load(),
	}
}
