package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// packet is one record of a capture written by a test.
type packet struct {
	data    []byte
	origLen int // 0: len(data)
}

func writePcap(t *testing.T, link layers.LinkType, pkts ...packet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(captureInfo(i, p), p.data); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func captureInfo(i int, p packet) gopacket.CaptureInfo {
	orig := p.origLen
	if orig == 0 {
		orig = len(p.data)
	}
	return gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1e6), CaptureLength: len(p.data), Length: orig}
}

func eth(t *testing.T, ip []byte) []byte {
	t.Helper()
	et := uint16(etherIPv4)
	if ip[0]>>4 == 6 {
		et = etherIPv6
	}
	return cat(ethernet(et), ip)
}

// TestNoIAX2: a capture of other traffic only (DNS, TCP on the IAX2 port,
// ARP, ICMP) has no call, and every packet is counted as other traffic.
func TestNoIAX2(t *testing.T) {
	dns := ipUDP(t, v4src, v4dst, nil)
	binary.BigEndian.PutUint16(dns[20:], 53)
	binary.BigEndian.PutUint16(dns[22:], 53)
	tcp := bytes.Clone(ipUDP(t, v4src, v4dst, body))
	tcp[9] = 6
	icmp := bytes.Clone(tcp)
	icmp[9] = 1
	path := writePcap(t, layers.LinkTypeEthernet,
		packet{data: eth(t, dns)}, packet{data: eth(t, tcp)}, packet{data: eth(t, icmp)},
		packet{data: cat(ethernet(0x0806), make([]byte, 28))})
	r, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Packets != 4 || r.Other != 4 || r.Datagrams != 0 || len(r.Calls) != 0 || r.Leaks != 0 || len(r.Unreadable) != 0 {
		t.Fatalf("report %+v", r)
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no IAX2 calls") || !strings.Contains(out.String(), "result: 0 calls") {
		t.Fatalf("text:\n%s", out.String())
	}
}

// TestUnreadablePackets: fragments, packets cut by the snap length and
// malformed headers are counted by reason, never taken for short frames.
func TestUnreadablePackets(t *testing.T) {
	whole := ipUDP(t, v4src, v4dst, body)
	first := bytes.Clone(whole)
	binary.BigEndian.PutUint16(first[6:], 0x2000) // more fragments
	later := bytes.Clone(whole)
	binary.BigEndian.PutUint16(later[6:], 0x0003) // offset 24 bytes
	badIHL := bytes.Clone(whole)
	badIHL[0] = 0x43
	cut := eth(t, whole)
	path := writePcap(t, layers.LinkTypeEthernet,
		packet{data: eth(t, first)}, packet{data: eth(t, later)},
		packet{data: cut[:len(cut)-5], origLen: len(cut)}, // snap length
		packet{data: eth(t, badIHL)},
		packet{data: eth(t, whole)})
	r, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ip-fragment": 2, "truncated": 1, "malformed": 1}
	if r.Packets != 5 || r.Datagrams != 1 || len(r.Unreadable) != len(want) {
		t.Fatalf("report %+v", r)
	}
	for k, v := range want {
		if r.Unreadable[k] != v {
			t.Errorf("unreadable %v, want %v", r.Unreadable, want)
		}
	}
	var out bytes.Buffer
	r.WriteText(&out)
	if !strings.Contains(out.String(), "warning: 4 packets could not be read") {
		t.Fatalf("text:\n%s", out.String())
	}
}

// TestCutShortFile: a capture killed in the middle of writing a packet is
// read up to its last complete packet.
func TestCutShortFile(t *testing.T) {
	dgs := readDatagrams(t, "../iax/testdata/captures/busy-reject.pcap")
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := pcapread.WriteUDP(path, dgs); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, b[:len(b)-10], 0o644)
	r, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.CutShort || r.Packets != len(dgs)-1 || len(r.Calls) != 1 {
		t.Fatalf("report %+v", r)
	}
}

// TestNotACapture: files that are no capture are errors, not reports.
func TestNotACapture(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{"empty": nil, "text": []byte("not a capture at all\n"), "short": {0xd4, 0xc3}} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, content, 0o644)
		if _, err := ReadFile(path, Options{}); !errors.Is(err, ErrCapture) {
			t.Errorf("%s: error %v, want ErrCapture", name, err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}

// TestPcapngInterfaces: a pcapng capture on two interfaces of different
// link types (Ethernet and Linux cooked) is read whole.
func TestPcapngInterfaces(t *testing.T) {
	dgs := readDatagrams(t, "../iax/testdata/captures/busy-reject.pcap")
	path := filepath.Join(t.TempDir(), "two.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "veth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	sllIface, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkTypeLinuxSLL, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range dgs {
		ip := ipUDP(t, d.Src, d.Dst, d.Payload)
		data, iface := eth(t, ip), 0
		if i%2 == 1 {
			data, iface = cat(sll(etherIPv4), ip), sllIface
		}
		ci := captureInfo(i, packet{data: data})
		ci.InterfaceIndex = iface
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Packets != len(dgs) || r.Datagrams != len(dgs) || len(r.Calls) != 1 || r.Calls[0].Frames.FullTotal() != len(dgs) {
		t.Fatalf("report %+v", r)
	}
}

// TestTextReport: the text form names the leak, its packet and why.
func TestTextReport(t *testing.T) {
	w := replayEncrypted(t, "../iax/testdata/captures/short-call.pcap")
	mini := w.original[firstFrom(t, w.original, w.caller, func(b []byte) bool { return len(b) > 4 && b[0]&0x80 == 0 && b[0]|b[1] != 0 })]
	at := w.callerFirstSealed + 3
	r := auditDatagrams(t, insert(w.dgs, at, pcapread.Datagram{Src: w.caller, Dst: w.callee, Payload: mini.Payload}))
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		fmt.Sprintf("encrypted v%d", crypt.Version),
		fmt.Sprintf("offer: marker version %d in the NEW at packet 1 (chacha20-poly1305, aes-256-gcm)", crypt.Version),
		"LEAK call 1 packet " + strconv.Itoa(at+1),
		"caller " + w.caller.String() + " -> " + w.callee.String() + " mini",
		"result: 1 call, 1 encrypted, 1 frame of encrypted calls in clear after the switch",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// TestReadDatagrams: the streaming reader hands over the datagrams on the
// ports asked for, in order, with their packet numbers.
func TestReadDatagrams(t *testing.T) {
	dgs := readDatagrams(t, "../iax/testdata/captures/busy-reject.pcap")
	dns := pcapread.Datagram{Src: v4src, Dst: netip.AddrPortFrom(v4dst.Addr(), 53), Payload: []byte{1}}
	dns.Src = netip.AddrPortFrom(dns.Src.Addr(), 53)
	all := append([]pcapread.Datagram{dns}, dgs...)
	path := filepath.Join(t.TempDir(), "s.pcap")
	if err := pcapread.WriteUDP(path, all); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Datagram
	err = ReadDatagrams(f, DefaultPorts(), func(d Datagram) bool {
		d.Payload = bytes.Clone(d.Payload)
		got = append(got, d)
		return len(got) < 3
	})
	if err != nil || len(got) != 3 {
		t.Fatalf("%v, %d datagrams", err, len(got))
	}
	for i, d := range got {
		if d.Packet != i+2 || d.Src != dgs[i].Src || d.Dst != dgs[i].Dst || !bytes.Equal(d.Payload, dgs[i].Payload) {
			t.Fatalf("datagram %d: %+v, want packet %d %+v", i, d, i+2, dgs[i])
		}
	}
}
