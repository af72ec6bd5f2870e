package impair

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/load"
)

// Config says where a Relay listens, where it forwards and how it impairs.
type Config struct {
	// ListenA and ListenB are the relay's addresses facing host A and
	// host B (A sends to ListenA).
	ListenA, ListenB string
	// PeerB is where datagrams from A go. Replies go to the address A
	// last sent from.
	PeerB netip.AddrPort
	// AtoB and BtoA impair each direction.
	AtoB, BtoA Rates
	// Seed makes the impairments repeatable.
	Seed uint64
	// Tick is how often the relay reads, impairs and sends; 1 ms if zero.
	Tick time.Duration
}

// Report is what a Relay did.
type Report struct {
	AtoB    Counts `json:"a_to_b"`
	BtoA    Counts `json:"b_to_a"`
	Foreign uint64 `json:"foreign"` // datagrams on the B side from another host than PeerB
	// SendErrors counts datagrams a socket refused (before A is known:
	// replies with nowhere to go).
	SendErrors uint64 `json:"send_errors"`
}

// maxDatagram is the largest datagram relayed whole: IAX2 datagrams stay
// within a path MTU.
const maxDatagram = 4096

// Run relays until ctx ends and reports what it did. ready, if not nil, is
// called once both sockets listen.
func Run(ctx context.Context, cfg Config, ready func()) (*Report, error) {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Millisecond
	}
	if !cfg.PeerB.IsValid() {
		return nil, fmt.Errorf("impair: no B host to forward to")
	}
	ca, err := load.Listen(cfg.ListenA)
	if err != nil {
		return nil, fmt.Errorf("impair: A side: %w", err)
	}
	defer ca.Close()
	cb, err := load.Listen(cfg.ListenB)
	if err != nil {
		return nil, fmt.Errorf("impair: B side: %w", err)
	}
	defer cb.Close()
	ab, err := NewImpairer(cfg.AtoB, cfg.Seed)
	if err != nil {
		return nil, err
	}
	ba, err := NewImpairer(cfg.BtoA, cfg.Seed+1)
	if err != nil {
		return nil, err
	}
	if ready != nil {
		ready()
	}
	rep := &Report{}
	var peerA netip.AddrPort
	ds := make([]load.Datagram, 64)
	bufs := make([][]byte, len(ds))
	for i := range bufs {
		bufs[i] = make([]byte, maxDatagram)
	}
	var due [][]byte
	var out []load.Datagram
	// read takes everything waiting on c into m; from filters the senders.
	read := func(c load.BatchConn, m *Impairer, now int64, side byte) error {
		for {
			for i := range ds {
				ds[i] = load.Datagram{Buf: bufs[i]}
			}
			n, err := c.ReadBatch(ds)
			if err != nil {
				return err
			}
			for _, d := range ds[:n] {
				if side == 'b' && d.Addr != cfg.PeerB {
					rep.Foreign++
					continue
				}
				if side == 'a' {
					peerA = d.Addr
				}
				m.Add(now, append([]byte(nil), d.Buf[:d.N]...))
			}
			if n < len(ds) {
				return nil
			}
		}
	}
	send := func(c load.BatchConn, to netip.AddrPort, bufs [][]byte) {
		out = out[:0]
		for _, b := range bufs {
			out = append(out, load.Datagram{Buf: b, Addr: to})
		}
		if len(out) == 0 {
			return
		}
		if !to.IsValid() {
			rep.SendErrors += uint64(len(out))
			return
		}
		n, _ := c.WriteBatch(out)
		rep.SendErrors += uint64(len(out) - n)
	}
	t := time.NewTicker(cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rep.AtoB, rep.BtoA = ab.Counts(), ba.Counts()
			return rep, nil
		case <-t.C:
		}
		now := time.Now().UnixNano()
		if err := read(ca, ab, now, 'a'); err != nil {
			return rep, fmt.Errorf("impair: read A side: %w", err)
		}
		if err := read(cb, ba, now, 'b'); err != nil {
			return rep, fmt.Errorf("impair: read B side: %w", err)
		}
		due = ab.Due(now, due[:0])
		send(cb, cfg.PeerB, due)
		due = ba.Due(now, due[:0])
		send(ca, peerA, due)
		clear(due)
	}
}
