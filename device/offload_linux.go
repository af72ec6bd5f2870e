package device

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// offloadConn is the daemon's socket with UDP segmentation offload
// (Linux): a run of datagrams to one peer with one length (the voice of
// many calls between two daemons) leaves in a single send with
// UDP_SEGMENT, and the kernel carries it as one packet as far as it can
// (to the peer's socket over a veth, to the NIC or its driver otherwise);
// with UDP_GRO set, such packets, and datagrams the receiving interface
// coalesced, arrive whole and are split here. Per datagram the kernel's
// network stack then runs once per run instead of once per datagram: on a
// daemon at load that stack, not the daemon's code, is most of the cost.
// wireguard-go's Linux bind does the same.
type offloadConn struct {
	*stdConn
	gso atomic.Bool // sends may carry UDP_SEGMENT
	// coalescedIn and coalescedOut count datagrams that arrived coalesced
	// and sends that carried more than one datagram.
	coalescedIn, coalescedOut atomic.Uint64

	rmu  sync.Mutex
	rxm  []ipv6.Message // ipv4.Message is the same type
	rbuf [][]byte
	roob [][]byte
	pend []segment // split datagrams not handed out yet

	wmu    sync.Mutex
	wxm    []ipv6.Message
	wiov   [][][]byte
	woob   [][]byte
	waddrs []net.UDPAddr
	wips   [][16]byte
	wmsg   []int // first Message of each send
}

// segment is one datagram of a coalesced one.
type segment struct {
	raw        int // index in rbuf
	start, end int
	addr       netip.AddrPort
	local      netip.Addr
}

const (
	// offloadReads is how many (possibly coalesced) datagrams one read
	// takes; each can hold up to 64 KiB.
	offloadReads = 16
	// maxSegments is the most datagrams one UDP_SEGMENT send may carry
	// (UDP_MAX_SEGMENTS).
	maxSegments = 64
	// maxGSOBytes keeps a coalesced send within one IP packet's length.
	maxGSOBytes = 65000
	oobSpace    = 128
)

// WithOffload returns c with UDP segmentation offload when c is a socket
// from NewUDPConn and the kernel supports UDP_SEGMENT and UDP_GRO; else c
// itself.
func WithOffload(c UDPConn) UDPConn {
	s, ok := c.(*stdConn)
	if !ok || !s.pktinfo {
		return c
	}
	rc, err := s.c.SyscallConn()
	if err != nil {
		return c
	}
	var serr error
	rc.Control(func(fd uintptr) {
		// UDP_SEGMENT can be read back on kernels that support it (4.18).
		if _, serr = unix.GetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT); serr != nil {
			return
		}
		serr = unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_GRO, 1)
	})
	if serr != nil {
		return c
	}
	o := &offloadConn{stdConn: s}
	o.gso.Store(true)
	o.rxm = make([]ipv6.Message, offloadReads)
	o.rbuf = make([][]byte, offloadReads)
	o.roob = make([][]byte, offloadReads)
	for i := range o.rxm {
		o.rbuf[i] = make([]byte, 1<<16)
		o.roob[i] = make([]byte, oobSpace)
		o.rxm[i].Buffers = [][]byte{o.rbuf[i]}
	}
	n := s.batch
	o.wxm = make([]ipv6.Message, n)
	o.wiov = make([][][]byte, n)
	o.woob = make([][]byte, n)
	o.waddrs = make([]net.UDPAddr, n)
	o.wips = make([][16]byte, n)
	o.wmsg = make([]int, n+1)
	for i := range o.wxm {
		o.wiov[i] = make([][]byte, 0, maxSegments)
		o.woob[i] = make([]byte, 0, unix.CmsgSpace(2))
	}
	return o
}

// ReadBatch implements UDPConn: datagrams left from a coalesced one come
// first; only when none is left does it read (and wait).
func (o *offloadConn) ReadBatch(msgs []Message) (int, error) {
	o.rmu.Lock()
	defer o.rmu.Unlock()
	if len(o.pend) == 0 {
		if err := o.readRaw(); err != nil {
			return 0, err
		}
	}
	n := 0
	for n < len(msgs) && len(o.pend) > 0 {
		sg := o.pend[0]
		o.pend = o.pend[1:]
		m := &msgs[n]
		m.N = copy(m.Buf, o.rbuf[sg.raw][sg.start:sg.end])
		if m.N < sg.end-sg.start {
			m.N = -1 // does not fit: the device counts it as a read error
		}
		m.Addr, m.Local = sg.addr, sg.local
		n++
	}
	return n, nil
}

// readRaw reads up to offloadReads datagrams, waiting for the first, and
// queues their segments in pend.
func (o *offloadConn) readRaw() error {
	for i := range o.rxm {
		o.rxm[i].OOB = o.roob[i]
		o.rxm[i].Addr, o.rxm[i].N, o.rxm[i].NN, o.rxm[i].Flags = nil, 0, 0, 0
	}
	var k int
	var err error
	if o.p6 != nil {
		k, err = o.p6.ReadBatch(o.rxm, 0)
	} else {
		k, err = o.p4.ReadBatch(o.rxm, 0)
	}
	if err != nil {
		return err
	}
	o.pend = o.pend[:0]
	for i := range k {
		m := &o.rxm[i]
		var addr netip.AddrPort
		if ua, ok := m.Addr.(*net.UDPAddr); ok {
			addr = ua.AddrPort()
		}
		gsoSize, local := parseRxControl(m.OOB[:m.NN])
		if gsoSize <= 0 || gsoSize >= m.N {
			o.pend = append(o.pend, segment{raw: i, start: 0, end: m.N, addr: addr, local: local})
			continue
		}
		o.coalescedIn.Add(1)
		for at := 0; at < m.N; at += gsoSize {
			o.pend = append(o.pend, segment{raw: i, start: at, end: min(at+gsoSize, m.N), addr: addr, local: local})
		}
	}
	return nil
}

