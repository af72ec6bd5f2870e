package audit

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/iax"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// Real captures: iaxmodem to iaxmodem (iax/testdata/captures) and
// Asterisk to Asterisk (iax/testdata/captures/asterisk22).
func realCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, glob := range []string{"../iax/testdata/captures/*.pcap", "../iax/testdata/captures/asterisk22/*.pcapng"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 5 {
		t.Fatalf("found %d captures (%v), want the 3 iaxmodem and 2 Asterisk ones", len(files), files)
	}
	return files
}

func readDatagrams(t testing.TB, path string) []pcapread.Datagram {
	t.Helper()
	dgs, err := pcapread.ReadUDP(path)
	if err != nil {
		t.Fatal(err)
	}
	return dgs
}

// auditDatagrams writes the datagrams to a pcap (Ethernet, with pcapgo) and
// audits it.
func auditDatagrams(t testing.TB, dgs []pcapread.Datagram) *Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	if err := pcapread.WriteUDP(path, dgs); err != nil {
		t.Fatal(err)
	}
	r, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wireCall is a real call replayed through two iaxcrypt engines back to
// back, as the wire between two daemons carries it.
type wireCall struct {
	dgs            []pcapread.Datagram
	caller, callee netip.AddrPort
	// Indexes into dgs: the ACCEPT with the answer, the caller's first
	// encrypted frame.
	accept, callerFirstSealed int
	// sealed counts encrypted frames, sealedTrunks encrypted trunk frames.
	sealed, sealedTrunks int
	// original is the capture the call was replayed from, in clear.
	original []pcapread.Datagram
	sas      [2]string
}

// replayEncrypted passes every datagram of a real capture from the
// sender's application through the sender's engine (Outbound) onto the
// wire, and from the wire through the receiver's engine (Inbound), which
// must deliver it unchanged.
func replayEncrypted(t testing.TB, path string) *wireCall {
	t.Helper()
	orig := readDatagrams(t, path)
	w := &wireCall{original: orig, accept: -1, callerFirstSealed: -1}
	for _, d := range orig {
		if f, err := iax.ParseFull(d.Payload); err == nil {
			if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXNew {
				w.caller, w.callee = d.Src, d.Dst
				break
			}
		}
	}
	engines := map[netip.AddrPort]*engine.Engine{w.caller: newEngine(t), w.callee: newEngine(t)}
	out, in := make([]byte, 0, 4096), make([]byte, 0, 4096)
	put := func(d pcapread.Datagram, wire []byte) {
		w.dgs = append(w.dgs, pcapread.Datagram{Time: d.Time, Src: d.Src, Dst: d.Dst, Payload: bytes.Clone(wire)})
		i := len(w.dgs) - 1
		switch {
		case crypt.IsEncryptedTrunk(wire):
			w.sealedTrunks++
		case crypt.IsEncryptedFrame(wire):
			w.sealed++
			if d.Src == w.caller && w.callerFirstSealed < 0 {
				w.callerFirstSealed = i
			}
		case w.accept < 0 && d.Src == w.callee && isAnswerAccept(wire):
			w.accept = i
		}
		r := engines[d.Dst].Inbound(d.Time, d.Src, wire, in)
		if r.Verdict != engine.Forward {
			t.Fatalf("wire datagram %d dropped by the receiver: %v", i, r.Reason)
		}
	}
	for i, d := range orig {
		src := engines[d.Src]
		if src == nil || engines[d.Dst] == nil {
			t.Fatalf("datagram %d: %v -> %v is not between the caller and the callee", i, d.Src, d.Dst)
		}
		r := src.Outbound(d.Time, d.Dst, d.Payload, out)
		if r.Verdict == engine.Forward {
			put(d, r.Packet)
		} else if r.Reason != engine.DropNone {
			t.Fatalf("datagram %d dropped by the sender: %v", i, r.Reason)
		}
		for _, p := range src.TakeInjected(nil) {
			if p.Dir == engine.ToNetwork {
				put(d, p.Data)
			}
		}
	}
	last := orig[len(orig)-1].Time
	ca, cb := engines[w.caller].Calls(last), engines[w.callee].Calls(last)
	if len(ca) > 0 && len(cb) > 0 {
		w.sas = [2]string{ca[0].SAS.String(), cb[0].SAS.String()}
	}
	return w
}

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Identity: id, Policy: engine.PolicyOpportunistic})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func isAnswerAccept(b []byte) bool {
	f, err := iax.ParseFull(b)
	if err != nil {
		return false
	}
	if sub, ok := f.IAXSubclass(); !ok || sub != iax.IAXAccept {
		return false
	}
	m, found, _ := iax.FindIE(f.Payload, crypt.MarkerIE)
	return found && len(m) >= 2 && m[1] == crypt.MarkerAnswer
}

// insert returns dgs with d inserted at index i, timed as its neighbour.
func insert(dgs []pcapread.Datagram, i int, d pcapread.Datagram) []pcapread.Datagram {
	if d.Time.IsZero() {
		d.Time = dgs[i-1].Time
	}
	out := append([]pcapread.Datagram{}, dgs[:i]...)
	out = append(out, d)
	return append(out, dgs[i:]...)
}

func fullFrame(src, dst uint16, oseq, iseq uint8, typ iax.FrameType, sub uint8, payload []byte) []byte {
	f := iax.FullFrame{SrcCall: src, DstCall: dst, Timestamp: 1000, OSeq: oseq, ISeq: iseq, Type: typ, Subclass: sub, Payload: payload}
	return f.AppendTo(nil)
}

// firstFrom returns the index of the first datagram from src for which
// pred holds, or fails.
func firstFrom(t testing.TB, dgs []pcapread.Datagram, src netip.AddrPort, pred func([]byte) bool) int {
	t.Helper()
	for i, d := range dgs {
		if d.Src == src && pred(d.Payload) {
			return i
		}
	}
	t.Fatalf("no datagram from %v matches", src)
	return -1
}
