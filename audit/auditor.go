package audit

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// auditor reads a capture packet by packet, in file order (the order
// tshark numbers packets in), and builds the report.
type auditor struct {
	ports  map[uint16]bool
	report *Report
	// circuits maps an endpoint and its call number to the call: each call
	// registers the caller's circuit at its NEW and the callee's once its
	// number shows. A NEW that reuses a circuit replaces the old call.
	circuits map[circuit]*track
	tracks   []*track
}

// circuit is one end of a call: an endpoint and the call number it chose.
type circuit struct {
	ep   netip.AddrPort
	call uint16
}

// side is which end of a call sent a frame.
type side uint8

const (
	caller side = iota
	callee
)

func (s side) String() string {
	if s == caller {
		return "caller"
	}
	return "callee"
}

func (s side) other() side { return 1 - s }

func newAuditor(opts Options) *auditor {
	r := &Report{Ports: opts.ports(), Calls: []*Call{}}
	a := &auditor{ports: make(map[uint16]bool), report: r, circuits: make(map[circuit]*track)}
	for _, p := range r.Ports {
		a.ports[p] = true
	}
	return a
}

// packet reads one captured packet. truncated says the capture kept fewer
// bytes than the packet had.
func (a *auditor) packet(n int, ts time.Time, link uint32, data []byte, truncated bool) {
	r := a.report
	r.Packets++
	if r.Packets == 1 {
		r.Start = ts
	}
	d, err := decodePacket(link, data)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotUDP):
		r.Other++
		return
	default:
		if truncated && err != ErrFragment && err != ErrLinkType {
			err = ErrTruncated // cut by the snap length, not malformed
		}
		a.unreadable(err)
		return
	}
	if !a.ports[d.Src.Port()] && !a.ports[d.Dst.Port()] {
		r.Other++
		return
	}
	// The decoder checked the IP and UDP lengths, so a packet cut by the
	// snap length that gets here lost only link-layer padding.
	r.Datagrams++
	a.datagram(a.point(n, ts), d)
}

func (a *auditor) unreadable(err error) {
	reason := map[error]string{ErrFragment: "ip-fragment", ErrTruncated: "truncated", ErrMalformed: "malformed", ErrLinkType: "link-type"}[err]
	if a.report.Unreadable == nil {
		a.report.Unreadable = make(map[string]int)
	}
	a.report.Unreadable[reason]++
}

func (a *auditor) point(n int, ts time.Time) Point {
	return Point{Packet: n, Time: ts, Offset: ts.Sub(a.report.Start).Seconds()}
}

