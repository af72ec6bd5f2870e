package load

import (
	"net/netip"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// phase is where a call is.
type phase uint8

const (
	phaseFree     phase = iota
	phaseCalling        // NEW sent, no ACCEPT yet
	phaseAccepted       // ACCEPT received, no ANSWER yet
	phaseUp             // answered: voice flows
	phaseHangup         // HANGUP sent, not acknowledged yet
	phaseEnded          // over; lingering for retransmissions
	phaseFailed         // gave up (no answer, REJECT, retries exhausted)
)

var phaseNames = [...]string{"free", "calling", "accepted", "up", "hanging up", "ended", "failed"}

func (p phase) String() string { return phaseNames[p] }

// pendingFrame is a full frame sent and not acknowledged yet.
type pendingFrame struct {
	oseq  uint8
	data  []byte
	tries int
	next  int64
	what  string
}

// call is one call of a Host.
type call struct {
	index         uint32
	local, remote uint16
	peer          netip.AddrPort
	phase         phase
	reason        string

	start, accepted, answered, ended int64
	// tsBase is the origin of the call's timestamps.
	tsBase     int64
	oseq, iseq uint8
	pending    []pendingFrame

	// Voice sent.
	voice       bool
	seq         uint32
	nextVoice   int64
	voiceTs0    uint32
	fullVoiceTs uint32 // timestamp of the last full voice frame sent
	sentFull    bool
	hangupAt    int64
	txVoice     uint64
	retransmits uint64

	// Voice received.
	rx                 RxStats
	corrupt, misrouted uint64

	wakeAt    int64
	scheduled bool
	lingerEnd int64
	counted   bool // folded into the Host's totals
}

// ts is the call's timestamp at now, in milliseconds.
func (c *call) ts(now int64) uint32 { return uint32((now - c.tsBase) / 1e6) }

// header fills the call-number fields of a full frame the call sends.
func (c *call) frame(now int64, t iax.FrameType, sub uint8, payload []byte) iax.FullFrame {
	return iax.FullFrame{SrcCall: c.local, DstCall: c.remote, Timestamp: c.ts(now), Type: t, Subclass: sub, Payload: payload}
}

// ackUpTo forgets the pending frames the peer's iseq acknowledges.
func (c *call) ackUpTo(iseq uint8) {
	k := c.pending[:0]
	for _, p := range c.pending {
		if !seqBefore(p.oseq, iseq) {
			k = append(k, p)
		}
	}
	clear(c.pending[len(k):])
	c.pending = k
}

// live says whether the call still has work: not ended, failed or free.
func (c *call) live() bool { return c.phase >= phaseCalling && c.phase <= phaseHangup }
