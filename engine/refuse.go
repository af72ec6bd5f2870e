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

// refuseAccept refuses an incoming call at the local application's ACCEPT:
// the peer gets a REJECT in its place, and the application a HANGUP as if
// from the peer, both with a cause that says why.
func (e *Engine) refuseAccept(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, out []byte, reason string) Result {
	cause := causeIEs(reason)
	reject := *f
	reject.Subclass = uint8(iax.IAXReject)
	reject.Payload = cause
	hangup := iax.FullFrame{
		SrcCall: c.RemoteCall, DstCall: c.LocalCall,
		Timestamp: c.LastFromPeer.Timestamp + 1,
		OSeq:      c.LastFromPeer.NextOSeq, ISeq: f.OSeq + 1,
		Type: iax.FrameIAX, Subclass: uint8(iax.IAXHangup), Payload: cause,
	}
	e.inject(ToApp, c.Peer, hangup.AppendTo(nil))
	e.fail(now, c, reason)
	return forward(reject.AppendTo(out[:0]))
}

// refusePeerAccept refuses an outgoing call at the peer's ACCEPT: the
// application gets a REJECT in its place, and the peer a HANGUP, both with
// a cause that says why.
func (e *Engine) refusePeerAccept(now time.Time, c *iax.Call[*callState], f *iax.FullFrame, out []byte, reason string) Result {
	cause := causeIEs(reason)
	reject := *f
	reject.Subclass = uint8(iax.IAXReject)
	reject.Payload = cause
	hangup := iax.FullFrame{
		SrcCall: c.LocalCall, DstCall: f.SrcCall,
		Timestamp: c.LastFromApp.Timestamp + 1,
		OSeq:      c.LastFromApp.NextOSeq, ISeq: f.OSeq + 1,
		Type: iax.FrameIAX, Subclass: uint8(iax.IAXHangup), Payload: cause,
	}
	e.inject(ToNetwork, c.Peer, hangup.AppendTo(nil))
	e.fail(now, c, reason)
	return forward(reject.AppendTo(out[:0]))
}

func (e *Engine) fail(now time.Time, c *iax.Call[*callState], reason string) {
	e.stats.Dropped[DropPolicy]++
	c.Data.session = nil
	e.setStatus(now, c, StatusFailed, reason, nil)
	e.calls.End(c, now)
	c.Data.endNoted = true // the failed event says it all
}
