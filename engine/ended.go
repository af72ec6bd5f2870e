package engine

// endedRing keeps the summaries of the most recent ended calls for status,
// oldest first, at most maxEndedKept of them: pushing and expiring cost
// O(1), so a flood of short calls cannot make every removal shift a list.
type endedRing struct {
	buf   []CallInfo
	start int // index of the oldest
	n     int
}

func (r *endedRing) push(ci CallInfo) {
	switch {
	case r.n < len(r.buf):
		r.buf[(r.start+r.n)%len(r.buf)] = ci
		r.n++
	case len(r.buf) < maxEndedKept:
		// Full but below its size: grow, oldest first again.
		grown := make([]CallInfo, 0, min(max(2*len(r.buf), 16), maxEndedKept))
		grown = append(grown, r.buf[r.start:]...)
		grown = append(grown, r.buf[:r.start]...)
		grown = append(grown, ci)
		r.start, r.n = 0, len(grown)
		r.buf = grown[:cap(grown)]
	default:
		// Full: the newest replaces the oldest.
		r.buf[r.start] = ci
		r.start = (r.start + 1) % len(r.buf)
	}
}

// dropOldestWhile forgets the oldest summaries while drop says so.
func (r *endedRing) dropOldestWhile(drop func(*CallInfo) bool) {
	for r.n > 0 && drop(&r.buf[r.start]) {
		r.buf[r.start] = CallInfo{}
		r.start = (r.start + 1) % len(r.buf)
		r.n--
	}
}

func (r *endedRing) each(fn func(*CallInfo)) {
	for i := range r.n {
		fn(&r.buf[(r.start+i)%len(r.buf)])
	}
}

func (r *endedRing) len() int { return r.n }
