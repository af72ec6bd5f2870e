// Package pcapread reads and writes the UDP datagrams of capture files
// (pcap or pcapng, as tshark and dumpcap write them) for tests that replay or
// check real traffic. It uses gopacket's pure-Go readers, writer and layers.
package pcapread

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Datagram is one UDP datagram of a capture.
type Datagram struct {
	// Frame is the packet's number in the capture, from 1, as tshark counts.
	Frame   int
	Time    time.Time
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Payload []byte
}

// ErrTruncated is returned for a capture whose packets were cut by the
// snap length: their payloads cannot be checked.
var ErrTruncated = errors.New("packet truncated by the capture's snap length")

type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// ReadUDP returns every UDP datagram of the capture at path, in order.
// Packets that are not UDP, and IP fragments after the first, are skipped.
func ReadUDP(path string) ([]Datagram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := open(f)
	if err != nil {
		return nil, fmt.Errorf("read capture %s: %w", path, err)
	}
	var out []Datagram
	for frame := 1; ; frame++ {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read capture %s: packet %d: %w", path, frame, err)
		}
		if ci.CaptureLength < ci.Length {
			return out, fmt.Errorf("read capture %s: packet %d: %d of %d bytes: %w (capture with a larger snaplen)",
				path, frame, ci.CaptureLength, ci.Length, ErrTruncated)
		}
		if d, ok := decodeUDP(data, src.LinkType()); ok {
			d.Frame, d.Time = frame, ci.Timestamp
			out = append(out, d)
		}
	}
}

func decodeUDP(data []byte, link layers.LinkType) (Datagram, bool) {
	pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
	if !ok {
		return Datagram{}, false
	}
	var srcIP, dstIP netip.Addr
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP)
		dstIP, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return Datagram{}, false
	}
	return Datagram{
		Src:     netip.AddrPortFrom(srcIP, uint16(udp.SrcPort)),
		Dst:     netip.AddrPortFrom(dstIP, uint16(udp.DstPort)),
		Payload: bytes.Clone(udp.Payload),
	}, true
}

// open tells pcapng from pcap by the magic number.
func open(r io.Reader) (packetSource, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		return pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	}
	return pcapgo.NewReader(br)
}

// WriteUDP writes the datagrams to a new pcap file at path, each in
// Ethernet, IPv4 or IPv6 (by its addresses) and UDP with correct checksums.
// Frame is ignored; a zero Time is replaced by the datagram's index in
// seconds.
func WriteUDP(path string, dgs []Datagram) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return err
	}
	for i, d := range dgs {
		pkt, err := encodeUDP(d)
		if err != nil {
			f.Close()
			return fmt.Errorf("write capture %s: datagram %d: %w", path, i, err)
		}
		ts := d.Time
		if ts.IsZero() {
			ts = time.Unix(int64(i), 0)
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(pkt), Length: len(pkt)}, pkt); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func encodeUDP(d Datagram) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: layers.UDPPort(d.Src.Port()), DstPort: layers.UDPPort(d.Dst.Port())}
	var ip gopacket.SerializableLayer
	if d.Src.Addr().Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: d.Src.Addr().AsSlice(), DstIP: d.Dst.Addr().AsSlice()}
		if err := udp.SetNetworkLayerForChecksum(ip4); err != nil {
			return nil, err
		}
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: d.Src.Addr().AsSlice(), DstIP: d.Dst.Addr().AsSlice()}
		if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
			return nil, err
		}
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(d.Payload))
	return buf.Bytes(), err
}
