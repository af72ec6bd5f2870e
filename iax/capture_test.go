package iax

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
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

// TestCaptureReader proves checkCapture checks what a capture holds, with a
// pcap written here: every fixture, over IPv4 and IPv6.
func TestCaptureReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "synthetic.pcap")
	if err := pcapread.WriteUDP(path, fixtureDatagrams()); err != nil {
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

// fixtureDatagrams puts every fixture frame in a UDP datagram to port 4569,
// alternately over IPv4 and IPv6.
func fixtureDatagrams() []pcapread.Datagram {
	v4a, v4b := netip.MustParseAddrPort("10.0.0.1:4569"), netip.MustParseAddrPort("10.0.0.2:4569")
	v6a, v6b := netip.MustParseAddrPort("[fd00::1]:4569"), netip.MustParseAddrPort("[fd00::2]:4569")
	dgs := make([]pcapread.Datagram, len(allFrames))
	for i, fr := range allFrames {
		dgs[i] = pcapread.Datagram{Src: v4a, Dst: v4b, Payload: fr.b}
		if i%2 == 1 {
			dgs[i].Src, dgs[i].Dst = v6a, v6b
		}
	}
	return dgs
}

// checkCapture checks every UDP datagram of one capture and returns how
// many it checked.
func checkCapture(path string) (int, error) {
	dgs, err := pcapread.ReadUDP(path)
	if err != nil {
		return 0, err
	}
	for _, d := range dgs {
		if err := checkDatagram(d.Payload); err != nil {
			return 0, fmt.Errorf("packet %d (udp %v->%v, %d bytes): %w", d.Frame, d.Src, d.Dst, len(d.Payload), err)
		}
	}
	return len(dgs), nil
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
