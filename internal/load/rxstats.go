package load

// rxWindow is how many sequence numbers behind the newest a frame can
// arrive and still be told apart as a duplicate or a reordered frame
// (1024 frames: 20 s of 20 ms voice).
const rxWindow = 1024

// RxStats follows one direction of one call's voice as it arrives: each
// frame is new, a duplicate, reordered (older than the newest seen) or
// too late to tell (older than the window). Latency (arrival minus the
// send time in the payload) and RFC 3550 interarrival jitter count only
// first arrivals. The zero value is ready to use.
type RxStats struct {
	Unique     uint64 // first arrivals
	Duplicates uint64 // frames already seen
	Reordered  uint64 // first arrivals older than the newest frame seen
	Late       uint64 // older than the window: neither counted nor told
	maxSeq     int64  // newest sequence number seen, -1 before any
	window     [rxWindow / 64]uint64
	jitter     float64 // nanoseconds
	lastTrans  int64
	started    bool
	Latency    Histogram
}

// Observe records a frame with sequence number seq sent at sent and
// received at recv (Unix nanoseconds). It reports whether the frame was a
// first arrival.
func (r *RxStats) Observe(seq uint32, sent, recv int64) bool {
	if !r.started {
		r.started = true
		r.maxSeq = -1
	}
	s := int64(seq)
	switch {
	case s > r.maxSeq:
		if d := s - r.maxSeq; d >= rxWindow {
			clear(r.window[:])
		} else {
			for q := r.maxSeq + 1; q < s; q++ {
				r.clearBit(q)
			}
		}
		r.maxSeq = s
	case r.maxSeq-s >= rxWindow:
		r.Late++
		return false
	case r.bit(s):
		r.Duplicates++
		return false
	default:
		r.Reordered++
	}
	r.setBit(s)
	r.Unique++
	transit := recv - sent
	r.Latency.Add(transit)
	if r.Unique > 1 {
		d := float64(transit - r.lastTrans)
		if d < 0 {
			d = -d
		}
		r.jitter += (d - r.jitter) / 16
	}
	r.lastTrans = transit
	return true
}

func (r *RxStats) bit(s int64) bool {
	i := uint64(s) % rxWindow
	return r.window[i/64]&(1<<(i%64)) != 0
}

func (r *RxStats) setBit(s int64) {
	i := uint64(s) % rxWindow
	r.window[i/64] |= 1 << (i % 64)
}

func (r *RxStats) clearBit(s int64) {
	i := uint64(s) % rxWindow
	r.window[i/64] &^= 1 << (i % 64)
}

// Expected is how many frames the sender must have sent, judged by the
// newest sequence number seen (frames lost after it are not counted).
func (r *RxStats) Expected() uint64 {
	if !r.started {
		return 0
	}
	return uint64(r.maxSeq + 1)
}

// JitterNs is the RFC 3550 interarrival jitter estimate in nanoseconds.
func (r *RxStats) JitterNs() float64 { return r.jitter }
