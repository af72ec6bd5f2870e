package crypt

// The replay window follows RFC 6479: a ring of 64-bit blocks, so that
// moving the window forward clears whole blocks instead of shifting bits.
// Sixteen blocks (128 bytes, two cache lines) accept frames up to 960
// behind the newest: 19 s of 20 ms voice, far beyond any jitter buffer,
// while a PBX's thousands of calls each keep only this much per direction.

const (
	replayBlockBits  = 64
	replayRingBlocks = 16 // a power of two
	replayBlockMask  = replayRingBlocks - 1
	replayBitMask    = replayBlockBits - 1

	// ReplayWindowSize is how far behind the highest counter seen a counter
	// may be and still be accepted once. One block of the ring is always
	// being reused, hence the -1.
	ReplayWindowSize = (replayRingBlocks - 1) * replayBlockBits // 960
)

// ReplayWindow remembers which counters of one direction were received.
// Its zero value is ready to use and expects counter 0 first. It is not
// safe for concurrent use. Feed it only counters of frames that passed
// authentication, so forged frames cannot move it.
type ReplayWindow struct {
	last uint64 // highest counter accepted
	ring [replayRingBlocks]uint64
}

// Reset forgets every counter.
func (w *ReplayWindow) Reset() { *w = ReplayWindow{} }

// Accept reports whether counter was not seen before and is within
// ReplayWindowSize of the highest counter seen, and records it if so. The
// counter 2^64-1, never sent, is never accepted.
func (w *ReplayWindow) Accept(counter uint64) bool {
	if counter == ^uint64(0) {
		return false
	}
	block := counter / replayBlockBits
	if counter > w.last {
		current := w.last / replayBlockBits
		steps := block - current
		if steps > replayRingBlocks {
			steps = replayRingBlocks
		}
		for i := uint64(1); i <= steps; i++ {
			w.ring[(current+i)&replayBlockMask] = 0
		}
		w.last = counter
	} else if w.last-counter > ReplayWindowSize {
		return false
	}
	idx := block & replayBlockMask
	bit := uint64(1) << (counter & replayBitMask)
	seen := w.ring[idx]&bit != 0
	w.ring[idx] |= bit
	return !seen
}
