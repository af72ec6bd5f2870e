package iax

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// tsharkFields are the Wireshark IAX2 dissector fields compared with the
// codec's reading of the same packet, in the order of the columns.
var tsharkFields = []string{
	"frame.number",
	"iax2.packet_type", // 0 mini, 1 full, 2 video, 3 trunk (any meta)
	"iax2.src_call",
	"iax2.dst_call",
	"iax2.retransmission",
	"iax2.timestamp", // reconstructed to 32 bits for mini and video frames
	"iax2.oseqno",
	"iax2.iseqno",
	"iax2.type",
	"iax2.iax.subclass",
	"iax2.control.subclass",
	"iax2.ie_id",
	"iax2.trunk.cmddata",
	"iax2.trunk.call.scallno",
	"iax2.trunk.call.ts",
}

// TestCapturesAgreeWithWireshark reads every packet of every capture with
// the codec and with Wireshark's independent IAX2 dissector (tshark) and
// compares the header fields, subclasses, IE ids and trunk entries. The
// round-trip test alone cannot catch a field read from the wrong bits, since
// a wrong parse and its matching wrong serialization still round-trip.
func TestCapturesAgreeWithWireshark(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "captures", "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no captures in testdata/captures yet; nothing to compare with Wireshark")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH (apt-get install tshark); cannot compare with Wireshark's dissector")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			n := compareWithTshark(t, tshark, name)
			t.Logf("%d packets agree with Wireshark", n)
		})
	}
}

// TestFixturesAgreeWithWireshark does the same for the hand-built frames,
// which hold the kinds the captures lack (video, trunk with and without
// timestamps, an unknown meta command), so every kind is read the way
// Wireshark reads it.
func TestFixturesAgreeWithWireshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH (apt-get install tshark); cannot compare with Wireshark's dissector")
	}
	path := writeFixturePcap(t)
	if n := compareWithTshark(t, tshark, path); n != len(allFrames) {
		t.Errorf("compared %d packets, want %d", n, len(allFrames))
	}
}

// writeFixturePcap writes every fixture as a UDP datagram to port 4569, over
// IPv4 and IPv6 in turn, into a pcap in a temporary directory.
func writeFixturePcap(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixtures.pcap")
	if err := pcapread.WriteUDP(path, fixtureDatagrams()); err != nil {
		t.Fatal(err)
	}
	return path
}

// compareWithTshark compares the codec's and tshark's reading of every
// packet of a capture and returns how many IAX2 packets it compared.
func compareWithTshark(t *testing.T, tshark, path string) int {
	t.Helper()
	want, err := tsharkRows(tshark, path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := codecRows(path)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, w := range want {
		if w[1] == "" {
			continue // not dissected as IAX2 (e.g. not UDP port 4569)
		}
		frame, _ := strconv.Atoi(w[0])
		g, ok := got[frame]
		if !ok {
			t.Errorf("packet %s: tshark dissects IAX2, the codec read no UDP datagram there", w[0])
			continue
		}
		if err := compareRow(g, w); err != nil {
			t.Errorf("packet %s: %v\n codec  %q\n tshark %q", w[0], err, g, w)
		}
		compared++
	}
	if compared == 0 {
		t.Errorf("tshark dissected no IAX2 packet in %s", path)
	}
	return compared
}

// tsharkRows runs tshark on a capture and returns one row of columns (as
// tsharkFields) per packet; repeated fields are joined with commas.
func tsharkRows(tshark, path string) ([][]string, error) {
	args := []string{"-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %w: %s", err, stderr.String())
	}
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		row := strings.Split(sc.Text(), "\t")
		if len(row) != len(tsharkFields) {
			return nil, fmt.Errorf("tshark row has %d columns, want %d: %q", len(row), len(tsharkFields), sc.Text())
		}
		rows = append(rows, row)
	}
	return rows, sc.Err()
}

