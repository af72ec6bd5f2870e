package audit

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// TestRealCallsInClear: the real captures hold one call each, in clear,
// with the call flows their READMEs describe.
func TestRealCallsInClear(t *testing.T) {
	for _, path := range realCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r, err := ReadFile(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Calls) != 1 || r.Leaks != 0 || r.Datagrams != r.Packets || len(r.Unreadable) != 0 || r.NotIAX2 != 0 {
				t.Fatalf("report: %+v", r)
			}
			c := r.Calls[0]
			if c.Encryption != "none" || c.Offer != nil || c.Answer != nil || c.Frames.Encrypted != 0 || c.CalleeCall == 0 {
				t.Fatalf("call: %+v", c)
			}
			asterisk := strings.Contains(path, "asterisk")
			wantPlaceholders := []uint16(nil)
			if asterisk {
				// chan_iax2 answers the first NEW with CALLTOKEN from
				// call number 1 and the NEW comes again with the token.
				wantPlaceholders = []uint16{1}
				if c.Frames.Full["IAX NEW"] != 2 || c.Frames.Full["IAX CALLTOKEN"] != 1 || c.Frames.Full["IAX AUTHREQ"] != 1 {
					t.Errorf("Asterisk flow: %v", c.Frames.Full)
				}
			}
			if !slices.Equal(c.CalleePlaceholders, wantPlaceholders) {
				t.Errorf("placeholders %v, want %v", c.CalleePlaceholders, wantPlaceholders)
			}
			wantState := "ended"
			if strings.Contains(path, "busy-reject") {
				wantState = "rejected"
			}
			if c.State != wantState {
				t.Errorf("state %q, want %q", c.State, wantState)
			}
		})
	}
}

// TestEncryptedCallNoLeak replays each real call through two iaxcrypt
// engines and audits the wire: one encrypted call, the markers where the
// protocol puts them, the switch at the ACCEPT, and nothing in clear after
// it.
func TestEncryptedCallNoLeak(t *testing.T) {
	for _, path := range realCaptures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			w := replayEncrypted(t, path)
			r := auditDatagrams(t, w.dgs)
			if len(r.Calls) != 1 {
				t.Fatalf("%d calls: %+v", len(r.Calls), r.Calls)
			}
			c := r.Calls[0]
			if c.Leaks == nil || len(c.Leaks) != 0 || r.Leaks != 0 {
				t.Fatalf("leaks in a clean encrypted call: %+v", c.Leaks)
			}
			if c.Offer == nil || c.Offer.Version != crypt.Version || c.Offer.Type != crypt.MarkerOffer ||
				!slices.Equal(c.Offer.Ciphers, []string{"chacha20-poly1305", "aes-256-gcm"}) || c.Offer.Packet != 1 {
				t.Fatalf("offer %+v", c.Offer)
			}
			if c.Caller != w.caller || c.Callee != w.callee {
				t.Fatalf("endpoints %v -> %v, want %v -> %v", c.Caller, c.Callee, w.caller, w.callee)
			}
			if w.accept < 0 {
				// A refused call: offered, never answered.
				if c.Encryption != "offered" || c.Answer != nil || c.Frames.Encrypted != 0 || w.sealed != 0 {
					t.Fatalf("refused call: %+v", c)
				}
				return
			}
			if c.Encryption != "encrypted" || c.Answer == nil || c.Answer.Type != crypt.MarkerAnswer || c.Answer.Version != crypt.Version {
				t.Fatalf("call %+v, answer %+v", c, c.Answer)
			}
			if c.CalleeEncrypts == nil || c.CalleeEncrypts.Packet != w.accept+1 || c.Answer.Packet != w.accept+1 {
				t.Fatalf("callee switch %+v, answer %+v; the ACCEPT with the answer is packet %d", c.CalleeEncrypts, c.Answer, w.accept+1)
			}
			if c.CallerEncrypts == nil || c.CallerEncrypts.Packet != w.callerFirstSealed+1 {
				t.Fatalf("caller switch %+v, its first encrypted frame is packet %d", c.CallerEncrypts, w.callerFirstSealed+1)
			}
			if c.Frames.Encrypted != w.sealed || c.Frames.EncryptedTrunks != w.sealedTrunks || c.Frames.Mini+c.Frames.TrunkEntries+c.Frames.Video != 0 {
				t.Fatalf("frames %+v; %d frames and %d trunk frames were sealed, no media may be in clear", c.Frames, w.sealed, w.sealedTrunks)
			}
			if strings.Contains(path, "trunk-yes") && (c.Frames.EncryptedTrunks == 0 || c.Frames.EncryptedTrunkEntries < c.Frames.EncryptedTrunks) {
				t.Fatalf("the Asterisk trunk call shows no encrypted trunk entries: %+v", c.Frames)
			}
			if got := c.Frames.FullTotal() + c.Frames.Encrypted + c.Frames.EncryptedTrunks; got != len(w.dgs) {
				t.Fatalf("%d frames counted, %d on the wire", got, len(w.dgs))
			}
			if w.sas[0] == "" || w.sas[0] != w.sas[1] {
				t.Fatalf("engines disagree on the SAS: %q %q", w.sas[0], w.sas[1])
			}
		})
	}
}

