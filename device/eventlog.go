package device

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/iaxcrypt/iaxcrypt/engine"
)

// EventLogQueue is how many engine events may wait for the logger before
// new ones are counted and dropped.
const EventLogQueue = 1024

// EventLog writes the engine's events to a logger away from the packet
// path: the engine calls Handle with its lock held, so Handle only queues,
// and RoutineLogEvents does the writing. When the queue is full (a flood of
// drops), events are counted and lost, never waited for.
type EventLog struct {
	log   *slog.Logger
	queue chan engine.Event
	lost  atomic.Uint64
	done  chan struct{}
	once  sync.Once
}

// NewEventLog starts the logging routine; Close stops it.
func NewEventLog(log *slog.Logger) *EventLog {
	l := &EventLog{log: log, queue: make(chan engine.Event, EventLogQueue), done: make(chan struct{})}
	go l.RoutineLogEvents()
	return l
}

// Handle queues an event; it is the engine's Config.OnEvent.
func (l *EventLog) Handle(ev engine.Event) {
	select {
	case l.queue <- ev:
	default:
		l.lost.Add(1)
	}
}

// Lost returns how many events were dropped because the queue was full.
func (l *EventLog) Lost() uint64 { return l.lost.Load() }

// Close stops the routine after it has written what is queued.
func (l *EventLog) Close() {
	l.once.Do(func() { close(l.queue) })
	<-l.done
}

// RoutineLogEvents writes queued events until Close.
func (l *EventLog) RoutineLogEvents() {
	defer close(l.done)
	for ev := range l.queue {
		l.write(ev)
	}
}

func (l *EventLog) write(ev engine.Event) {
	attrs := []any{"peer", ev.Peer, "local_call", ev.LocalCall, "remote_call", ev.RemoteCall}
	if ev.Kind != engine.EventDrop {
		dir := "incoming"
		if ev.Outgoing {
			dir = "outgoing"
		}
		attrs = append(attrs, "direction", dir)
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
	}
	if ev.Warning != engine.WarnNone {
		attrs = append(attrs, "warning", string(ev.Warning))
	}
	switch ev.Kind {
	case engine.EventNegotiating:
		l.log.Debug("call negotiating", append(attrs, "step", ev.Reason)...)
	case engine.EventEncrypted:
		// The line people read the SAS from: peer, call numbers, cipher,
		// SAS, peer identity (a public key) and warnings; never a key.
		attrs = append(attrs, "cipher", ev.Cipher, "sas", ev.SAS.String(), "peer_identity", ev.PeerIdentity.Fingerprint())
		if ev.Warning != engine.WarnNone {
			l.log.Warn("call encrypted, with a warning: compare the SAS", attrs...)
			return
		}
		l.log.Info("call encrypted", attrs...)
	case engine.EventCleartext:
		l.log.Warn("call in cleartext", append(attrs, "why", ev.Reason)...)
	case engine.EventFailed:
		l.log.Warn("call refused", append(attrs, "why", ev.Reason)...)
	case engine.EventEnded:
		l.log.Info("call ended", append(attrs, "why", ev.Reason)...)
	case engine.EventDrop:
		l.log.Debug("packet dropped", append(attrs, "why", ev.Drop)...)
	case engine.EventWarning:
		l.log.Warn("call warning", append(attrs, "why", ev.Reason)...)
	}
}
