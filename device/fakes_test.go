package device

import (
	"net/netip"
	"os"
	"sync"

	wgtun "golang.zx2c4.com/wireguard/tun"
)

// chanTUN is a channel-backed TUN: the test feeds packets the application
// "sent" into toDevice and receives what the device wrote from fromDevice.
type chanTUN struct {
	batch      int
	toDevice   chan []byte
	fromDevice chan []byte
	closeOnce  sync.Once
	closed     chan struct{}
	events     chan wgtun.Event
}

func newChanTUN(batch int) *chanTUN {
	return &chanTUN{
		batch:      batch,
		toDevice:   make(chan []byte, 1024),
		fromDevice: make(chan []byte, 1024),
		closed:     make(chan struct{}),
		events:     make(chan wgtun.Event),
	}
}

func (t *chanTUN) File() *os.File { return nil }

func (t *chanTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	var p []byte
	select {
	case <-t.closed:
		return 0, os.ErrClosed
	case p = <-t.toDevice:
	}
	n := 0
	for {
		sizes[n] = copy(bufs[n][offset:], p)
		n++
		if n == len(bufs) {
			return n, nil
		}
		select {
		case p = <-t.toDevice:
		default:
			return n, nil
		}
	}
}

func (t *chanTUN) Write(bufs [][]byte, offset int) (int, error) {
	if offset < 10 {
		return 0, os.ErrInvalid // as Linux with the virtio-net header
	}
	for i, b := range bufs {
		select {
		case <-t.closed:
			return i, os.ErrClosed
		case t.fromDevice <- append([]byte(nil), b[offset:]...):
		}
	}
	return len(bufs), nil
}

func (t *chanTUN) MTU() (int, error)          { return 1500, nil }
func (t *chanTUN) Name() (string, error)      { return "chantun", nil }
func (t *chanTUN) Events() <-chan wgtun.Event { return t.events }
func (t *chanTUN) BatchSize() int             { return t.batch }
func (t *chanTUN) Close() error {
	t.closeOnce.Do(func() { close(t.closed) })
	return nil
}

// memNet connects memConns by address; tap, if set, sees every datagram.
type memNet struct {
	mu    sync.Mutex
	conns map[netip.AddrPort]*memConn
	tap   func(from, to netip.AddrPort, b []byte)
}

type datagram struct {
	from netip.AddrPort
	b    []byte
}

type memConn struct {
	net       *memNet
	addr      netip.AddrPort
	in        chan datagram
	closeOnce sync.Once
	closed    chan struct{}
}

func (n *memNet) listen(addr netip.AddrPort) *memConn {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conns == nil {
		n.conns = make(map[netip.AddrPort]*memConn)
	}
	c := &memConn{net: n, addr: addr, in: make(chan datagram, 1024), closed: make(chan struct{})}
	n.conns[addr] = c
	return c
}

func (c *memConn) ReadBatch(msgs []Message) (int, error) {
	var d datagram
	select {
	case <-c.closed:
		return 0, os.ErrClosed
	case d = <-c.in:
	}
	n := 0
	for {
		msgs[n].N = copy(msgs[n].Buf, d.b)
		msgs[n].Addr = d.from
		msgs[n].Local = c.addr.Addr()
		n++
		if n == len(msgs) {
			return n, nil
		}
		select {
		case d = <-c.in:
		default:
			return n, nil
		}
	}
}

func (c *memConn) WriteBatch(msgs []Message) (int, error) {
	for _, m := range msgs {
		c.net.mu.Lock()
		dst := c.net.conns[m.Addr]
		tap := c.net.tap
		c.net.mu.Unlock()
		if tap != nil {
			tap(c.addr, m.Addr, m.Buf)
		}
		if dst == nil {
			continue // nobody listens: lost, as UDP
		}
		select {
		case dst.in <- datagram{from: c.addr, b: append([]byte(nil), m.Buf...)}:
		default: // queue full: lost
		}
	}
	return len(msgs), nil
}

func (c *memConn) BatchSize() int { return 8 }
func (c *memConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}
