package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// vnetHdrLen is the virtio-net header the Linux TUN puts before every
// packet (IFF_VNET_HDR, as wireguard's TUN opens it).
const vnetHdrLen = 10

// batchReader is a Linux TUN whose Read returns every packet waiting in
// the device (up to len(bufs)) and waits only when none is. wireguard's
// Read returns one packet a call: a data path then parks and is woken for
// each packet, which on a busy host costs more than the packet's work.
// Everything but Read is the wrapped device's.
type batchReader struct {
	wgtun.Device
	rc      syscall.RawConn
	scratch []byte        // a GSO packet, before it is split
	Dropped atomic.Uint64 // packets read that could not be handed out
}

// batchReads wraps dev, a TUN made by wgtun.CreateTUN.
func batchReads(dev wgtun.Device) (wgtun.Device, error) {
	rc, err := dev.File().SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("TUN for batch reads: %w", err)
	}
	if err := readOffloads(rc); err != nil {
		return nil, err
	}
	return &batchReader{Device: dev, rc: rc, scratch: make([]byte, vnetHdrLen+65535)}, nil
}

// readOffloads sets what the kernel may hand the daemon unfinished: a
// partial checksum and UDP GSO packets (which Read completes and splits),
// not TCP segmentation offload, which wireguard's TUN turns on and Read
// does not split: TCP to a routed peer (passed through, not IAX2) then
// reaches the daemon already segmented by the kernel. This only narrows
// reads; what the daemon writes into the TUN may still be coalesced.
func readOffloads(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.IoctlSetInt(int(fd), unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_USO4|unix.TUN_F_USO6)
		if serr != nil {
			// A kernel without UDP segmentation offload (before 6.2).
			serr = unix.IoctlSetInt(int(fd), unix.TUNSETOFFLOAD, unix.TUN_F_CSUM)
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("TUN: set the offloads the daemon reads: %w", err)
	}
	return nil
}

// errShortOffset: Read needs headroom for the virtio-net header.
var errShortOffset = errors.New("tun: read offset below the 10-byte virtio-net header")

// Read reads the packets waiting in the TUN into bufs (each at offset),
// sets their sizes and returns how many. It blocks only while none is
// waiting. A checksum the kernel left to the device (checksum offload) is
// filled in, and a UDP packet the kernel handed over unsegmented (GSO) is
// split, so every packet returned is complete.
func (t *batchReader) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if offset < vnetHdrLen {
		return 0, errShortOffset
	}
	n := 0
	var rerr error
	err := t.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) {
			buf := bufs[n][offset-vnetHdrLen:]
			m, err := unix.Read(int(fd), buf)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return n > 0 // none yet: wait until the TUN is readable
			case err != nil:
				rerr = err
				return true
			case m < vnetHdrLen:
				t.Dropped.Add(1)
				continue
			}
			k, err := t.unpack(buf[:m], bufs[n:], sizes[n:], offset)
			if err != nil {
				t.Dropped.Add(1)
				continue
			}
			n += k
		}
		return true
	})
	if err == nil {
		err = rerr
	}
	if errors.Is(err, syscall.EBADFD) {
		err = os.ErrClosed
	}
	return n, err
}

// unpack handles one packet read with its virtio-net header into in
// (which is bufs[0] from offset-vnetHdrLen): it completes a partial
// checksum in place or splits a GSO packet into bufs, and returns how many
// packets it made.
func (t *batchReader) unpack(in []byte, bufs [][]byte, sizes []int, offset int) (int, error) {
	h := parseVnetHdr(in)
	pkt := in[vnetHdrLen:]
	if h.gsoType == unix.VIRTIO_NET_HDR_GSO_NONE {
		if h.flags&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
			if err := completeChecksum(pkt, h.csumStart, h.csumOffset); err != nil {
				return 0, err
			}
		}
		sizes[0] = len(pkt)
		return 1, nil
	}
	if h.gsoType != unix.VIRTIO_NET_HDR_GSO_UDP_L4 {
		// TCP never reaches the TUN: only UDP is routed into it.
		return 0, fmt.Errorf("tun: GSO type %d not handled", h.gsoType)
	}
	src := t.scratch[:len(pkt)]
	copy(src, pkt)
	return splitUDP(src, h, bufs, sizes, offset)
}

