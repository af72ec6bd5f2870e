package audit

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: a summary of the capture, a
// table with one line per call, the details of each call, and every leak.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	r.writeSummary(&b)
	if len(r.Calls) == 0 {
		b.WriteString("no IAX2 calls\n")
	} else {
		b.WriteString("\n")
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		// SEALED counts encrypted frames and encrypted trunk entries.
		fmt.Fprintln(tw, "CALL\tCALLER\tCALLEE\tCALL NUMBERS\tSTATE\tENCRYPTION\tENCRYPTS FROM\tFULL\tMINI\tVIDEO\tTRUNK\tSEALED\tLEAKS")
		for _, c := range r.Calls {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n",
				c.ID, c.Caller, c.Callee, callNumbers(c), c.State, encryption(c), switches(c),
				c.Frames.FullTotal(), c.Frames.Mini, c.Frames.Video, c.Frames.TrunkEntries, c.Frames.Encrypted+c.Frames.EncryptedTrunkEntries, len(c.Leaks))
		}
		tw.Flush()
		b.WriteString("\n")
		for _, c := range r.Calls {
			writeCallDetails(&b, c)
		}
	}
	if u := r.Unattributed; u.FullTotal()+u.Mini+u.Video+u.TrunkEntries+u.Encrypted+u.EncryptedTrunkEntries+u.Meta > 0 {
		fmt.Fprintf(&b, "no call: %s\n", frameCounts(&u))
	}
	for _, c := range r.Calls {
		for _, l := range c.Leaks {
			fmt.Fprintf(&b, "LEAK call %d packet %d (+%.3fs) %s %s -> %s %s%s, call %d: %s\n",
				c.ID, l.Packet, l.Offset, l.Side, l.From, l.To, l.Kind, prefixed(" ", l.Frame), l.SrcCall, l.Why)
		}
	}
	writeVerdict(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) writeSummary(b *strings.Builder) {
	name := r.File
	if name == "" {
		name = "capture"
	}
	ports := make([]string, len(r.Ports))
	for i, p := range r.Ports {
		ports[i] = strconv.Itoa(int(p))
	}
	fmt.Fprintf(b, "%s: %d packets, %d IAX2 datagrams (UDP ports %s), %d other packets\n",
		name, r.Packets, r.Datagrams, strings.Join(ports, ","), r.Other)
	if n := sum(r.Unreadable); n > 0 {
		fmt.Fprintf(b, "warning: %d packets could not be read and were not checked (%s)\n", n, counts(r.Unreadable))
	}
	if r.NotIAX2 > 0 {
		fmt.Fprintf(b, "warning: %d datagrams on IAX2 ports are not IAX2 frames (too short or malformed)\n", r.NotIAX2)
	}
	if r.CutShort {
		b.WriteString("warning: the file ends in the middle of a packet; every complete packet was read\n")
	}
}

func writeCallDetails(b *strings.Builder, c *Call) {
	fmt.Fprintf(b, "call %d: starts at packet %d (+%.3fs)", c.ID, c.Start.Packet, c.Start.Offset)
	if c.Partial {
		b.WriteString(", already encrypted when the capture started (its NEW is not in the capture)")
	}
	b.WriteString("\n")
	if len(c.CalleePlaceholders) > 0 {
		fmt.Fprintf(b, "  callee also answered from placeholder call numbers %s\n", joinUints(c.CalleePlaceholders))
	}
	if m := c.Offer; m != nil {
		fmt.Fprintf(b, "  offer: marker version %d in the NEW at packet %d", m.Version, m.Packet)
		if len(m.Ciphers) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(m.Ciphers, ", "))
		}
		b.WriteString("\n")
	}
	if m := c.Answer; m != nil {
		fmt.Fprintf(b, "  answer: marker version %d in the ACCEPT at packet %d\n", m.Version, m.Packet)
	}
	if p := c.CalleeEncrypts; p != nil {
		fmt.Fprintf(b, "  callee encrypts from packet %d (+%.3fs)\n", p.Packet, p.Offset)
	}
	if p := c.CallerEncrypts; p != nil {
		fmt.Fprintf(b, "  caller encrypts from packet %d (+%.3fs)\n", p.Packet, p.Offset)
	}
	fmt.Fprintf(b, "  frames: %s\n", frameCounts(&c.Frames))
	if c.AcceptRetransmissions > 0 {
		fmt.Fprintf(b, "  %d retransmissions of the ACCEPT with the answer (allowed in clear)\n", c.AcceptRetransmissions)
	}
	if c.InFlight > 0 {
		fmt.Fprintf(b, "  %d caller signalling frames in clear after the ACCEPT, sent before the caller had it (in flight, not leaks)\n", c.InFlight)
	}
}

func writeVerdict(b *strings.Builder, r *Report) {
	encrypted := 0
	for _, c := range r.Calls {
		if c.Encryption == "encrypted" {
			encrypted++
		}
	}
	fmt.Fprintf(b, "result: %s, %d encrypted, %s of encrypted calls in clear after the switch\n",
		plural(len(r.Calls), "call"), encrypted, plural(r.Leaks, "frame"))
}

func callNumbers(c *Call) string {
	callee := "?"
	if c.CalleeCall != 0 {
		callee = strconv.Itoa(int(c.CalleeCall))
	}
	return strconv.Itoa(int(c.CallerCall)) + "/" + callee
}

func encryption(c *Call) string {
	switch {
	case c.Answer != nil:
		return fmt.Sprintf("encrypted v%d", c.Answer.Version)
	case c.Partial || c.Encryption == "encrypted":
		return "encrypted"
	case c.Offer != nil:
		return fmt.Sprintf("offered v%d", c.Offer.Version)
	}
	return "none"
}

func switches(c *Call) string {
	at := func(p *Point) string {
		if p == nil {
			return "-"
		}
		return "#" + strconv.Itoa(p.Packet)
	}
	if c.CalleeEncrypts == nil && c.CallerEncrypts == nil {
		return "-"
	}
	return "callee " + at(c.CalleeEncrypts) + ", caller " + at(c.CallerEncrypts)
}

func frameCounts(f *Frames) string {
	parts := []string{fmt.Sprintf("full %d", f.FullTotal())}
	if len(f.Full) > 0 {
		parts[0] += " (" + counts(f.Full) + ")"
	}
	parts = append(parts, fmt.Sprintf("mini %d", f.Mini), fmt.Sprintf("video %d", f.Video),
		fmt.Sprintf("trunk entries %d in %d trunk frames", f.TrunkEntries, f.Trunks), fmt.Sprintf("encrypted %d", f.Encrypted))
	if f.EncryptedTrunkEntries > 0 {
		parts = append(parts, fmt.Sprintf("encrypted trunk entries %d in %d encrypted trunk frames", f.EncryptedTrunkEntries, f.EncryptedTrunks))
	}
	if f.Meta > 0 {
		parts = append(parts, fmt.Sprintf("other meta %d", f.Meta))
	}
	return strings.Join(parts, ", ")
}

// counts renders a map of counts sorted by name: "a 1, b 2".
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func joinUints(v []uint16) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ", ")
}

func prefixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