// TestCleartextAfterSwitch injects, into the wire of a real encrypted call,
// one frame of each kind in clear after the switch, and checks the audit
// finds exactly that frame, and that what the protocol allows in clear is
// not reported.
func TestCleartextAfterSwitch(t *testing.T) {
	w := replayEncrypted(t, "../iax/testdata/captures/short-call.pcap")
	if w.accept < 0 || w.callerFirstSealed < 0 {
		t.Fatal("replay did not produce an encrypted call")
	}
	accept, err := iax.ParseFull(w.dgs[w.accept].Payload)
	if err != nil {
		t.Fatal(err)
	}
	callerCall, calleeCall := accept.DstCall, accept.SrcCall
	origMini := w.original[firstFrom(t, w.original, w.caller, func(b []byte) bool { k, _ := iax.Classify(b); return k == iax.KindMini })].Payload
	origVoice := w.original[firstFrom(t, w.original, w.callee, func(b []byte) bool { f, err := iax.ParseFull(b); return err == nil && f.Type == iax.FrameVoice })].Payload
	video := (&iax.VideoFrame{SrcCall: callerCall, Timestamp: 40, Payload: []byte{1, 2, 3}}).AppendTo(nil)
	trunk := (&iax.TrunkFrame{Timestamp: 100}).AppendTo(nil)
	trunk = iax.AppendTrunkEntry(trunk, false, iax.TrunkEntry{SrcCall: 999, Data: []byte{9}})
	trunk = iax.AppendTrunkEntry(trunk, false, iax.TrunkEntry{SrcCall: callerCall, Data: []byte{7, 7}})
	hangup := fullFrame(calleeCall, callerCall, 9, 9, iax.FrameIAX, uint8(iax.IAXHangup), nil)
	changedAccept := fullFrame(calleeCall, callerCall, accept.OSeq, accept.ISeq, iax.FrameIAX, uint8(iax.IAXAccept), []byte{byte(iax.IEFormat), 4, 0, 0, 0, 4})
	ackOfAccept := fullFrame(callerCall, calleeCall, 2, accept.OSeq+1, iax.FrameIAX, uint8(iax.IAXAck), nil)
	ackBeforeAccept := fullFrame(callerCall, calleeCall, 2, accept.OSeq, iax.FrameIAX, uint8(iax.IAXAck), nil)
	calleeBeforeAccept := fullFrame(calleeCall, callerCall, accept.OSeq-1, accept.ISeq, iax.FrameIAX, uint8(iax.IAXAck), nil)
	callerControl := fullFrame(callerCall, calleeCall, 2, accept.OSeq, iax.FrameControl, uint8(iax.ControlRinging), nil)
	otherCall := (&iax.MiniFrame{SrcCall: 4242, Timestamp: 1, Payload: []byte{1}}).AppendTo(nil)

	afterCaller := w.callerFirstSealed + 5 // both sides have switched
	afterAccept := w.accept + 1            // the callee has, the caller may not have
	late := w.dgs[w.accept].Time.Add(switchGrace + time.Second)
	type want struct{ side, kind, frame, why string }
	tests := []struct {
		name     string
		at       int
		from     netip.AddrPort
		payload  []byte
		time     time.Time // zero: its neighbour's
		leak     *want
		inFlight int
		retrans  int
	}{
		{"caller mini frame", afterCaller, w.caller, origMini, time.Time{}, &want{"caller", "mini", "", "caller encrypts from"}, 0, 0},
		{"callee full voice frame", afterCaller, w.callee, origVoice, time.Time{}, &want{"callee", "full", "VOICE", "only IAX signalling"}, 0, 0},
		{"callee HANGUP", afterCaller, w.callee, hangup, time.Time{}, &want{"callee", "full", "IAX HANGUP", "callee encrypts from"}, 0, 0},
		{"caller video frame", afterCaller, w.caller, video, time.Time{}, &want{"caller", "video", "", "caller encrypts from"}, 0, 0},
		{"trunk entry of the call", afterCaller, w.caller, trunk, time.Time{}, &want{"caller", "trunk entry", "", "caller encrypts from"}, 0, 0},
		{"callee ACCEPT with other IEs", afterCaller, w.callee, changedAccept, time.Time{}, &want{"callee", "full", "IAX ACCEPT", "callee encrypts from"}, 0, 0},
		{"caller mini frame before its first encrypted frame", afterAccept, w.caller, origMini, time.Time{}, &want{"caller", "mini", "", "media is never in flight"}, 0, 0},
		{"caller control frame before its first encrypted frame", afterAccept, w.caller, callerControl, time.Time{}, &want{"caller", "full", "CONTROL RINGING", "only IAX signalling"}, 0, 0},
		{"caller signalling too late to be in flight", afterAccept, w.caller, ackBeforeAccept, late, &want{"caller", "full", "IAX ACK", "more than 5s after the switch"}, 0, 0},
		{"callee signalling sent before its ACCEPT, reordered", afterAccept, w.callee, calleeBeforeAccept, time.Time{}, nil, 1, 0},
		{"caller ACK of the ACCEPT before its first encrypted frame", afterAccept, w.caller, ackOfAccept, time.Time{}, &want{"caller", "full", "IAX ACK", "acknowledges the ACCEPT"}, 0, 0},
		{"ACCEPT retransmitted unchanged", afterCaller, w.callee, w.dgs[w.accept].Payload, time.Time{}, nil, 0, 1},
		{"caller signalling in flight at the switch", afterAccept, w.caller, ackBeforeAccept, time.Time{}, nil, 1, 0},
		{"mini frame of another call", afterCaller, w.caller, otherCall, time.Time{}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := w.callee
			if tt.from == w.callee {
				to = w.caller
			}
			dgs := insert(w.dgs, tt.at, pcapread.Datagram{Time: tt.time, Src: tt.from, Dst: to, Payload: tt.payload})
			r := auditDatagrams(t, dgs)
			if len(r.Calls) != 1 {
				t.Fatalf("%d calls", len(r.Calls))
			}
			c := r.Calls[0]
			if c.InFlight != tt.inFlight || c.AcceptRetransmissions != tt.retrans {
				t.Errorf("in flight %d, ACCEPT retransmissions %d; want %d, %d", c.InFlight, c.AcceptRetransmissions, tt.inFlight, tt.retrans)
			}
			if tt.leak == nil {
				if len(c.Leaks) != 0 || r.Leaks != 0 {
					t.Fatalf("reported as leaks: %+v", c.Leaks)
				}
				return
			}
			if len(c.Leaks) != 1 || r.Leaks != 1 {
				t.Fatalf("leaks %+v, want exactly the injected frame", c.Leaks)
			}
			l := c.Leaks[0]
			if l.Packet != tt.at+1 || l.From != tt.from || l.To != to || l.Side != tt.leak.side || l.Kind != tt.leak.kind ||
				l.Frame != tt.leak.frame || !strings.Contains(l.Why, tt.leak.why) {
				t.Fatalf("leak %+v, want packet %d from %v, %+v", l, tt.at+1, tt.from, *tt.leak)
			}
		})
	}
}

