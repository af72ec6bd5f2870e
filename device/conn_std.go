package device

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// stdConn adapts a *net.UDPConn to UDPConn with golang.org/x/net's batch
// I/O: recvmmsg/sendmmsg on Linux, one datagram a call elsewhere. It asks
// for the destination address of each datagram (IP_PKTINFO or
// IPV6_PKTINFO) so first-contact datagrams can be delivered to the address
// they arrived on.
type stdConn struct {
	c     *net.UDPConn
	batch int
	// Exactly one of p4 and p6 is set, following the socket's family; a
	// dual-stack socket is an IPv6 one.
	p4 *ipv4.PacketConn
	p6 *ipv6.PacketConn
	// pktinfo says whether destination addresses are delivered.
	pktinfo bool
	// kind says which peers the socket can reach (see destSockaddr).
	kind SocketKind

	rmu   sync.Mutex
	rmsgs []ipv6.Message // ipv4.Message is the same type
	roob  [][]byte

	wmu    sync.Mutex
	wmsgs  []ipv6.Message
	waddrs []net.UDPAddr
	wips   [][16]byte
}

// NewUDPConn wraps c for the data path; the returned UDPConn owns c and
// closes it in Close. It fails only when c is nil; a socket that cannot
// report destination addresses still works, with Message.Local left zero.
// An AF_INET6 socket is taken to be dual-stack; use NewUDPConnOf for an
// IPV6_V6ONLY one.
func NewUDPConn(c *net.UDPConn) (UDPConn, error) {
	return NewUDPConnOf(c, SocketDualStack)
}

// NewUDPConnOf is NewUDPConn for a socket of a known kind. A datagram to a
// peer the socket cannot reach is refused by WriteBatch with an error,
// without a system call.
func NewUDPConnOf(c *net.UDPConn, kind SocketKind) (UDPConn, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil UDP socket", errInvalidConfig)
	}
	s := &stdConn{c: c, batch: 1, kind: kind}
	if runtime.GOOS == "linux" {
		s.batch = 64
	}
	p6 := ipv6.NewPacketConn(c)
	if err := p6.SetControlMessage(ipv6.FlagDst, true); err == nil {
		s.p6, s.pktinfo = p6, true
	} else {
		s.p4 = ipv4.NewPacketConn(c)
		s.pktinfo = s.p4.SetControlMessage(ipv4.FlagDst, true) == nil
		s.kind = SocketIPv4
	}
	oobLen := max(len(ipv4.NewControlMessage(ipv4.FlagDst|ipv4.FlagInterface)),
		len(ipv6.NewControlMessage(ipv6.FlagDst|ipv6.FlagInterface)))
	s.rmsgs = make([]ipv6.Message, s.batch)
	s.roob = make([][]byte, s.batch)
	s.wmsgs = make([]ipv6.Message, s.batch)
	s.waddrs = make([]net.UDPAddr, s.batch)
	s.wips = make([][16]byte, s.batch)
	for i := range s.rmsgs {
		s.roob[i] = make([]byte, oobLen)
		s.rmsgs[i].Buffers = make([][]byte, 1)
		s.wmsgs[i].Buffers = make([][]byte, 1)
	}
	return s, nil
}

func (s *stdConn) BatchSize() int { return s.batch }

func (s *stdConn) Close() error { return s.c.Close() }

// ReadBatch implements UDPConn.
func (s *stdConn) ReadBatch(msgs []Message) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	xm := s.rmsgs[:min(len(msgs), len(s.rmsgs))]
	for i := range xm {
		xm[i].Buffers[0] = msgs[i].Buf
		xm[i].OOB = s.roob[i]
		xm[i].Addr, xm[i].N, xm[i].NN, xm[i].Flags = nil, 0, 0, 0
	}
	var (
		n   int
		err error
	)
	if s.p6 != nil {
		n, err = s.p6.ReadBatch(xm, 0)
	} else {
		n, err = s.p4.ReadBatch(xm, 0)
	}
	for i := range n {
		msgs[i].N = xm[i].N
		msgs[i].Addr, msgs[i].Local = netip.AddrPort{}, netip.Addr{}
		if ua, ok := xm[i].Addr.(*net.UDPAddr); ok {
			msgs[i].Addr = ua.AddrPort()
		}
		if s.pktinfo && xm[i].NN > 0 {
			msgs[i].Local = s.dst(xm[i].OOB[:xm[i].NN])
		}
		xm[i].Buffers[0] = nil // do not keep the caller's buffer
	}
	return n, err
}

// dst extracts the destination address from a datagram's control message.
func (s *stdConn) dst(oob []byte) netip.Addr {
	var ip net.IP
	if s.p6 != nil {
		var cm ipv6.ControlMessage
		if cm.Parse(oob) != nil {
			return netip.Addr{}
		}
		ip = cm.Dst
	} else {
		var cm ipv4.ControlMessage
		if cm.Parse(oob) != nil {
			return netip.Addr{}
		}
		ip = cm.Dst
	}
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// WriteBatch implements UDPConn.
func (s *stdConn) WriteBatch(msgs []Message) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	sent := 0
	for sent < len(msgs) {
		chunk := msgs[sent:min(len(msgs), sent+len(s.wmsgs))]
		var refused error
		for i, m := range chunk {
			if !canSend(m.Addr.Addr().Unmap(), s.kind, runtime.GOOS) {
				chunk, refused = chunk[:i], fmt.Errorf("send to %v: %w", m.Addr, errWrongFamily)
				break
			}
		}
		xm := s.wmsgs[:len(chunk)]
		for i, m := range chunk {
			a := m.Addr.Addr().Unmap()
			ua := &s.waddrs[i]
			if a.Is4() {
				b := a.As4()
				copy(s.wips[i][:4], b[:])
				ua.IP = s.wips[i][:4]
			} else {
				s.wips[i] = a.As16()
				ua.IP = s.wips[i][:]
			}
			ua.Port, ua.Zone = int(m.Addr.Port()), a.Zone()
			xm[i].Buffers[0] = m.Buf
			xm[i].Addr = ua
			xm[i].OOB = nil
		}
		var (
			n   int
			err error
		)
		if len(xm) > 0 {
			if s.p6 != nil {
				n, err = s.p6.WriteBatch(xm, 0)
			} else {
				n, err = s.p4.WriteBatch(xm, 0)
			}
		}
		if err == nil && n == len(xm) && refused != nil {
			err = refused
		}
		for i := range xm {
			xm[i].Buffers[0] = nil
		}
		sent += n
		if err != nil {
			return sent, err
		}
		if n == 0 {
			break
		}
	}
	return sent, nil
}
