package pcapread

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func TestReadUDP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	want := []Datagram{
		{Src: netip.MustParseAddrPort("10.0.0.1:4569"), Dst: netip.MustParseAddrPort("10.0.0.2:4570"), Payload: []byte{0x80, 1, 0, 0}},
		{Src: netip.MustParseAddrPort("[fd00::2]:4569"), Dst: netip.MustParseAddrPort("[fd00::1]:4569"), Payload: []byte{0, 1, 0, 9, 7}},
	}
	for i, d := range want {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
		udp := &layers.UDP{SrcPort: layers.UDPPort(d.Src.Port()), DstPort: layers.UDPPort(d.Dst.Port())}
		var ip gopacket.SerializableLayer
		if d.Src.Addr().Is4() {
			eth.EthernetType = layers.EthernetTypeIPv4
			ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: d.Src.Addr().AsSlice(), DstIP: d.Dst.Addr().AsSlice()}
			_ = udp.SetNetworkLayerForChecksum(ip4)
			ip = ip4
		} else {
			eth.EthernetType = layers.EthernetTypeIPv6
			ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: d.Src.Addr().AsSlice(), DstIP: d.Dst.Addr().AsSlice()}
			_ = udp.SetNetworkLayerForChecksum(ip6)
			ip = ip6
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(d.Payload)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	// A packet that is not UDP is skipped.
	arp := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1}
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(9, 0), CaptureLength: len(arp), Length: len(arp)}, arp); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := ReadUDP(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d datagrams, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Src != want[i].Src || got[i].Dst != want[i].Dst || !bytes.Equal(got[i].Payload, want[i].Payload) {
			t.Errorf("datagram %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