// TestCaptureStartsMidCall: a capture that starts after the switch has no
// NEW; the call is followed from its first encrypted frame, and a
// cleartext frame of it is still found.
func TestCaptureStartsMidCall(t *testing.T) {
	w := replayEncrypted(t, "../iax/testdata/captures/short-call.pcap")
	tail := w.dgs[w.callerFirstSealed+10:]
	origMini := w.original[firstFrom(t, w.original, w.callee, func(b []byte) bool { k, _ := iax.Classify(b); return k == iax.KindMini })]
	at := 50
	dgs := insert(tail, at, pcapread.Datagram{Src: w.callee, Dst: w.caller, Payload: origMini.Payload})
	r := auditDatagrams(t, dgs)
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls", len(r.Calls))
	}
	c := r.Calls[0]
	if !c.Partial || c.Encryption != "encrypted" || c.Start.Packet != 1 || c.Frames.Encrypted != len(tail) {
		t.Fatalf("call %+v", c)
	}
	if len(c.Leaks) != 1 || c.Leaks[0].Packet != at+1 || c.Leaks[0].Kind != "mini" || !strings.Contains(c.Leaks[0].Why, "already encrypted") {
		t.Fatalf("leaks %+v", c.Leaks)
	}
	// Both call numbers come from the encrypted frames' headers.
	if c.CallerCall == 0 || c.CalleeCall == 0 || c.CallerCall == c.CalleeCall && c.Caller == c.Callee {
		t.Fatalf("call numbers %d/%d", c.CallerCall, c.CalleeCall)
	}
}