// codecRows reads a capture with the codec and renders each UDP datagram
// as tshark would, keyed by its frame number.
func codecRows(path string) (map[int][]string, error) {
	dgs, err := pcapread.ReadUDP(path)
	if err != nil {
		return nil, err
	}
	rows := make(map[int][]string, len(dgs))
	for _, d := range dgs {
		row := make([]string, len(tsharkFields))
		row[0] = strconv.Itoa(d.Frame)
		if err := renderRow(row, d.Payload); err != nil {
			return nil, fmt.Errorf("packet %d: %w", d.Frame, err)
		}
		rows[d.Frame] = row
	}
	return rows, nil
}

// renderRow fills row with the codec's reading of one datagram.
func renderRow(row []string, b []byte) error {
	u := func(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
	k, err := Classify(b)
	if err != nil {
		return err
	}
	switch k {
	case KindFull:
		f, err := ParseFull(b)
		if err != nil {
			return err
		}
		row[1], row[2], row[3] = "1", u(uint32(f.SrcCall)), u(uint32(f.DstCall))
		row[4] = "0"
		if f.Retransmit {
			row[4] = "1"
		}
		row[5], row[6], row[7], row[8] = u(f.Timestamp), u(uint32(f.OSeq)), u(uint32(f.ISeq)), u(uint32(f.Type))
		switch f.Type {
		case FrameIAX:
			row[9] = u(uint32(f.Subclass))
			var ids []string
			err := RangeIEs(f.Payload, func(ie IE) bool {
				ids = append(ids, u(uint32(ie.ID)))
				return true
			})
			if err != nil {
				return err
			}
			row[11] = strings.Join(ids, ",")
		case FrameControl:
			row[10] = u(uint32(f.Subclass))
		}
	case KindMini:
		m, err := ParseMini(b)
		if err != nil {
			return err
		}
		row[1], row[2], row[5] = "0", u(uint32(m.SrcCall)), u(uint32(m.Timestamp))
	case KindVideo:
		v, err := ParseVideo(b)
		if err != nil {
			return err
		}
		row[1], row[2], row[5] = "2", u(uint32(v.SrcCall)), u(uint32(v.Timestamp&0x7fff))
	case KindTrunk:
		tr, err := ParseTrunk(b)
		if err != nil {
			return err
		}
		row[1], row[5], row[12] = "3", u(tr.Timestamp), fmt.Sprintf("0x%02x", tr.CmdData)
		var calls, stamps []string
		err = tr.Range(func(e TrunkEntry) bool {
			calls = append(calls, u(uint32(e.SrcCall)))
			if e.HasTimestamp {
				stamps = append(stamps, u(uint32(e.Timestamp)))
			}
			return true
		})
		if err != nil {
			return err
		}
		if !tr.HasTimestamps() && len(calls) > 0 {
			// Wireshark gives an entry without timestamps a subtree 2 bytes
			// longer than the entry, so the last entry of the frame throws
			// (Malformed Packet) before its call number is shown.
			calls = calls[:len(calls)-1]
		}
		row[13], row[14] = strings.Join(calls, ","), strings.Join(stamps, ",")
	case KindMeta:
		// Wireshark dissects every meta command as a trunk: only the
		// packet type is comparable.
		row[1] = "3"
	}
	return nil
}

// compareRow compares the codec's row with tshark's. Wireshark widens the
// timestamps of mini and video frames to 32 bits with the call's last full
// frame, so only their low bits are the wire's.
func compareRow(got, want []string) error {
	last := len(want)
	if want[1] == "3" && got[12] == "" {
		last = 2 // an unknown meta command, read by Wireshark as a trunk
	}
	for c := 1; c < last; c++ {
		g, w := got[c], want[c]
		if c == 5 && (want[1] == "0" || want[1] == "2") && w != "" {
			n, err := strconv.ParseUint(w, 10, 32)
			if err != nil {
				return fmt.Errorf("tshark %s %q: %v", tsharkFields[c], w, err)
			}
			mask := uint64(0xffff)
			if want[1] == "2" {
				mask = 0x7fff
			}
			w = strconv.FormatUint(n&mask, 10)
		}
		if g != w {
			return fmt.Errorf("%s: codec %q, tshark %q", tsharkFields[c], g, w)
		}
	}
	return nil
}
