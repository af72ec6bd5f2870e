package pcapread

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var sample = []Datagram{
	{Src: netip.MustParseAddrPort("10.0.0.1:4569"), Dst: netip.MustParseAddrPort("10.0.0.2:4570"), Payload: []byte{0x80, 1, 0, 0}},
	{Src: netip.MustParseAddrPort("[fd00::2]:4569"), Dst: netip.MustParseAddrPort("[fd00::1]:4569"), Payload: []byte{0, 1, 0, 9, 7}},
}

func TestWriteThenRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.pcap")
	if err := WriteUDP(path, sample); err != nil {
		t.Fatal(err)
	}
	got, err := ReadUDP(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sample) {
		t.Fatalf("read %d datagrams, want %d", len(got), len(sample))
	}
	for i, want := range sample {
		if got[i].Frame != i+1 || got[i].Src != want.Src || got[i].Dst != want.Dst || !bytes.Equal(got[i].Payload, want.Payload) {
			t.Errorf("datagram %d: %+v, want %+v", i, got[i], want)
		}
	}
}

// writeRaw writes raw Ethernet frames, as a capture of anything would hold.
func writeRaw(t *testing.T, path string, frames [][]byte, cut int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(fr) - cut, Length: len(fr)}
		if err := w.WritePacket(ci, fr[:len(fr)-cut]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadSkipsNonUDPAndCountsFrames(t *testing.T) {
	udp, err := encodeUDP(sample[0])
	if err != nil {
		t.Fatal(err)
	}
	arp := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1}
	path := filepath.Join(t.TempDir(), "mixed.pcap")
	writeRaw(t, path, [][]byte{arp, udp}, 0)
	got, err := ReadUDP(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Frame != 2 {
		t.Fatalf("got %+v, want the UDP datagram as frame 2", got)
	}
}

func TestReadRefusesTruncatedCapture(t *testing.T) {
	udp, err := encodeUDP(sample[0])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	writeRaw(t, path, [][]byte{udp}, 2)
	if _, err := ReadUDP(path); err == nil {
		t.Fatal("a truncated capture was read without error")
	}
}
