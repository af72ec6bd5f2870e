package faxtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ResponseDelay is how long the receiving efax's "+FTH=3" (the start of
// every response frame it sends: CFR, FTT, MCF, ...) is held back before it
// reaches the modem. T.30 (5.3.2.2) has a station wait 75 ± 20 ms after
// the end of a received signal before it answers; efax answers at once.
//
// Without the gap, faxing between two iaxmodems on one machine fails about
// one call in five: the sender's efax follows TCF with +FRS=1 (wait for
// silence), then +FRH=3 (receive the response). The receiver's CFR starts
// 60 ms after the end of TCF on the wire; the two iaxmodems run their
// 20 ms audio loops in lock-step (the caller's is started by the ANSWER
// the answerer sends as it starts its own), and depending on where TCF
// ends in a 20 ms frame, the CFR preamble reaches the sending modem in the
// very frame its +FRS=1 first listens to. +FRS then waits until the whole
// CFR is over, +FRH=3 hears nothing, efax times out after 3 s and prints
// its own last frame as "received" (the buffer still holds it), and after
// three DCS/TCF rounds it gives up. A real line or network, with tens of
// ms of delay, never lines up like this; the 75 ms T.30 gap removes the
// race without any.
const ResponseDelay = 75 * time.Millisecond

// dteDelay sits between a receiving efax and its modem: efax talks to a
// pty of ours, and everything is copied to and from the modem's tty, except
// that a write carrying "+FTH=3" waits ResponseDelay first. The modem's
// device is the same (iaxmodem keeps its own end open), so the modem cannot
// tell.
type dteDelay struct {
	// Device is the pty efax should open.
	Device string

	modem, ptmx, pts *os.File
	delay            time.Duration
	delayed          atomic.Int64
	wg               sync.WaitGroup
	closeOnce        sync.Once
}

// copy copies src to dst until either fails; with hold, a chunk completing
// "+FTH=3" is written only after d.delay.
func (d *dteDelay) copy(dst, src *os.File, hold bool) {
	defer d.wg.Done()
	var m fthMatcher
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if hold && m.Feed(buf[:n]) {
				d.delayed.Add(1)
				time.Sleep(d.delay)
			}
			if _, werr := writeAll(dst, buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// EIO on /dev/ptmx: efax closed the pty between opens; keep
			// going until Close (d.pts keeps it usable).
			if errors.Is(err, unix.EIO) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return
		}
	}
}

func writeAll(w io.Writer, p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		n, err := w.Write(p)
		total += n
		p = p[n:]
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Delayed returns how many "+FTH=3" commands were held back.
func (d *dteDelay) Delayed() int { return int(d.delayed.Load()) }

// Close stops copying and closes both ends.
func (d *dteDelay) Close() {
	d.closeOnce.Do(func() {
		for _, f := range []*os.File{d.ptmx, d.pts, d.modem} {
			if f != nil {
				f.Close()
			}
		}
		d.wg.Wait()
	})
}

// fthMatcher finds "+FTH=3" (any case) in a byte stream cut into chunks.
type fthMatcher struct{ tail []byte }

var fthCmd = []byte("+FTH=3")

// Feed reports whether "+FTH=3" ends in p (possibly begun in earlier
// chunks).
func (m *fthMatcher) Feed(p []byte) bool {
	s := append(append([]byte(nil), m.tail...), bytes.ToUpper(p)...)
	i := bytes.LastIndex(s, fthCmd)
	if i >= 0 {
		// Start afresh after a match, so it is not found again.
		s = s[i+len(fthCmd):]
	}
	keep := min(len(s), len(fthCmd)-1)
	m.tail = append(m.tail[:0], s[len(s)-keep:]...)
	return i >= 0
}
