package audit

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/iax"
)

// TestAgreesWithWireshark audits each real capture and reads it with
// Wireshark's IAX2 dissector (tshark), an independent implementation of
// both the codec and the call tracking, and compares: the calls, each
// call's call numbers, and each call's frames by kind (full frames by type
// and subclass, mini, video, trunk entries), and the frames of no call.
//
// Wireshark identifies a call by its caller's circuit (the NEW's source
// address, port and call number; the iax2.call field is that circuit's id),
// so the audit's calls are grouped the same way before comparing; in these
// captures no call number is reused, so the groups are the calls.
func TestAgreesWithWireshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH (apt-get install tshark); cannot compare with Wireshark's dissector")
	}
	for _, path := range realCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ws := wiresharkCalls(t, tshark, path, DefaultPorts())
			r, err := ReadFile(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ours := groupByCallerCircuit(r)
			if len(ws.calls) == 0 || !sameKeys(ours, ws.calls) {
				t.Fatalf("calls by caller circuit: audit %v, Wireshark %v", slices.Collect(maps.Keys(ours)), slices.Collect(maps.Keys(ws.calls)))
			}
			for key, w := range ws.calls {
				g := ours[key]
				if !maps.Equal(g.Frames.Full, w.full) {
					t.Errorf("%s: full frames: audit %v, Wireshark %v", key, g.Frames.Full, w.full)
				}
				if g.Frames.Mini != w.mini || g.Frames.Video != w.video {
					t.Errorf("%s: mini/video: audit %d/%d, Wireshark %d/%d", key, g.Frames.Mini, g.Frames.Video, w.mini, w.video)
				}
				if !slices.Equal(g.calleeNumbers, w.calleeNumbers) {
					t.Errorf("%s: callee call numbers: audit %v, Wireshark %v", key, g.calleeNumbers, w.calleeNumbers)
				}
				// Wireshark does not put trunk frames into calls, and it
				// throws on the last entry of a trunk frame without trunk
				// timestamps (its entry subtree is 2 bytes too long), so it
				// shows every entry but each frame's last. With one call in
				// the capture, those hidden entries are all that call's.
				if ws.trunkFrames > 0 {
					if len(ws.calls) != 1 || ws.trunkTimestamps {
						t.Fatalf("trunk comparison assumes one call and no trunk timestamps")
					}
					if g.Frames.Trunks != ws.trunkFrames || g.Frames.TrunkEntries-g.Frames.Trunks != ws.trunkEntriesShown {
						t.Errorf("%s: trunk frames/entries: audit %d/%d, Wireshark %d frames showing %d entries",
							key, g.Frames.Trunks, g.Frames.TrunkEntries, ws.trunkFrames, ws.trunkEntriesShown)
					}
				}
				t.Logf("%s: %d full, %d mini, %d video, %d trunk entries; callee numbers %v — as Wireshark",
					key, g.Frames.FullTotal(), g.Frames.Mini, g.Frames.Video, g.Frames.TrunkEntries, g.calleeNumbers)
			}
			if u := r.Unattributed; !maps.Equal(u.Full, ws.callless) || u.Mini != ws.calllessMini {
				t.Errorf("frames of no call: audit %v + %d mini, Wireshark %v + %d mini", u.Full, u.Mini, ws.callless, ws.calllessMini)
			}
		})
	}
}

// callerCircuit identifies a call as Wireshark does.
type callerCircuit struct {
	caller netip.AddrPort
	call   uint16
}

func (c callerCircuit) String() string { return fmt.Sprintf("%v call %d", c.caller, c.call) }

type callGroup struct {
	Frames
	calleeNumbers []uint16 // sorted: the real one and any placeholders
}

func sameKeys[A, B any](a map[callerCircuit]A, b map[callerCircuit]B) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func groupByCallerCircuit(r *Report) map[callerCircuit]*callGroup {
	groups := map[callerCircuit]*callGroup{}
	for _, c := range r.Calls {
		k := callerCircuit{c.Caller, c.CallerCall}
		g := groups[k]
		if g == nil {
			g = &callGroup{Frames: Frames{Full: map[string]int{}}}
			groups[k] = g
		}
		for name, n := range c.Frames.Full {
			g.Full[name] += n
		}
		g.Mini += c.Frames.Mini
		g.Video += c.Frames.Video
		g.Trunks += c.Frames.Trunks
		g.TrunkEntries += c.Frames.TrunkEntries
		for _, n := range append([]uint16{c.CalleeCall}, c.CalleePlaceholders...) {
			if n != 0 && !slices.Contains(g.calleeNumbers, n) {
				g.calleeNumbers = append(g.calleeNumbers, n)
			}
		}
		slices.Sort(g.calleeNumbers)
	}
	return groups
}