// TestCallNumberReused: a NEW that reuses the call number of an ended call
// starts a new call; a retransmitted NEW does not.
func TestCallNumberReused(t *testing.T) {
	one := readDatagrams(t, "../iax/testdata/captures/busy-reject.pcap")
	again := make([]pcapread.Datagram, len(one))
	for i, d := range one {
		d.Time = d.Time.Add(2e9)
		again[i] = d
	}
	dgs := append(slices.Clone(one), again...)
	// The first NEW once more with the R bit: a retransmission, same call.
	retx := bytes.Clone(one[0].Payload)
	binary.BigEndian.PutUint16(retx[2:], binary.BigEndian.Uint16(retx[2:])|0x8000)
	dgs = insert(dgs, 2, pcapread.Datagram{Src: one[0].Src, Dst: one[0].Dst, Payload: retx})
	r := auditDatagrams(t, dgs)
	if len(r.Calls) != 2 {
		t.Fatalf("%d calls, want 2: %+v", len(r.Calls), r.Calls)
	}
	for i, c := range r.Calls {
		want := 4
		if i == 0 {
			want = 5 // with the retransmitted NEW
		}
		if c.CallerCall != r.Calls[0].CallerCall || c.Frames.FullTotal() != want || c.State != "rejected" {
			t.Errorf("call %d: %+v", i+1, c)
		}
	}
	if r.Calls[1].Start.Packet != len(one)+2 {
		t.Errorf("second call starts at packet %d, want %d", r.Calls[1].Start.Packet, len(one)+2)
	}
}

// TestIPv6Call: the same call over IPv6.
func TestIPv6Call(t *testing.T) {
	a, b := netip.MustParseAddrPort("[fd00::1]:4569"), netip.MustParseAddrPort("[fd00::2]:4569")
	dgs := readDatagrams(t, "../iax/testdata/captures/busy-reject.pcap")
	for i := range dgs {
		if dgs[i].Src.Addr() == dgs[0].Src.Addr() {
			dgs[i].Src, dgs[i].Dst = a, b
		} else {
			dgs[i].Src, dgs[i].Dst = b, a
		}
	}
	r := auditDatagrams(t, dgs)
	if len(r.Calls) != 1 || r.Calls[0].Caller != a || r.Calls[0].Callee != b || r.Datagrams != 4 {
		t.Fatalf("report %+v calls %+v", r, r.Calls)
	}
}

// TestPorts: IAX2 on a port outside the defaults is other traffic until
// --port names it.
func TestPorts(t *testing.T) {
	dgs := readDatagrams(t, "../iax/testdata/captures/busy-reject.pcap")
	for i := range dgs {
		dgs[i].Src = netip.AddrPortFrom(dgs[i].Src.Addr(), 5000)
		dgs[i].Dst = netip.AddrPortFrom(dgs[i].Dst.Addr(), 5000)
	}
	path := filepath.Join(t.TempDir(), "p.pcap")
	if err := pcapread.WriteUDP(path, dgs); err != nil {
		t.Fatal(err)
	}
	r, err := ReadFile(path, Options{})
	if err != nil || len(r.Calls) != 0 || r.Other != 4 {
		t.Fatalf("default ports: %v %+v", err, r)
	}
	r, err = ReadFile(path, Options{Ports: []uint16{5000, 4569}})
	if err != nil || len(r.Calls) != 1 || r.Datagrams != 4 || !slices.Equal(r.Ports, []uint16{4569, 4570, 4571, 5000}) {
		t.Fatalf("--port 5000: %v %+v", err, r)
	}
}

// TestAcceptNotCaptured: without the callee's cleartext frames (its ACK and
// ACCEPT) in the capture, the callee's call number and switch come from its
// encrypted frames.
func TestAcceptNotCaptured(t *testing.T) {
	w := replayEncrypted(t, "../iax/testdata/captures/short-call.pcap")
	accept, err := iax.ParseFull(w.dgs[w.accept].Payload)
	if err != nil {
		t.Fatal(err)
	}
	dgs := slices.DeleteFunc(slices.Clone(w.dgs), func(d pcapread.Datagram) bool {
		return d.Src == w.callee && !crypt.IsEncryptedFrame(d.Payload)
	})
	r := auditDatagrams(t, dgs)
	if len(r.Calls) != 1 || r.Leaks != 0 {
		t.Fatalf("report %+v", r)
	}
	c := r.Calls[0]
	firstFromCallee := firstFrom(t, dgs, w.callee, crypt.IsEncryptedFrame)
	if c.Answer != nil || c.Encryption != "encrypted" || c.CalleeCall != accept.SrcCall ||
		c.CalleeEncrypts == nil || c.CalleeEncrypts.Packet != firstFromCallee+1 {
		t.Fatalf("call %+v (callee encrypts from %+v), want callee call %d encrypting from packet %d",
			c, c.CalleeEncrypts, accept.SrcCall, firstFromCallee+1)
	}
}
