package audit

import (
	"errors"
	"io"
	"net/netip"
	"time"
)

// Datagram is one UDP datagram of a capture, to or from an IAX2 port.
type Datagram struct {
	// Packet is the packet's number in the capture, from 1.
	Packet   int
	Time     time.Time
	Src, Dst netip.AddrPort
	// Payload aliases the reader's buffer: it is valid only until fn
	// returns.
	Payload []byte
}

// ReadDatagrams reads a capture from r — a file, or the pipe of a live
// capture such as `dumpcap -w -` — and calls fn, as each packet arrives,
// for every UDP datagram to or from one of ports, until the capture ends or
// fn returns false. Packets it cannot decode are skipped; Read reports
// them.
func ReadDatagrams(r io.Reader, ports []uint16, fn func(Datagram) bool) error {
	src, err := openCapture(r)
	if err != nil {
		return err
	}
	want := make(map[uint16]bool, len(ports))
	for _, p := range ports {
		want[p] = true
	}
	for n := 1; ; n++ {
		data, ci, link, err := src.next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		d, err := decodePacket(link, data)
		if err != nil || !want[d.Src.Port()] && !want[d.Dst.Port()] {
			continue
		}
		if !fn(Datagram{Packet: n, Time: ci.Timestamp, Src: unmap(d.Src), Dst: unmap(d.Dst), Payload: d.Payload}) {
			return nil
		}
	}
}
