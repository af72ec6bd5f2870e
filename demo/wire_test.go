package demo

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/audit"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

var (
	appA  = netip.MustParseAddrPort("10.77.0.1:4571")
	wireA = netip.MustParseAddrPort("10.77.0.1:4569")
	wireB = netip.MustParseAddrPort("10.77.0.2:4569")
)

// TestWatcher runs a call through two real engines, shows the watcher the
// wire and A's application side, and checks the call flow it prints and
// the voice frame it pairs.
func TestWatcher(t *testing.T) {
	var out bytes.Buffer
	w := &watcher{p: &printer{w: &out, start: time.Now()}, a: wireA.Addr(), appPort: appA.Port()}
	ea, eb := newEngine(t), newEngine(t)
	now := time.Unix(1700000000, 0)
	n := 0
	send := func(from *engine.Engine, src, dst netip.AddrPort, to *engine.Engine, frame []byte) {
		t.Helper()
		n++
		now = now.Add(20 * time.Millisecond)
		if src == wireA {
			w.tun(audit.Datagram{Packet: n, Time: now, Src: appA, Dst: wireB, Payload: frame})
		}
		r := from.Outbound(now, dst, frame, make([]byte, 0, 2048))
		if r.Verdict != engine.Forward {
			t.Fatalf("dropped: %v", r.Reason)
		}
		wire := bytes.Clone(r.Packet)
		w.wire(audit.Datagram{Packet: n, Time: now, Src: src, Dst: dst, Payload: wire})
		if r := to.Inbound(now, src, wire, make([]byte, 0, 2048)); r.Verdict != engine.Forward {
			t.Fatalf("dropped at the receiver: %v", r.Reason)
		}
	}
	full := func(src, dst uint16, oseq, iseq uint8, typ iax.FrameType, sub uint8) []byte {
		f := iax.FullFrame{SrcCall: src, DstCall: dst, OSeq: oseq, ISeq: iseq, Type: typ, Subclass: sub,
			Payload: []byte{byte(iax.IEFormat), 4, 0, 0, 0, 0x40}}
		return f.AppendTo(nil)
	}
	voice := iax.MiniFrame{SrcCall: 5, Timestamp: 40, Payload: bytes.Repeat([]byte{0x7f, 0xff}, 160)}
	send(ea, wireA, wireB, eb, full(5, 0, 0, 0, iax.FrameIAX, uint8(iax.IAXNew)))
	send(eb, wireB, wireA, ea, full(9, 5, 0, 1, iax.FrameIAX, uint8(iax.IAXAccept)))
	send(ea, wireA, wireB, eb, full(5, 9, 1, 1, iax.FrameIAX, uint8(iax.IAXAck)))
	send(ea, wireA, wireB, eb, voice.AppendTo(nil))
	send(eb, wireB, wireA, ea, (&iax.MiniFrame{SrcCall: 9, Timestamp: 40, Payload: []byte{1, 2}}).AppendTo(nil))

	text := out.String()
	for _, want := range []string{
		"A -> B  NEW", fmt.Sprintf("[marker 0xC3: offer v%d, ciphers chacha20-poly1305, aes-256-gcm]", crypt.Version),
		"B -> A  ACCEPT", fmt.Sprintf("[marker 0xC3: answer v%d", crypt.Version),
		"A -> B  encrypted frame (meta 0x45): call 5 -> 9, counter 0", "<- A encrypts from here",
		"B -> A  encrypted frame (meta 0x45): call 9 -> 5, counter 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "CLEARTEXT") {
		t.Errorf("cleartext reported:\n%s", text)
	}
	app, onWire, ok := w.voicePair()
	extra := len(onWire) - len(app)
	if !ok || !bytes.Equal(app, voice.AppendTo(nil)) || extra != crypt.Overhead && extra != crypt.MaxOverhead || !crypt.IsEncryptedFrame(onWire) {
		t.Fatalf("voice pair: ok %v, app %d bytes, wire %d bytes", ok, len(app), len(onWire))
	}
	// A frame of the call in clear after the switch is shouted about.
	w.wire(audit.Datagram{Time: now, Src: wireA, Dst: wireB, Payload: voice.AppendTo(nil)})
	if !strings.Contains(out.String(), "A -> B  CLEARTEXT after the switch: mini voice frame, call 5") {
		t.Fatalf("cleartext after the switch not reported:\n%s", out.String())
	}
	if ab, ba, clear := w.counts(); ab != 2 || ba != 1 || clear != 1 {
		t.Fatalf("counts %d %d %d", ab, ba, clear)
	}
}

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFaxResult(t *testing.T) {
	log := "efax: 41:07 received 412 lines, 0 errors\nefax: received -> /tmp/x/received.001\n"
	if lines, errs, ok := faxResult(log); !ok || lines != 412 || errs != 0 {
		t.Fatalf("%d %d %v", lines, errs, ok)
	}
	if _, _, ok := faxResult("efax: failed to train\n"); ok {
		t.Fatal("no page read from a failed log")
	}
}

func TestHexBytes(t *testing.T) {
	if got := hexBytes([]byte{0, 0, 0x45, 1, 0, 5}, 5); got != "0000 4501 00 ..." {
		t.Fatalf("%q", got)
	}
}