// wireshark is tshark's reading of a capture.
type wireshark struct {
	calls             map[callerCircuit]*wsCall
	callless          map[string]int
	calllessMini      int
	trunkFrames       int
	trunkTimestamps   bool
	trunkEntriesShown int
}

type wsCall struct {
	full          map[string]int
	mini, video   int
	calleeNumbers []uint16
}

var wsFields = []string{"frame.number", "ip.src", "ipv6.src", "udp.srcport", "iax2.call", "iax2.packet_type",
	"iax2.src_call", "iax2.type", "iax2.iax.subclass", "iax2.control.subclass", "iax2.subclass",
	"iax2.trunk.cmddata", "iax2.trunk.call.scallno"}

func wiresharkCalls(t *testing.T, tshark, path string, ports []uint16) *wireshark {
	t.Helper()
	args := []string{"-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("udp.port==%d,iax2", p))
	}
	for _, f := range wsFields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	ws := &wireshark{calls: map[callerCircuit]*wsCall{}, callless: map[string]int{}}
	byID := map[string]callerCircuit{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		row := strings.Split(sc.Text(), "\t")
		if len(row) != len(wsFields) {
			t.Fatalf("tshark row of %d columns, want %d: %q", len(row), len(wsFields), sc.Text())
		}
		col := func(name string) string { return row[slices.Index(wsFields, name)] }
		if col("iax2.packet_type") == "" {
			continue
		}
		ip := col("ip.src")
		if ip == "" {
			ip = col("ipv6.src")
		}
		src := netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(atoi(t, col("udp.srcport"))))
		switch col("iax2.packet_type") {
		case "3": // meta: a trunk frame, as Wireshark reads every meta frame
			ws.trunkFrames++
			if v, _ := strconv.ParseUint(strings.TrimPrefix(col("iax2.trunk.cmddata"), "0x"), 16, 8); v&1 != 0 {
				ws.trunkTimestamps = true
			}
			if s := col("iax2.trunk.call.scallno"); s != "" {
				ws.trunkEntriesShown += len(strings.Split(s, ","))
			}
			continue
		}
		id := col("iax2.call")
		var c *wsCall
		if id != "" {
			k, ok := byID[id]
			if !ok {
				// A call's first frame is its NEW, from the caller.
				k = callerCircuit{src, uint16(atoi(t, col("iax2.src_call")))}
				byID[id] = k
				ws.calls[k] = &wsCall{full: map[string]int{}}
			}
			c = ws.calls[k]
			if n := uint16(atoi(t, col("iax2.src_call"))); src != k.caller && n != 0 && !slices.Contains(c.calleeNumbers, n) {
				c.calleeNumbers = append(c.calleeNumbers, n)
				slices.Sort(c.calleeNumbers)
			}
		}
		switch col("iax2.packet_type") {
		case "0":
			if c == nil {
				ws.calllessMini++
			} else {
				c.mini++
			}
		case "2":
			if c != nil {
				c.video++
			}
		case "1":
			name := wsFrameName(t, col("iax2.type"), col("iax2.iax.subclass")+col("iax2.control.subclass")+col("iax2.subclass"))
			if c == nil {
				ws.callless[name]++
			} else {
				c.full[name]++
			}
		}
	}
	return ws
}

// wsFrameName names a full frame from tshark's type and subclass numbers
// the way the report does.
func wsFrameName(t *testing.T, typ, sub string) string {
	f := iax.FullFrame{Type: iax.FrameType(atoi(t, typ))}
	if sub != "" {
		f.Subclass = uint8(atoi(t, sub))
	}
	return frameName(&f)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		t.Fatalf("tshark value %q: %v", s, err)
	}
	return int(n)
}
