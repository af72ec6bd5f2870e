package engine

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/iax"
	"github.com/iaxcrypt/iaxcrypt/internal/pcapread"
)

// TestReplayRealCalls replays every capture of a real call between two
// iaxmodem instances (iax/testdata/captures, made by
// scripts/capture-iaxmodem.sh) through two engines back to back: the
// caller's frames through A then B, the callee's through B then A. Every
// frame must reach the other application byte for byte, and after the
// ACCEPT nothing of the call may cross the wire in clear.
func TestReplayRealCalls(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "iax", "testdata", "captures", "*.pcap"))
	if len(files) == 0 {
		t.Skip("no captures in iax/testdata/captures: run scripts/capture-iaxmodem.sh")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			dgs, err := pcapread.ReadUDP(file)
			if err != nil {
				t.Fatal(err)
			}
			replayCapture(t, dgs)
		})
	}
}

// TestReplayAsteriskCalls replays the PBX-to-PBX calls between two real
// Asterisk 22 (iax/testdata/captures/asterisk22, with what they show in its
// README): CALLTOKEN from a placeholder call number, MD5 authentication,
// LAGRQ/LAGRP, PING/PONG and, with trunk=yes, the voice in trunk frames.
func TestReplayAsteriskCalls(t *testing.T) {
	for _, name := range []string{"asterisk-pbx-trunk-no.pcapng", "asterisk-pbx-trunk-yes.pcapng"} {
		t.Run(name, func(t *testing.T) {
			dgs, err := pcapread.ReadUDP(filepath.Join("..", "iax", "testdata", "captures", "asterisk22", name))
			if err != nil {
				t.Fatal(err)
			}
			a, b := replayCapture(t, dgs)
			// Both sides know the callee by its real number, not by the
			// CALLTOKEN placeholder.
			ca, cb := a.eng.Calls(dgs[len(dgs)-1].Time)[0], b.eng.Calls(dgs[len(dgs)-1].Time)[0]
			if ca.RemoteCall != cb.LocalCall || ca.RemoteCall == 1 || ca.LocalCall != cb.RemoteCall {
				t.Fatalf("call numbers: caller %d/%d, callee %d/%d", ca.LocalCall, ca.RemoteCall, cb.LocalCall, cb.RemoteCall)
			}
		})
	}
}

func replayCapture(t *testing.T, dgs []pcapread.Datagram) (a, b *host) {
	// The caller is whoever sent the first NEW.
	callerIdx := -1
	for i, d := range dgs {
		if f, err := iax.ParseFull(d.Payload); err == nil {
			if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXNew {
				callerIdx = i
				break
			}
		}
	}
	if callerIdx < 0 {
		t.Fatal("no NEW in the capture")
	}
	caller, callee := dgs[callerIdx].Src, dgs[callerIdx].Dst
	a, b = newHost(t, "A", caller, PolicyOpportunistic), newHost(t, "B", callee, PolicyOpportunistic)
	out, in := make([]byte, 0, 4096), make([]byte, 0, 4096)
	var sent, sealed, beforeSwitch int
	switched := false
	for i, d := range dgs[callerIdx:] {
		var src, dst *host
		switch {
		case d.Src == caller && d.Dst == callee:
			src, dst = a, b
		case d.Src == callee && d.Dst == caller:
			src, dst = b, a
		default:
			continue
		}
		r := src.eng.Outbound(d.Time, dst.addr, d.Payload, out)
		if r.Verdict != Forward {
			t.Fatalf("datagram %d (%x…) dropped by the sender's engine: %v", i, head(d.Payload), r.Reason)
		}
		wire := bytes.Clone(r.Packet)
		sent++
		if isSealed(wire) {
			sealed++
			switched = true
		} else if switched && !hasMarker(wire) {
			t.Fatalf("datagram %d left in clear after the switch: %x…", i, head(wire))
		} else if !switched {
			beforeSwitch++
		}
		r = dst.eng.Inbound(d.Time, src.addr, wire, in)
		if r.Verdict != Forward {
			t.Fatalf("datagram %d dropped by the receiver's engine: %v", i, r.Reason)
		}
		if !bytes.Equal(r.Packet, d.Payload) {
			t.Fatalf("datagram %d arrived as %x…, want %x…", i, head(r.Packet), head(d.Payload))
		}
		// Frames a side made up itself would show here; a real call has none.
		if inj := src.eng.TakeInjected(nil); len(inj) > 0 {
			t.Fatalf("datagram %d: engine injected %d packets", i, len(inj))
		}
	}
	ca := a.eng.Calls(dgs[len(dgs)-1].Time)
	cb := b.eng.Calls(dgs[len(dgs)-1].Time)
	if len(ca) != 1 || len(cb) != 1 {
		t.Fatalf("calls after replay: A %+v B %+v", ca, cb)
	}
	if !accepted(dgs) {
		// A refused call (busy): the handshake never completes and the
		// REJECT reaches the caller as it was.
		if ca[0].Encrypted || cb[0].Encrypted || sealed != 0 || ca[0].Status != StatusEnded {
			t.Fatalf("refused call: A %+v B %+v, %d sealed", ca[0], cb[0], sealed)
		}
		return a, b
	}
	if !ca[0].Encrypted || !cb[0].Encrypted || ca[0].SAS != cb[0].SAS {
		t.Fatalf("calls after replay: A %+v B %+v", ca, cb)
	}
	if sealed == 0 {
		t.Fatal("nothing was sealed")
	}
	if ca[0].Dropped != 0 || cb[0].Dropped != 0 {
		t.Fatalf("drops: caller %v, callee %v", ca[0].Drops, cb[0].Drops)
	}
	t.Logf("%d datagrams: %d before the switch, %d sealed", sent, beforeSwitch, sealed)
	return a, b
}

func accepted(dgs []pcapread.Datagram) bool {
	for _, d := range dgs {
		if f, err := iax.ParseFull(d.Payload); err == nil {
			if sub, ok := f.IAXSubclass(); ok && sub == iax.IAXAccept {
				return true
			}
		}
	}
	return false
}

func head(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}
