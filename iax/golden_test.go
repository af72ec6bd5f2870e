package iax

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

var update = flag.Bool("update", false, "rewrite the golden call-flow files from the captures")

// TestCaptureCallFlowGolden decodes each capture of a real iaxmodem call into
// its call flow, one line per full frame (kind, subclass, call numbers,
// sequence numbers, IE names) and a count of the mini frames between two full frames, and
// compares it with testdata/captures/NAME.flow. Any change in how the codec
// reads a real call shows up as a diff. Run with -update to rewrite.
func TestCaptureCallFlowGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "captures", "*.pcap"))
	if len(files) == 0 {
		t.Skip("no captures in testdata/captures: run scripts/capture-iaxmodem.sh")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			dgs, err := pcapread.ReadUDP(file)
			if err != nil {
				t.Fatal(err)
			}
			got := callFlow(t, dgs)
			golden := strings.TrimSuffix(file, ".pcap") + ".flow"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./iax -run Golden -update)", err)
			}
			if got != string(want) {
				t.Fatalf("call flow of %s differs from %s:\n%s", file, golden, got)
			}
		})
	}
}

func callFlow(t *testing.T, dgs []pcapread.Datagram) string {
	var b strings.Builder
	names := map[string]string{}
	side := func(a string) string {
		if n, ok := names[a]; ok {
			return n
		}
		n := string(rune('A' + len(names)))
		names[a] = n
		return n
	}
	// Mini frames between two full frames are counted per direction.
	minis := map[string]int{}
	var order []string
	flush := func() {
		for _, from := range order {
			fmt.Fprintf(&b, "%s mini x%d\n", from, minis[from])
		}
		clear(minis)
		order = order[:0]
	}
	for i, d := range dgs {
		from := side(d.Src.String()) + ">" + side(d.Dst.String())
		kind, err := Classify(d.Payload)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if kind == KindMini {
			if minis[from] == 0 {
				order = append(order, from)
			}
			minis[from]++
			continue
		}
		flush()
		if kind != KindFull {
			fmt.Fprintf(&b, "%s %v\n", from, kind)
			continue
		}
		f, err := ParseFull(d.Payload)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		sub := fmt.Sprint(f.SubclassValue())
		if s, ok := f.IAXSubclass(); ok {
			sub = s.String()
		} else if s, ok := f.ControlSubclass(); ok {
			sub = s.String()
		}
		r := ""
		if f.Retransmit {
			r = " R"
		}
		fmt.Fprintf(&b, "%s %v %s scall=%d dcall=%d oseq=%d iseq=%d%s", from, f.Type, sub, f.SrcCall, f.DstCall, f.OSeq, f.ISeq, r)
		if f.Type == FrameIAX {
			var ies []string
			if err := RangeIEs(f.Payload, func(ie IE) bool { ies = append(ies, ie.ID.String()); return true }); err != nil {
				t.Fatalf("datagram %d: %v", i, err)
			}
			if len(ies) > 0 {
				fmt.Fprintf(&b, " [%s]", strings.Join(ies, ", "))
			}
		}
		b.WriteString("\n")
	}
	flush()
	return b.String()
}
