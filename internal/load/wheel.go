package load

// wheel is the one schedule of all calls: a ring of slots, one per tick,
// each holding the calls to wake in it. Adding is O(1); advancing visits
// each slot between the last advance and now once. A time further ahead
// than the ring reaches is put in the ring's last slot and put back when
// that slot comes round, so any time can be scheduled. It is not safe for
// concurrent use.
type wheel struct {
	tick  int64 // nanoseconds per slot
	slots [][]wheelEntry
	mask  int64
	cur   int64 // number of the next slot to visit (time/tick)
	spare []wheelEntry
	later []wheelEntry
}

type wheelEntry struct {
	at int64
	id uint32
}

// newWheel makes a wheel of n slots (rounded up to a power of two) of tick
// nanoseconds each, whose first slot is the one holding now.
func newWheel(tick int64, n int, now int64) *wheel {
	size := 1
	for size < n {
		size <<= 1
	}
	return &wheel{tick: tick, slots: make([][]wheelEntry, size), mask: int64(size - 1), cur: now / tick}
}

// add schedules id at time at. A time already past is due at the next
// advance.
func (w *wheel) add(id uint32, at int64) {
	s := max(at/w.tick, w.cur)
	s = min(s, w.cur+w.mask)
	i := s & w.mask
	w.slots[i] = append(w.slots[i], wheelEntry{at: at, id: id})
}

// advance calls fn for every entry due at or before now, in slot order.
// fn may add entries, also due ones: they are visited before advance
// returns. The slot holding now is visited but not left behind: entries
// later in its tick stay for the next advance.
func (w *wheel) advance(now int64, fn func(id uint32, at int64)) {
	last := now / w.tick
	for {
		i := w.cur & w.mask
		later := w.later[:0]
		for len(w.slots[i]) > 0 {
			due := w.slots[i]
			w.slots[i] = w.spare[:0]
			for _, e := range due {
				switch {
				case e.at <= now:
					fn(e.id, e.at)
				case e.at/w.tick == w.cur:
					later = append(later, e) // later in this slot's tick
				default:
					w.add(e.id, e.at) // further than the ring reached
				}
			}
			w.spare = due[:0]
		}
		if w.cur >= last {
			w.slots[i] = append(w.slots[i], later...)
			w.later = later[:0]
			return
		}
		w.later = later[:0]
		w.cur++
	}
}

// len is the number of entries scheduled (stale ones included).
func (w *wheel) len() int {
	n := 0
	for _, s := range w.slots {
		n += len(s)
	}
	return n
}
