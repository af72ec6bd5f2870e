package iax

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestCaptures checks every UDP payload of every capture of real calls in
// testdata/captures: each must parse as its kind and serialize back to the
// same bytes, and its IEs or trunk entries must walk cleanly.
func TestCaptures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "captures", "*.pcap*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no captures in testdata/captures yet (*.pcap or *.pcapng); nothing to check against real calls")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			n, err := checkCapture(name)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("no UDP datagrams in %s", name)
			}
			t.Logf("%d UDP datagrams parsed and round-tripped", n)
		})
	}
}

// TestCaptureReader proves checkCapture reads what a capture holds, with a
// pcap written here: IPv4 and IPv6 datagrams of every kind over Ethernet.
func TestCaptureReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "synthetic.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, fr := range allFrames {
		pkt, err := udpPacket(fr.b, i%2 == 1)
		if err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(pkt), Length: len(pkt)}
		if err := w.WritePacket(ci, pkt); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := checkCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(allFrames) {
		t.Errorf("checked %d datagrams, want %d", n, len(allFrames))
	}
}

// udpPacket wraps payload in Ethernet, IPv4 or IPv6, and UDP to port 4569.
func udpPacket(payload []byte, v6 bool) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: 4569, DstPort: 4569}
	var ip gopacket.SerializableLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
		udp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
		udp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(payload))
	return buf.Bytes(), err
}

type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// openCapture opens a pcap or pcapng file, told apart by its magic number.
func openCapture(r io.Reader) (packetSource, error) {
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

// checkCapture checks every UDP datagram of one capture and returns how
// many it checked. IP fragments after the first carry no UDP header and are
// skipped.
func checkCapture(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	src, err := openCapture(f)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	n := 0
	for i := 1; ; i++ {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("packet %d: %w", i, err)
		}
		if ci.CaptureLength < ci.Length {
			return n, fmt.Errorf("packet %d: captured %d of %d bytes; capture with a larger snaplen", i, ci.CaptureLength, ci.Length)
		}
		pkt := gopacket.NewPacket(data, src.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		if err := checkDatagram(udp.Payload); err != nil {
			return n, fmt.Errorf("packet %d (udp %d->%d, %d bytes): %w", i, udp.SrcPort, udp.DstPort, len(udp.Payload), err)
		}
		n++
	}
}

// checkDatagram parses one IAX2 datagram, serializes it again and walks its
// IEs or trunk entries.
func checkDatagram(b []byte) error {
	k, out, err := roundTrip(b)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if !bytes.Equal(out, b) {
		return fmt.Errorf("%v frame does not round-trip:\n got % x\nwant % x", k, out, b)
	}
	switch k {
	case KindFull:
		f, _ := ParseFull(b)
		if f.Type != FrameIAX {
			return nil
		}
		ies, err := ParseIEs(f.Payload)
		if err != nil {
			return fmt.Errorf("IEs of %v: %w", IAXSubclass(f.Subclass), err)
		}
		if !bytes.Equal(AppendIEs(nil, ies), f.Payload) {
			return fmt.Errorf("IEs of %v do not round-trip", IAXSubclass(f.Subclass))
		}
	case KindTrunk:
		tr, _ := ParseTrunk(b)
		return tr.Range(func(TrunkEntry) bool { return true })
	}
	return nil
}