type vnetHdr struct {
	flags, gsoType                         uint8
	hdrLen, gsoSize, csumStart, csumOffset uint16
}

// parseVnetHdr reads a virtio-net header, which the TUN writes in the
// host's byte order.
func parseVnetHdr(b []byte) vnetHdr {
	return vnetHdr{
		flags: b[0], gsoType: b[1],
		hdrLen:     binary.NativeEndian.Uint16(b[2:]),
		gsoSize:    binary.NativeEndian.Uint16(b[4:]),
		csumStart:  binary.NativeEndian.Uint16(b[6:]),
		csumOffset: binary.NativeEndian.Uint16(b[8:]),
	}
}

var errBadOffload = errors.New("tun: offload header out of the packet's bounds")

// completeChecksum finishes a checksum the kernel started (CHECKSUM_PARTIAL):
// the field at start+off holds the pseudo-header sum; the sum of
// everything from start is folded into it.
func completeChecksum(pkt []byte, start, off uint16) error {
	at := int(start) + int(off)
	if int(start) > len(pkt) || at+2 > len(pkt) {
		return errBadOffload
	}
	initial := uint32(binary.BigEndian.Uint16(pkt[at:]))
	pkt[at], pkt[at+1] = 0, 0
	binary.BigEndian.PutUint16(pkt[at:], ^fold(sum16(pkt[start:], initial)))
	return nil
}

// splitUDP cuts a UDP GSO packet into datagrams of gsoSize payload bytes,
// each with its own IP and UDP headers and checksums, into bufs at offset.
func splitUDP(in []byte, h vnetHdr, bufs [][]byte, sizes []int, offset int) (int, error) {
	ipLen := int(h.csumStart)
	hdrLen := ipLen + 8
	if ipLen < 20 || hdrLen > len(in) || h.gsoSize == 0 {
		return 0, errBadOffload
	}
	v6 := in[0]>>4 == 6
	var srcdst []byte
	if v6 {
		if ipLen < 40 {
			return 0, errBadOffload
		}
		srcdst = in[8:40]
	} else {
		srcdst = in[12:20]
	}
	n := 0
	for at := hdrLen; at < len(in); at += int(h.gsoSize) {
		if n == len(bufs) {
			return n, fmt.Errorf("tun: GSO packet of more than %d segments", len(bufs))
		}
		end := min(at+int(h.gsoSize), len(in))
		seg := end - at
		out := bufs[n][offset:]
		if hdrLen+seg > len(out) {
			return n, errBadOffload
		}
		copy(out, in[:hdrLen])
		copy(out[hdrLen:], in[at:end])
		total := hdrLen + seg
		if v6 {
			binary.BigEndian.PutUint16(out[4:], uint16(total-ipLen))
		} else {
			binary.BigEndian.PutUint16(out[2:], uint16(total))
			binary.BigEndian.PutUint16(out[4:], binary.BigEndian.Uint16(in[4:])+uint16(n))
			out[10], out[11] = 0, 0
			binary.BigEndian.PutUint16(out[10:], ^fold(sum16(out[:ipLen], 0)))
		}
		udp := out[ipLen:total]
		binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
		udp[6], udp[7] = 0, 0
		ps := sum16(srcdst, uint32(unix.IPPROTO_UDP)+uint32(len(udp)))
		c := ^fold(sum16(udp, ps))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(udp[6:], c)
		sizes[n] = total
		n++
	}
	return n, nil
}

// sum16 adds b as big-endian 16-bit words to acc (RFC 1071), unfolded.
func sum16(b []byte, acc uint32) uint32 {
	s := uint64(acc)
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s > 0xffffffff {
		s = (s >> 32) + (s & 0xffffffff)
	}
	return uint32(s)
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = (s >> 16) + (s & 0xffff)
	}
	return uint16(s)
}
