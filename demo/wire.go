package demo

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/iaxcrypt/iaxcrypt/audit"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/iax"
)

// capture is dumpcap writing a live pcap stream of one interface of a host
// into a pipe the demo reads as packets cross, and, through it, into a
// file for the audit at the end.
type capture struct {
	proc *process
	file string
	done chan error
}

// startCapture runs dumpcap on iface in h and passes each UDP datagram on
// an IAX2 port to fn as it crosses.
func startCapture(h *host, iface, file string, fn func(audit.Datagram)) (*capture, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	f, err := os.Create(file)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	// -P: classic pcap; -q: no running packet count. dumpcap flushes
	// every packet into a pipe.
	proc, err := h.start("dumpcap "+iface, w, "dumpcap", "-q", "-P", "-i", iface, "-f", "udp", "-w", "-")
	w.Close()
	if err != nil {
		r.Close()
		f.Close()
		return nil, err
	}
	c := &capture{proc: proc, file: file, done: make(chan error, 1)}
	go func() {
		defer r.Close()
		defer f.Close()
		tee := io.TeeReader(r, f)
		err := audit.ReadDatagrams(tee, audit.DefaultPorts(), func(d audit.Datagram) bool {
			fn(d)
			return true
		})
		io.Copy(io.Discard, tee) // the rest of a packet cut at exit, into the file
		c.done <- err
	}()
	if err := poll(context.Background(), 15*time.Second, func() (bool, string) {
		return strings.Contains(proc.output(), "Capturing on"), "dumpcap not capturing yet: " + proc.output()
	}); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s: dumpcap on %s: %w", h.label, iface, err)
	}
	return c, nil
}

// stop ends the capture and waits until the file is complete.
func (c *capture) stop() {
	c.proc.stop(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
}

// watcher follows the call on the wire (host A's veth) and the
// application's side of it (A's TUN) and prints the call flow.
type watcher struct {
	mu      sync.Mutex
	p       *printer
	a       netip.Addr // host A's address: frames from it are "A -> B"
	appPort uint16

	switched  [2]bool // per side (0 A, 1 B): sent an encrypted frame
	sealed    [2]int
	clear     [2]int // cleartext frames after that side switched
	lastCount time.Time

	appVoice *frameSeen  // first voice frame A's application sent after the switch
	sealedA  []frameSeen // encrypted frames A sent, to find that voice frame on the wire
}

type frameSeen struct {
	at   time.Time
	data []byte
}

// maxSealedKept bounds the encrypted frames kept to match the voice frame.
const maxSealedKept = 500

func (w *watcher) side(src netip.AddrPort) (int, string) {
	if src.Addr() == w.a {
		return 0, "A -> B"
	}
	return 1, "B -> A"
}

// wire handles a datagram captured on A's veth.
func (w *watcher) wire(d audit.Datagram) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, dir := w.side(d.Src)
	b := d.Payload
	if crypt.IsEncryptedTrunk(b) {
		w.sealed[s]++
		if !w.switched[s] {
			w.switched[s] = true
			w.p.linef("wire   %s  encrypted trunk frame (meta 0x46), %d bytes  <- %s encrypts from here", dir, len(b), dir[:1])
		}
		return
	}
	if crypt.IsEncryptedFrame(b) {
		w.sealed[s]++
		if s == 0 && len(w.sealedA) < maxSealedKept {
			w.sealedA = append(w.sealedA, frameSeen{d.Time, append([]byte(nil), b...)})
		}
		if !w.switched[s] {
			w.switched[s] = true
			w.p.linef("wire   %s  encrypted frame (meta 0x45): %s, %d bytes  <- %s encrypts from here", dir, sealedHeader(b), len(b), dir[:1])
			w.lastCount = d.Time
		} else if d.Time.Sub(w.lastCount) >= 5*time.Second {
			w.lastCount = d.Time
			w.p.linef("wire   ... %d encrypted frames A -> B, %d B -> A; cleartext after the switch: %d", w.sealed[0], w.sealed[1], w.clear[0]+w.clear[1])
		}
		return
	}
	if w.switched[s] {
		w.clear[s]++
		w.p.linef("wire   %s  CLEARTEXT after the switch: %s", dir, describe(b))
		return
	}
	if k, err := iax.Classify(b); err == nil && k == iax.KindFull {
		w.p.linef("wire   %s  %s", dir, describe(b))
	}
}

