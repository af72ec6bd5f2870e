package load

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// BatchConn is a UDP socket read and written many datagrams at a time.
// ReadBatch does not wait: it returns the datagrams already received (0
// when there are none), each with the time the kernel received it when
// the socket can tell. It is used from one goroutine.
type BatchConn interface {
	ReadBatch(ds []Datagram) (int, error)
	WriteBatch(ds []Datagram) (int, error)
	Close() error
}

// udpBatch is a BatchConn over golang.org/x/net's ReadBatch and
// WriteBatch: recvmmsg and sendmmsg on Linux, one datagram a call
// elsewhere.
type udpBatch struct {
	c      *net.UDPConn
	p4     *ipv4.PacketConn
	p6     *ipv6.PacketConn
	rmsgs  []ipv4.Message
	roob   [][]byte
	wmsgs  []ipv4.Message
	waddrs []net.UDPAddr
	wips   [][16]byte
}

// batchMax is the most datagrams one system call takes.
const batchMax = 256

// SocketBuffer is the receive and send buffer Listen asks for: a second
// of 2,000 calls' voice. As root it is forced past the system's maximum.
const SocketBuffer = 16 << 20

// Listen opens a UDP socket on addr for Run.
func Listen(addr string) (BatchConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	network := "udp"
	if ua.IP != nil && ua.IP.To4() != nil {
		network = "udp4"
	}
	c, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w (is another program on that port?)", addr, err)
	}
	setBuffers(c, SocketBuffer)
	enableRxStamps(c)
	return NewBatchConn(c), nil
}

// NewBatchConn wraps c; the BatchConn owns c.
func NewBatchConn(c *net.UDPConn) BatchConn {
	b := &udpBatch{c: c}
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok && la.IP.To4() != nil {
		b.p4 = ipv4.NewPacketConn(c)
	} else {
		b.p6 = ipv6.NewPacketConn(c) // also a dual-stack socket
	}
	b.rmsgs = make([]ipv4.Message, batchMax)
	b.wmsgs = make([]ipv4.Message, batchMax)
	b.waddrs = make([]net.UDPAddr, batchMax)
	b.wips = make([][16]byte, batchMax)
	b.roob = make([][]byte, batchMax)
	for i := range b.rmsgs {
		b.roob[i] = make([]byte, oobSize)
		b.rmsgs[i].Buffers = make([][]byte, 1)
		b.wmsgs[i].Buffers = make([][]byte, 1)
	}
	return b
}

func (b *udpBatch) Close() error { return b.c.Close() }

func (b *udpBatch) ReadBatch(ds []Datagram) (int, error) {
	ms := b.rmsgs[:min(len(ds), len(b.rmsgs))]
	for i := range ms {
		ms[i].Buffers[0] = ds[i].Buf
		ms[i].OOB = b.roob[i]
		ms[i].Addr, ms[i].N, ms[i].NN = nil, 0, 0
	}
	var n int
	var err error
	if b.p4 != nil {
		n, err = b.p4.ReadBatch(ms, syscall.MSG_DONTWAIT)
	} else {
		n, err = b.p6.ReadBatch(ms, syscall.MSG_DONTWAIT)
	}
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
		return 0, nil
	}
	for i := range n {
		ds[i].N = ms[i].N
		ds[i].Addr = netip.AddrPort{}
		ds[i].Stamp = rxStamp(ms[i].OOB[:ms[i].NN])
		if ua, ok := ms[i].Addr.(*net.UDPAddr); ok {
			ap := ua.AddrPort()
			ds[i].Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	return n, err
}

// WriteBatch sends every datagram it can; one the kernel refuses is
// skipped and counted in the error's place. It returns how many were
// sent and the last error.
func (b *udpBatch) WriteBatch(ds []Datagram) (int, error) {
	sent := 0
	var lastErr error
	for len(ds) > 0 {
		chunk := ds[:min(len(ds), len(b.wmsgs))]
		ms := b.wmsgs[:len(chunk)]
		for i, d := range chunk {
			a := d.Addr.Addr()
			ua := &b.waddrs[i]
			if a.Is4() && b.p6 == nil {
				v := a.As4()
				copy(b.wips[i][:4], v[:])
				ua.IP = b.wips[i][:4]
			} else {
				b.wips[i] = a.As16()
				ua.IP = b.wips[i][:]
			}
			ua.Port = int(d.Addr.Port())
			ms[i].Buffers[0] = d.Buf
			ms[i].Addr = ua
		}
		var n int
		var err error
		if b.p4 != nil {
			n, err = b.p4.WriteBatch(ms, 0)
		} else {
			n, err = b.p6.WriteBatch(ms, 0)
		}
		sent += n
		ds = ds[n:]
		if err != nil {
			lastErr = err
			if n == 0 {
				ds = ds[1:] // skip the datagram the kernel refused
			}
		} else if n == 0 {
			break
		}
	}
	return sent, lastErr
}
