package load

import (
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// Host is one side of the load: a caller placing calls or a callee
// answering them. It does no I/O and reads no clock: Handle takes each
// datagram received, Tick runs the schedule, and both put what is to be
// sent in an Outbox. It is not safe for concurrent use.
type Host struct {
	cfg       Config
	calls     []*call // by local call number
	byRemote  map[remoteKey]uint16
	wheel     *wheel
	begin     int64
	nextLocal uint16
	maxLocal  uint16 // highest call number used (MaxCalls; tests lower it)
	active    int    // calls not ended, failed or free

	// Caller: the calls placed so far and when the next may start.
	nextIndex uint32
	nextStart int64
	stopAt    int64 // no new calls from then on (RunFor); 0: Calls once
	lastDue   int64 // the latest HANGUP due so far

	trunks    map[netip.AddrPort]*trunkOut
	nextTrunk int64

	intervalMs uint32
	// tsOffset shifts every call's timestamps (tests reach the 16-bit
	// wrap of mini frames with it).
	tsOffset int64

	totals  totals
	done    []CallReport // calls freed, when PerCall
	scratch []byte
}

type remoteKey struct {
	peer netip.AddrPort
	call uint16
}

// totals are the counters of the Host and of the calls it freed.
type totals struct {
	attempted, answered, failed, unfinished uint64
	setup                                   Histogram
	firstNew, lastAnswer                    int64
	txVoice, txFull, retransmits            uint64
	txTrunkFrames                           uint64
	rx                                      RxStats // counters only; latency merged in rxLatency
	rxLatency                               Histogram
	rxExpected                              uint64
	jitterSum, jitterMax                    float64
	jitterCalls                             uint64
	corrupt, misrouted                      uint64
	echoForward                             Histogram
	foreign, unknownCall, outOfOrder        uint64
	noCallNumber                            uint64
}

// NewHost returns a Host for cfg whose schedule starts at now (Unix
// nanoseconds).
func NewHost(cfg Config, now int64) (*Host, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	h := &Host{
		cfg:        cfg,
		calls:      make([]*call, MaxCalls+1),
		byRemote:   make(map[remoteKey]uint16),
		wheel:      newWheel(int64(cfg.Tick), 4096, now),
		begin:      now,
		nextLocal:  1,
		maxLocal:   MaxCalls,
		nextStart:  now,
		trunks:     make(map[netip.AddrPort]*trunkOut),
		nextTrunk:  now + int64(cfg.TrunkInterval),
		intervalMs: uint32(cfg.Interval / time.Millisecond),
		scratch:    make([]byte, cfg.PayloadSize),
	}
	if cfg.Role == Caller && cfg.RunFor > 0 {
		h.stopAt = now + int64(cfg.RunFor)
	}
	return h, nil
}

// Config returns the Host's configuration with defaults filled in.
func (h *Host) Config() Config { return h.cfg }

// Done reports whether a Caller has nothing left to do: every call placed
// and over (or given up on after Drain). A Callee is never done.
func (h *Host) Done(now int64) bool {
	if h.cfg.Role != Caller || h.placing(now) {
		return false
	}
	if h.active == 0 {
		return true
	}
	return h.lastDue > 0 && now > h.lastDue+int64(h.cfg.Drain)
}

// placing says whether a Caller still has calls to start.
func (h *Host) placing(now int64) bool {
	if h.stopAt > 0 {
		return now < h.stopAt
	}
	return int(h.nextIndex) < h.cfg.Calls
}

// Tick starts the calls due, runs every call whose time has come (voice,
// retransmissions, HANGUP, end of lingering) and sends the trunk frames
// due.
func (h *Host) Tick(now int64, out *Outbox) {
	if h.cfg.Role == Caller {
		for h.placing(now) && h.active < h.cfg.Calls && h.nextStart <= now {
			if !h.place(now, out) {
				break
			}
			h.nextStart += int64(float64(time.Second) / h.cfg.SetupRate)
		}
		if h.nextStart < now-int64(time.Second) { // do not burst after a stall
			h.nextStart = now
		}
	}
	h.wheel.advance(now, func(id uint32, at int64) {
		c := h.calls[id]
		if c == nil || !c.scheduled || c.wakeAt != at {
			return // stale entry
		}
		c.scheduled = false
		h.wake(now, c, out)
	})
	if h.cfg.Trunk && now >= h.nextTrunk {
		for _, t := range h.trunks {
			h.flushTrunk(now, t, out)
		}
		h.nextTrunk += int64(h.cfg.TrunkInterval)
		if h.nextTrunk <= now {
			h.nextTrunk = now + int64(h.cfg.TrunkInterval)
		}
	}
}

// answerTimeout is how long a Caller's call may stay accepted without an
// ANSWER before it fails (a callee that vanished after its ACCEPT).
const answerTimeout = 60 * time.Second

// schedule makes sure c is woken at at or earlier.
func (h *Host) schedule(c *call, at int64) {
	if c.scheduled && c.wakeAt <= at {
		return
	}
	c.wakeAt, c.scheduled = at, true
	h.wheel.add(uint32(c.local), at)
}

// allocLocal finds a free call number, or 0 when all are taken. Numbers
// are handed out in turn, so a number comes back only after all others.
func (h *Host) allocLocal() uint16 {
	for range h.maxLocal {
		n := h.nextLocal
		h.nextLocal++
		if h.nextLocal > h.maxLocal {
			h.nextLocal = 1
		}
		if h.calls[n] == nil {
			return n
		}
	}
	return 0
}

// place starts a Caller's next call with its NEW.
func (h *Host) place(now int64, out *Outbox) bool {
	local := h.allocLocal()
	if local == 0 {
		h.totals.noCallNumber++
		return false
	}
	c := &call{index: h.nextIndex, local: local, peer: h.cfg.Target, phase: phaseCalling, start: now, tsBase: now - h.tsOffset}
	h.nextIndex++
	h.calls[local] = c
	h.active++
	h.totals.attempted++
	if h.totals.firstNew == 0 {
		h.totals.firstNew = now
	}
	f := c.frame(now, iax.FrameIAX, uint8(iax.IAXNew), newIEs(c.index))
	h.sendReliable(now, c, &f, "NEW", out)
	return true
}

// sendReliable sends a counted full frame and keeps it until acknowledged.
func (h *Host) sendReliable(now int64, c *call, f *iax.FullFrame, what string, out *Outbox) {
	f.OSeq, f.ISeq = c.oseq, c.iseq
	c.oseq++
	b := f.AppendTo(out.next())
	out.commit(c.peer, b)
	h.totals.txFull++
	c.pending = append(c.pending, pendingFrame{oseq: f.OSeq, data: append([]byte(nil), b...), next: now + int64(h.cfg.Retry), what: what})
	h.schedule(c, now+int64(h.cfg.Retry))
}

// sendUncounted sends a full frame that does not advance the sequence
// (ACK, VNAK) with the timestamp ts.
func (h *Host) sendUncounted(c *call, sub iax.IAXSubclass, ts uint32, out *Outbox) {
	f := iax.FullFrame{SrcCall: c.local, DstCall: c.remote, Timestamp: ts, OSeq: c.oseq, ISeq: c.iseq, Type: iax.FrameIAX, Subclass: uint8(sub)}
	out.commit(c.peer, f.AppendTo(out.next()))
	h.totals.txFull++
}

// wake runs what is due for c: retransmissions, HANGUP, voice, the end of
// lingering; then schedules its next wake-up.
func (h *Host) wake(now int64, c *call, out *Outbox) {
	if c.phase == phaseEnded || c.phase == phaseFailed {
		if now >= c.lingerEnd {
			h.free(c)
			return
		}
		h.schedule(c, c.lingerEnd)
		return
	}
	for i := range c.pending {
		p := &c.pending[i]
		if p.next > now {
			continue
		}
		if p.tries >= h.cfg.MaxRetries {
			h.fail(now, c, "no acknowledgement of "+p.what)
			h.schedule(c, c.lingerEnd)
			return
		}
		p.tries++
		p.data[2] |= 0x80 // the R bit
		p.data[9] = c.iseq
		delay := h.cfg.Retry
		for range p.tries {
			delay = min(delay*10, h.cfg.RetryMax)
		}
		p.next = now + int64(delay)
		out.add(c.peer, p.data)
		c.retransmits++
		h.totals.retransmits++
	}
	if h.cfg.Role == Caller && c.phase == phaseUp && now >= c.hangupAt {
		h.hangup(now, c, out)
	}
	if c.phase == phaseAccepted && now >= c.accepted+int64(answerTimeout) {
		h.fail(now, c, "accepted but never answered")
		return
	}
	for c.voice && c.nextVoice <= now {
		h.sendVoice(now, c, out)
		c.nextVoice += int64(h.cfg.Interval)
	}
	next := int64(1<<63 - 1)
	for _, p := range c.pending {
		next = min(next, p.next)
	}
	if c.voice {
		next = min(next, c.nextVoice)
	}
	if h.cfg.Role == Caller && c.phase == phaseUp {
		next = min(next, c.hangupAt)
	}
	if c.phase == phaseAccepted {
		next = min(next, c.accepted+int64(answerTimeout))
	}
	if next < 1<<63-1 {
		h.schedule(c, next)
	}
}

// startVoice begins c's voice at now (unless silent or echoing).
func (h *Host) startVoice(now int64, c *call) {
	if h.cfg.Silent || (h.cfg.Role == Callee && h.cfg.Echo) {
		return
	}
	c.voice = true
	c.nextVoice = now
	c.voiceTs0 = c.ts(now)
}

// hangup sends a Caller's HANGUP and stops its voice.
func (h *Host) hangup(now int64, c *call, out *Outbox) {
	c.voice = false
	c.phase = phaseHangup
	f := c.frame(now, iax.FrameIAX, uint8(iax.IAXHangup), hangupIEs)
	h.sendReliable(now, c, &f, "HANGUP", out)
}

// end marks c over; its call number stays taken for Linger.
func (h *Host) end(now int64, c *call, ph phase, reason string) {
	if !c.live() {
		return
	}
	c.phase, c.reason, c.ended = ph, reason, now
	c.voice = false
	clear(c.pending)
	c.pending = nil
	c.lingerEnd = now + int64(h.cfg.Linger)
	h.active--
	h.schedule(c, c.lingerEnd)
}

func (h *Host) fail(now int64, c *call, reason string) {
	if c.live() {
		h.totals.failed++
	}
	h.end(now, c, phaseFailed, reason)
}

// free forgets c and folds its figures into the totals.
func (h *Host) free(c *call) {
	h.fold(c)
	if h.cfg.PerCall {
		h.done = append(h.done, h.callReport(c))
	}
	if c.remote != 0 {
		k := remoteKey{c.peer, c.remote}
		if h.byRemote[k] == c.local {
			delete(h.byRemote, k)
		}
	}
	h.calls[c.local] = nil
	c.phase = phaseFree
}

// sendVoice sends c's next voice frame: a full frame first and whenever
// the low 16 bits of the timestamp wrapped since the last full one, else
// a mini frame or a trunk entry.
func (h *Host) sendVoice(now int64, c *call, out *Outbox) {
	ts := c.voiceTs0 + c.seq*h.intervalMs
	pl := h.scratch[:h.cfg.PayloadSize]
	PutPayload(pl, Payload{Index: c.index, Seq: c.seq, Sent: now})
	h.voiceOut(now, c, ts, pl, out)
	c.seq++
	c.txVoice++
	h.totals.txVoice++
}

// voiceOut sends one voice payload of c with timestamp ts.
func (h *Host) voiceOut(now int64, c *call, ts uint32, pl []byte, out *Outbox) {
	switch {
	case !c.sentFull || ts>>16 != c.fullVoiceTs>>16:
		c.sentFull, c.fullVoiceTs = true, ts
		f := c.frame(now, iax.FrameVoice, formatULaw, pl)
		f.Timestamp = ts
		h.sendReliable(now, c, &f, "voice frame", out)
	case h.cfg.Trunk:
		h.trunkEntry(now, c, uint16(ts), pl, out)
	default:
		m := iax.MiniFrame{SrcCall: c.local, Timestamp: uint16(ts), Payload: pl}
		out.commit(c.peer, m.AppendTo(out.next()))
	}
}