// tun handles a datagram captured on A's TUN: what A's application sent
// and received, in clear.
func (w *watcher) tun(d audit.Datagram) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.appVoice != nil || !w.switched[0] || d.Src.Port() != w.appPort {
		return
	}
	if k, err := iax.Classify(d.Payload); err == nil && k == iax.KindMini {
		w.appVoice = &frameSeen{d.Time, append([]byte(nil), d.Payload...)}
	}
}

// voicePair returns the first voice frame A's application sent after the
// switch and the encrypted frame that carried it across: the next frame A
// sealed for the same call, longer by the encrypted frame's overhead (with
// or without the caller's confirmation, which it sends until the callee
// acknowledges it).
func (w *watcher) voicePair() (app, onWire []byte, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.appVoice == nil {
		return nil, nil, false
	}
	call := binary.BigEndian.Uint16(w.appVoice.data)
	for _, f := range w.sealedA {
		extra := len(f.data) - len(w.appVoice.data)
		if !f.at.Before(w.appVoice.at) && (extra == crypt.Overhead || extra == crypt.MaxOverhead) &&
			binary.BigEndian.Uint16(f.data[4:]) == call {
			return w.appVoice.data, f.data, true
		}
	}
	return nil, nil, false
}

// counts returns the encrypted frames seen each way and the cleartext
// frames after the switch.
func (w *watcher) counts() (sealedAB, sealedBA, clear int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sealed[0], w.sealed[1], w.clear[0] + w.clear[1]
}

// describe names a cleartext IAX2 frame for the call flow.
func describe(b []byte) string {
	k, err := iax.Classify(b)
	if err != nil {
		return fmt.Sprintf("%d bytes, not IAX2", len(b))
	}
	switch k {
	case iax.KindFull:
		f, err := iax.ParseFull(b)
		if err != nil {
			return "truncated full frame"
		}
		s := fmt.Sprintf("%-16s call %d -> %d", fullName(&f), f.SrcCall, f.DstCall)
		if m, found, _ := iax.FindIE(f.Payload, crypt.MarkerIE); found && len(m) >= 2 {
			s += "  " + markerText(m)
		}
		return s
	case iax.KindMini:
		return fmt.Sprintf("mini voice frame, call %d, %d bytes", binary.BigEndian.Uint16(b), len(b))
	}
	return k.String() + " frame"
}

func fullName(f *iax.FullFrame) string {
	if sub, ok := f.IAXSubclass(); ok {
		return sub.String()
	}
	if sub, ok := f.ControlSubclass(); ok {
		return sub.String()
	}
	return f.Type.String()
}

func markerText(m []byte) string {
	switch m[1] {
	case crypt.MarkerOffer:
		o, err := crypt.ParseOffer(m)
		if err != nil {
			return fmt.Sprintf("[marker 0xC3: offer v%d, malformed]", m[0])
		}
		names := make([]string, len(o.Ciphers))
		for i, c := range o.Ciphers {
			names[i] = c.String()
		}
		return fmt.Sprintf("[marker 0xC3: offer v%d, ciphers %s]", m[0], strings.Join(names, ", "))
	case crypt.MarkerAnswer:
		return fmt.Sprintf("[marker 0xC3: answer v%d, the cipher chosen is encrypted]", m[0])
	}
	return fmt.Sprintf("[marker 0xC3: type %d]", m[1])
}

func sealedHeader(b []byte) string {
	h, err := crypt.ParseHeader(b)
	if err != nil {
		return "malformed header"
	}
	return fmt.Sprintf("call %d -> %d, counter %d", h.SenderCall, h.ReceiverCall, h.Counter)
}

// hexBytes renders the first n bytes of b in groups of two.
func hexBytes(b []byte, n int) string {
	if len(b) < n {
		n = len(b)
	}
	var parts []string
	for i := 0; i < n; i += 2 {
		end := min(i+2, n)
		parts = append(parts, hex.EncodeToString(b[i:end]))
	}
	return strings.Join(parts, " ") + " ..."
}