// datagram reads one IAX2 datagram.
func (a *auditor) datagram(p Point, d udpDatagram) {
	from, to := unmap(d.Src), unmap(d.Dst)
	b := d.Payload
	if crypt.IsEncryptedFrame(b) {
		a.encrypted(p, from, to, b)
		return
	}
	if crypt.IsEncryptedTrunk(b) {
		a.encryptedTrunk(p, from, b)
		return
	}
	kind, err := iax.Classify(b)
	if err != nil {
		a.report.NotIAX2++
		return
	}
	switch kind {
	case iax.KindFull:
		f, err := iax.ParseFull(b)
		if err != nil {
			a.report.NotIAX2++
			return
		}
		a.full(p, from, to, &f)
	case iax.KindMini:
		m, err := iax.ParseMini(b)
		if err != nil {
			a.report.NotIAX2++
			return
		}
		a.media(p, from, to, m.SrcCall, "mini", func(f *Frames) { f.Mini++ })
	case iax.KindVideo:
		v, err := iax.ParseVideo(b)
		if err != nil {
			a.report.NotIAX2++
			return
		}
		a.media(p, from, to, v.SrcCall, "video", func(f *Frames) { f.Video++ })
	case iax.KindTrunk:
		a.trunk(p, from, to, b)
	default:
		a.report.Unattributed.Meta++
	}
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// full reads a full frame.
func (a *auditor) full(p Point, from, to netip.AddrPort, f *iax.FullFrame) {
	name := frameName(f)
	sub, isIAX := f.IAXSubclass()
	if isIAX && sub == iax.IAXNew {
		a.newFrame(p, from, to, f, name)
		return
	}
	t, s := a.lookup(from, to, f.SrcCall, f.DstCall)
	if t == nil {
		a.report.Unattributed.addFull(name)
		return
	}
	t.call.Frames.addFull(name)
	if s == callee {
		t.learnCallee(a, from, f, sub, isIAX)
	}
	if isIAX && sub == iax.IAXAccept && s == callee && t.call.Answer == nil {
		// Checked before the leak rules: this ACCEPT is the switch itself.
		if m := marker(p, f); m != nil && m.Type == crypt.MarkerAnswer {
			t.answered(p, m, f)
			t.state(sub, isIAX, f)
			return
		}
	}
	t.state(sub, isIAX, f)
	t.cleartext(a, p, from, to, s, "full", name, f.SrcCall, f)
}

// newFrame reads a NEW: the start of a call, a retransmission, or the NEW
// sent again with a CALLTOKEN.
func (a *auditor) newFrame(p Point, from, to netip.AddrPort, f *iax.FullFrame, name string) {
	if f.SrcCall == 0 {
		a.report.Unattributed.addFull(name)
		return
	}
	key := circuit{from, f.SrcCall}
	t := a.circuits[key]
	sameCall := t != nil && t.sideOf(from, f.SrcCall) == caller && (f.Retransmit || !t.established && !t.ended)
	if !sameCall {
		t = a.newTrack(p, from, to, f.SrcCall)
		a.circuits[key] = t
	}
	t.call.Frames.addFull(name)
	if f.Retransmit {
		t.cleartext(a, p, from, to, caller, "full", name, f.SrcCall, f)
	}
	if t.call.Offer == nil {
		if m := marker(p, f); m != nil {
			t.call.Offer = m
			if t.call.Encryption == "none" {
				t.call.Encryption = "offered"
			}
		}
	}
}

func (a *auditor) newTrack(p Point, from, to netip.AddrPort, callerCall uint16) *track {
	c := &Call{ID: len(a.report.Calls) + 1, Caller: from, Callee: to, CallerCall: callerCall,
		Start: p, State: "offered", Encryption: "none", Leaks: []Leak{}}
	a.report.Calls = append(a.report.Calls, c)
	t := &track{call: c}
	a.tracks = append(a.tracks, t)
	return t
}

// lookup finds the call of a frame and which side sent it. The destination
// call number is the surest guide, as in Wireshark's dissector: it names
// the receiver's circuit. Frames without one (dst 0) are found by their
// source.
func (a *auditor) lookup(from, to netip.AddrPort, src, dst uint16) (*track, side) {
	if dst != 0 {
		if t := a.circuits[circuit{to, dst}]; t != nil {
			return t, t.sideOf(to, dst).other()
		}
	}
	return a.lookupSrc(from, src)
}

func (a *auditor) lookupSrc(from netip.AddrPort, src uint16) (*track, side) {
	if src != 0 {
		if t := a.circuits[circuit{from, src}]; t != nil {
			return t, t.sideOf(from, src)
		}
	}
	return nil, caller
}

// media reads a mini or video frame, which names only its sender's call.
func (a *auditor) media(p Point, from, to netip.AddrPort, src uint16, kind string, count func(*Frames)) {
	t, s := a.lookupSrc(from, src)
	if t == nil {
		count(&a.report.Unattributed)
		return
	}
	count(&t.call.Frames)
	t.established = true
	t.cleartext(a, p, from, to, s, kind, "", src, nil)
}

// trunk reads a trunk frame: each entry is one call's mini frame, named by
// its sender's call number.
func (a *auditor) trunk(p Point, from, to netip.AddrPort, b []byte) {
	tr, err := iax.ParseTrunk(b)
	if err != nil {
		a.report.NotIAX2++
		return
	}
	seen := map[*track]bool{}
	unattributed := false
	err = tr.Range(func(e iax.TrunkEntry) bool {
		t, s := a.lookupSrc(from, e.SrcCall)
		if t == nil {
			a.report.Unattributed.TrunkEntries++
			unattributed = true
			return true
		}
		t.call.Frames.TrunkEntries++
		if !seen[t] {
			seen[t] = true
			t.call.Frames.Trunks++
		}
		t.established = true
		t.cleartext(a, p, from, to, s, "trunk entry", "", e.SrcCall, nil)
		return true
	})
	if unattributed {
		a.report.Unattributed.Trunks++
	}
	if err != nil {
		a.report.NotIAX2++
	}
}

// encrypted reads an iaxcrypt encrypted frame: its clear header names both
// call numbers.
func (a *auditor) encrypted(p Point, from, to netip.AddrPort, b []byte) {
	const callsEnd = 8 // meta header, version, sender and receiver call
	if len(b) < callsEnd {
		a.report.NotIAX2++
		return
	}
	sender := binary.BigEndian.Uint16(b[4:]) & 0x7fff
	receiver := binary.BigEndian.Uint16(b[6:])
	t, s := a.lookup(from, to, sender, receiver)
	if t == nil {
		// The call was encrypted before the capture started: follow it
		// from here, so that a later cleartext frame of it shows.
		t = a.newTrack(p, from, to, sender)
		t.call.Partial, t.call.CalleeCall = true, receiver
		t.call.State, t.call.Encryption = "encrypted before the capture", "encrypted"
		t.established, t.partial = true, true
		a.circuits[circuit{from, sender}] = t
		a.circuits[circuit{to, receiver}] = t
		s = caller
	}
	if s == callee && t.call.CalleeCall == 0 && from == t.call.Callee {
		// The callee's ACCEPT is not in the capture; its number is in the
		// header of its encrypted frames.
		t.call.CalleeCall = sender
		a.circuits[circuit{from, sender}] = t
	}
	t.call.Frames.Encrypted++
	t.call.Encryption = "encrypted"
	t.established = true
	t.encryptedFrom(p, s)
}

// encryptedTrunk reads an iaxcrypt encrypted trunk frame: each sealed entry
// names its sender's call, as a cleartext trunk entry does.
func (a *auditor) encryptedTrunk(p Point, from netip.AddrPort, b []byte) {
	r, err := crypt.ReadTrunk(b)
	if err != nil {
		a.report.NotIAX2++
		return
	}
	seen := map[*track]bool{}
	unattributed := false
	for r.Next() {
		e := r.Entry()
		t, s := a.lookupSrc(from, e.SenderCall)
		if t == nil {
			a.report.Unattributed.EncryptedTrunkEntries++
			unattributed = true
			continue
		}
		t.call.Frames.EncryptedTrunkEntries++
		if !seen[t] {
			seen[t] = true
			t.call.Frames.EncryptedTrunks++
		}
		t.call.Encryption = "encrypted"
		t.established = true
		t.encryptedFrom(p, s)
	}
	if unattributed {
		a.report.Unattributed.EncryptedTrunks++
	}
	if r.Err() != nil {
		a.report.NotIAX2++
	}
}

// frameName names a full frame for the counts: IAX and control frames by
// subclass, the others by type only (their subclass is a codec or a
// digit).
func frameName(f *iax.FullFrame) string {
	if sub, ok := f.IAXSubclass(); ok {
		return "IAX " + sub.String()
	}
	if sub, ok := f.ControlSubclass(); ok {
		return "CONTROL " + sub.String()
	}
	if f.Type == iax.FrameIAX || f.Type == iax.FrameControl {
		// A subclass with the C bit set, such as Asterisk's "stop
		// sounds" (0xff): named by its raw byte.
		return f.Type.String() + " " + strconv.Itoa(int(f.Subclass))
	}
	return f.Type.String()
}

// marker returns the marker IE of a NEW or ACCEPT, or nil.
func marker(p Point, f *iax.FullFrame) *Marker {
	data, found, err := iax.FindIE(f.Payload, crypt.MarkerIE)
	if err != nil || !found {
		return nil
	}
	m := &Marker{Point: p}
	if len(data) >= 1 {
		m.Version = data[0]
	}
	if len(data) >= 2 {
		m.Type = data[1]
	}
	if m.Type == crypt.MarkerOffer {
		if o, err := crypt.ParseOffer(data); err == nil {
			for _, c := range o.Ciphers {
				m.Ciphers = append(m.Ciphers, c.String())
			}
		}
	}
	return m
}

// finish returns the report once every packet is read.
func (a *auditor) finish() *Report {
	r := a.report
	for _, f := range append([]*Frames{&r.Unattributed}, callFrames(r.Calls)...) {
		if f.Full == nil {
			f.Full = map[string]int{} // JSON {} rather than null
		}
	}
	return r
}

func callFrames(calls []*Call) []*Frames {
	fs := make([]*Frames, len(calls))
	for i, c := range calls {
		fs[i] = &c.Frames
	}
	return fs
}
