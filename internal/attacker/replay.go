package attacker

import (
	"bytes"
	"time"
)

// replayRing is how many encrypted frames per direction the replay mode
// remembers; ReplayDistance may not exceed it.
const replayRing = 256

// holdLimit is the longest a reordered frame waits for the next frame of
// its direction before it is sent anyway.
const holdLimit = 200 * time.Millisecond

// replayState is the replay mode's memory of one direction.
type replayState struct {
	n      int // encrypted frames seen
	ring   [replayRing][]byte
	held   []byte
	heldAt time.Time
}

// handleReplay duplicates, replays and reorders encrypted frames of the
// call (attack d). Every copy the receiver gets twice must be dropped as a
// replay; a reordered frame, seen once, must be accepted.
func (a *Attacker) handleReplay(now time.Time, p packet) [][]byte {
	dir, ok := p.sealedDir()
	if !ok {
		return p.pass()
	}
	s := &a.replay[dir]
	s.n++
	frame := bytes.Clone(p.pkt)
	var out [][]byte
	switch {
	case s.held != nil:
		// The frame held back goes after this one.
		out = append(out, frame, s.held)
		s.held = nil
		a.c.Reordered++
	case every(s.n, a.set.ReorderEvery) && (a.set.ReorderUntil < 0 || s.n <= a.set.ReorderUntil):
		s.held, s.heldAt = frame, now
	default:
		out = append(out, frame)
		if every(s.n, a.set.DupEvery) {
			out = append(out, bytes.Clone(frame))
			a.c.Duplicated++
		}
		if every(s.n, a.set.ReplayEvery) && s.n > a.set.ReplayDistance {
			if old := s.ring[(s.n-a.set.ReplayDistance)%replayRing]; old != nil {
				out = append(out, bytes.Clone(old))
				a.c.Replayed++
			}
		}
	}
	s.ring[s.n%replayRing] = frame
	return out
}

// releaseStaleHeld sends frames held back longer than holdLimit (the call
// paused or ended).
func (a *Attacker) releaseStaleHeld(now time.Time) [][]byte {
	var out [][]byte
	for dir := range a.replay {
		s := &a.replay[dir]
		if s.held != nil && now.Sub(s.heldAt) >= holdLimit {
			out = append(out, s.held)
			s.held = nil
		}
	}
	return out
}

// every reports whether the n-th item is one of every k-th; k <= 0 never.
func every(n, k int) bool { return k > 0 && n%k == 0 }

// handleBitFlip sends, ahead of every FlipEvery-th encrypted frame, a copy
// with one bit flipped (attack e). The copy must be dropped, and must not
// cost the original its place: the replay window may only move after a
// frame authenticated.
func (a *Attacker) handleBitFlip(p packet) [][]byte {
	dir, ok := p.sealedDir()
	if !ok {
		return p.pass()
	}
	a.flip[dir]++
	if !every(a.flip[dir], a.set.FlipEvery) {
		return p.pass()
	}
	fields := SealedFields()
	field := fields[a.flipNext%len(fields)]
	// Vary the bit too: 7 is prime to every field's bit count but the
	// version byte's, whose bits all make an unknown version anyway.
	tampered, err := FlipBit(p.d.Payload, field, a.flipNext*7)
	a.flipNext++
	if err != nil {
		a.fail(err)
		return p.pass()
	}
	out := a.build(p.d, tampered)
	if out != nil {
		a.c.flip(field)
	}
	return append(out, p.pass()...)
}
