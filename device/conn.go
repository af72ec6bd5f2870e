package device

import "net/netip"

// Message is one datagram for UDPConn.ReadBatch and WriteBatch.
type Message struct {
	// Buf holds the datagram. For ReadBatch it is the buffer to read into
	// and N says how much was read; for WriteBatch all of Buf is sent.
	Buf []byte
	N   int
	// Addr is the peer: the source of a received datagram, the
	// destination of one to send.
	Addr netip.AddrPort
	// Local is the local address a datagram arrived on (from IP_PKTINFO
	// or IPV6_PKTINFO), or the zero Addr when the socket cannot tell.
	// Ignored by WriteBatch.
	Local netip.Addr
}

// UDPConn is the daemon's UDP socket as the data path uses it. NewUDPConn
// adapts a *net.UDPConn; tests use an in-memory fake.
//
// ReadBatch and WriteBatch may be called concurrently with each other and
// with Close. After Close, ReadBatch returns an error promptly.
type UDPConn interface {
	// ReadBatch reads up to len(msgs) datagrams, blocking until at least
	// one arrives, and returns how many it filled in.
	ReadBatch(msgs []Message) (int, error)
	// WriteBatch sends msgs and returns how many were sent.
	WriteBatch(msgs []Message) (int, error)
	// BatchSize is the number of messages one call handles at most.
	BatchSize() int
	Close() error
}
