package load

import "net/netip"

// Datagram is one UDP datagram for a BatchConn: for ReadBatch, Buf is the
// buffer to read into, N how much was read, Addr the sender and Stamp the
// time the kernel received it (Unix nanoseconds; 0 when unknown); for
// WriteBatch, all of Buf goes to Addr.
type Datagram struct {
	Buf   []byte
	N     int
	Addr  netip.AddrPort
	Stamp int64
}

// Outbox collects the datagrams a Host wants sent, in arena memory reused
// after Reset, so that building frames does not allocate.
type Outbox struct {
	Datagrams []Datagram
	chunks    [][]byte
	ci, off   int
}

const (
	outboxChunk = 64 << 10
	// maxFrame is the most a single frame built into an Outbox may take.
	maxFrame = 2048
)

// next returns an empty slice with room for maxFrame bytes at the end of
// the arena; build a frame with append and hand it to commit.
func (o *Outbox) next() []byte {
	if o.ci < len(o.chunks) && o.off+maxFrame > len(o.chunks[o.ci]) {
		o.ci, o.off = o.ci+1, 0
	}
	if o.ci == len(o.chunks) {
		o.chunks = append(o.chunks, make([]byte, outboxChunk))
	}
	return o.chunks[o.ci][o.off:o.off:len(o.chunks[o.ci])]
}

// commit queues b, built on the slice next returned, for to.
func (o *Outbox) commit(to netip.AddrPort, b []byte) {
	o.Datagrams = append(o.Datagrams, Datagram{Buf: b, Addr: to})
	if o.ci < len(o.chunks) && len(b) > 0 && cap(b) == len(o.chunks[o.ci])-o.off {
		o.off += len(b)
	}
}

// add queues a copy of b for to.
func (o *Outbox) add(to netip.AddrPort, b []byte) {
	o.commit(to, append(o.next(), b...))
}

// Reset forgets the queued datagrams and reuses their memory.
func (o *Outbox) Reset() {
	clear(o.Datagrams)
	o.Datagrams = o.Datagrams[:0]
	o.ci, o.off = 0, 0
}