// parseRxControl reads the segment size (UDP_GRO) and the destination
// address (IPV6_PKTINFO, IP_PKTINFO) of a received datagram's control
// messages, without allocating.
func parseRxControl(oob []byte) (gsoSize int, local netip.Addr) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafePointer(oob))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return gsoSize, local
		}
		data := oob[unix.SizeofCmsghdr:l]
		switch {
		case h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && len(data) >= 2:
			gsoSize = int(binary.NativeEndian.Uint16(data))
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= 16:
			local = netip.AddrFrom16([16]byte(data[:16])).Unmap()
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= 12:
			local = netip.AddrFrom4([4]byte(data[8:12]))
		}
		oob = oob[min(cmsgAlign(l), len(oob)):]
	}
	return gsoSize, local
}

func cmsgAlign(l int) int { return (l + unix.SizeofPtr - 1) &^ (unix.SizeofPtr - 1) }

// WriteBatch implements UDPConn: runs of datagrams to one peer, all of the
// run's first length but the last (which may be shorter), go out as one
// send with UDP_SEGMENT.
func (o *offloadConn) WriteBatch(msgs []Message) (int, error) {
	if !o.gso.Load() {
		return o.stdConn.WriteBatch(msgs)
	}
	o.wmu.Lock()
	defer o.wmu.Unlock()
	sent := 0
	for sent < len(msgs) {
		k := o.pack(msgs[sent:])
		var n int
		var err error
		if o.p6 != nil {
			n, err = o.p6.WriteBatch(o.wxm[:k], 0)
		} else {
			n, err = o.p4.WriteBatch(o.wxm[:k], 0)
		}
		for i := range o.wxm[:k] {
			clear(o.wiov[i])
			o.wxm[i].Buffers = nil
		}
		sent += o.wmsg[n]
		if err != nil {
			if errors.Is(err, unix.EIO) {
				// The route's device cannot take segmentation offload:
				// from now on, one datagram a send.
				o.gso.Store(false)
				m, err := o.stdConn.WriteBatch(msgs[sent:])
				return sent + m, err
			}
			// The failed send's datagrams are counted as not sent; the
			// caller skips one and tries the rest.
			return sent, err
		}
		if n == 0 {
			break
		}
	}
	return sent, nil
}

// pack fills wxm with sends for the start of msgs and returns how many;
// wmsg[i] is the number of Messages in the first i sends.
func (o *offloadConn) pack(msgs []Message) int {
	k, i := 0, 0
	o.wmsg[0] = 0
	for i < len(msgs) && k < len(o.wxm) {
		first := msgs[i]
		size := len(first.Buf)
		iov := append(o.wiov[k][:0], first.Buf)
		total := size
		j := i + 1
		if size > 0 {
			for j < len(msgs) && len(iov) < maxSegments {
				m := msgs[j]
				if m.Addr != first.Addr || len(m.Buf) > size || len(m.Buf) == 0 || total+len(m.Buf) > maxGSOBytes {
					break
				}
				iov = append(iov, m.Buf)
				total += len(m.Buf)
				j++
				if len(m.Buf) < size {
					break // a shorter datagram ends a run
				}
			}
		}
		x := &o.wxm[k]
		x.Buffers = iov
		o.wiov[k] = iov
		x.OOB = o.woob[k][:0]
		if len(iov) > 1 {
			x.OOB = appendSegmentControl(x.OOB, uint16(size))
			o.coalescedOut.Add(1)
		}
		x.Addr = o.udpAddr(k, first.Addr)
		k++
		i = j
		o.wmsg[k] = i
	}
	return k
}

// udpAddr fills the k-th reusable address with a.
func (o *offloadConn) udpAddr(k int, a netip.AddrPort) *net.UDPAddr {
	ip := a.Addr().Unmap()
	ua := &o.waddrs[k]
	if ip.Is4() && o.p6 == nil {
		v := ip.As4()
		copy(o.wips[k][:4], v[:])
		ua.IP = o.wips[k][:4]
	} else {
		o.wips[k] = ip.As16()
		ua.IP = o.wips[k][:]
	}
	ua.Port, ua.Zone = int(a.Port()), ip.Zone()
	return ua
}

// appendSegmentControl appends a UDP_SEGMENT control message.
func appendSegmentControl(b []byte, size uint16) []byte {
	start := len(b)
	b = slices.Grow(b, unix.CmsgSpace(2))[:start+unix.CmsgSpace(2)]
	clear(b[start:])
	h := (*unix.Cmsghdr)(unsafePointer(b[start:]))
	h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(b[start+unix.CmsgLen(0):], size)
	return b
}
