package engine

import (
	"time"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// causeRejected is the Q.850 cause code sent with refusals ("call
// rejected"); the CAUSE text says why.
const causeRejected = 21

func causeIEs(reason string) []byte {
	text := []byte("iaxcrypt: " + reason)
	if len(text) > 255 {
		text = text[:255]
	}
	b, _ := iax.AppendIE(nil, iax.IECause, text)
	b, _ = iax.AppendIE(b, iax.IECauseCode, []byte{causeRejected})
	return b
}

// refuseAccept fails a call at its ACCEPT frame f, which came from the
// given side. The ACCEPT goes on as a REJECT (to the peer if the local
// application accepted, to the application if the peer did), and the
// other side gets a HANGUP made up as if from the refused party; both
// carry a cause that says why. Sequence numbers follow the last frames
// seen, so neither IAX2 stack takes the made-up frame for a stray.
func (e *Engine) refuseAccept(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, from iax.Direction, out []byte, reason string) Result {
	cause := causeIEs(reason)
	reject := *f
	reject.Subclass = uint8(iax.IAXReject)
	reject.Payload = cause
	hangup := iax.FullFrame{ISeq: f.OSeq + 1, Type: iax.FrameIAX, Subclass: uint8(iax.IAXHangup), Payload: cause}
	to := ToApp // the HANGUP goes where the REJECT does not
	mark := c.LastFromPeer
	hangup.SrcCall, hangup.DstCall = c.RemoteCall, c.LocalCall
	if from == iax.FromPeer {
		to, mark = ToNetwork, c.LastFromApp
		hangup.SrcCall, hangup.DstCall = c.LocalCall, f.SrcCall
	}
	hangup.Timestamp, hangup.OSeq = mark.Timestamp+1, mark.NextOSeq
	e.inject(to, c.Peer, hangup.AppendTo(nil))
	e.stats.Dropped[DropPolicy]++
	e.dropKeys(c)
	e.setStatus(now, c, StatusFailed, reason, nil)
	e.calls.End(c, now)
	c.Data.endNoted = true // the failed event says it all
	return forward(reject.AppendTo(out[:0]))
}

// refuseCall ends a call in progress that the policy no longer allows: each
// side gets a HANGUP made up as if from the other, with a cause that says
// why. The call's frames are dropped from then on (it is ended).
func (e *Engine) refuseCall(now time.Time, c *iax.Call[*callState], reason string) {
	cause := causeIEs(reason)
	toApp := iax.FullFrame{SrcCall: c.RemoteCall, DstCall: c.LocalCall, Type: iax.FrameIAX,
		Subclass: uint8(iax.IAXHangup), Payload: cause,
		Timestamp: c.LastFromPeer.Timestamp + 1, OSeq: c.LastFromPeer.NextOSeq, ISeq: c.LastFromApp.NextOSeq}
	toPeer := iax.FullFrame{SrcCall: c.LocalCall, DstCall: c.RemoteCall, Type: iax.FrameIAX,
		Subclass: uint8(iax.IAXHangup), Payload: cause,
		Timestamp: c.LastFromApp.Timestamp + 1, OSeq: c.LastFromApp.NextOSeq, ISeq: c.LastFromPeer.NextOSeq}
	e.inject(ToApp, c.Peer, toApp.AppendTo(nil))
	e.inject(ToNetwork, c.Peer, toPeer.AppendTo(nil))
	e.dropKeys(c)
	e.setStatus(now, c, StatusFailed, reason, nil)
	e.calls.End(c, now)
	c.Data.endNoted = true
}
