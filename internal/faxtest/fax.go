package faxtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// MakePage writes a one-page TIFF G3 fax (a few lines of text on a page cut
// to 2 inches, so a call lasts about 20 s) into dir and returns its path.
func MakePage(t testing.TB, dir string) string {
	t.Helper()
	txt := filepath.Join(dir, "page.txt")
	if err := os.WriteFile(txt, []byte("iaxcrypt fax test page\n\nThe quick brown fox jumps over the lazy dog.\n"), 0o644); err != nil {
		t.Fatalf("faxtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "efix", "-p", "8.5x2in", "-n", filepath.Join(dir, "page.%03d"), txt).CombinedOutput()
	if err != nil {
		t.Fatalf("faxtest: efix: %v: %s", err, out)
	}
	page := filepath.Join(dir, "page.001")
	if _, err := os.Stat(page); err != nil {
		t.Fatalf("faxtest: efix made no page: %v: %s", err, out)
	}
	return page
}

// Exit statuses of efax (efax(1), RETURN VALUES).
const (
	ExitOK       = 0 // sent or received
	ExitBusy     = 1 // busy, or the device is in use
	ExitFailed   = 2 // unrecoverable error; a failed dial ends here too
	ExitProtocol = 3 // modem protocol error
	ExitNoModem  = 4 // modem not responding
	ExitSignal   = 5 // terminated by a signal
)

// ExitText describes an efax exit status.
func ExitText(code int) string {
	switch code {
	case ExitOK:
		return "success"
	case ExitBusy:
		return "busy"
	case ExitFailed:
		return "unrecoverable error"
	case ExitProtocol:
		return "modem protocol error"
	case ExitNoModem:
		return "modem not responding"
	case ExitSignal:
		return "terminated by signal"
	case -1:
		return "killed or not finished"
	}
	return "exit status " + strconv.Itoa(code)
}

// Page is one page a receiving efax stored.
type Page struct {
	// Lines and Errors are efax's count of scan lines and of lines received
	// with errors.
	Lines, Errors int
	// File is where efax stored the page (TIFF G3).
	File string
}

// Receiver is an efax waiting in answer mode on a modem.
type Receiver struct {
	// Proc is the efax process; its output is efax's session log.
	Proc *netns.Process
	m    *Modem
	// delay is the pty between efax and the modem, nil with
	// ModemConfig.NoResponseDelay.
	delay *dteDelay
}

// Receive starts efax in answer mode on m (the modem auto-answers on the
// first ring) and waits until it listens for a call. Received pages go to
// m.Dir()/recv.NNN.
//
// efax reaches the modem through a pty of the harness that holds each
// response frame back by ResponseDelay (see there), unless
// m.Config.NoResponseDelay.
func (m *Modem) Receive(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{m: m}
	device := m.Device
	if !m.Config.NoResponseDelay {
		d, err := startDTEDelay(m.Device, ResponseDelay)
		if err != nil {
			t.Fatalf("faxtest: modem %s: %v", m.Config.Name, err)
		}
		t.Cleanup(d.Close)
		r.delay, device = d, d.Device
	}
	// -jS0=1 makes the modem answer on the first ring; S0 outlives efax in
	// iaxmodem, so -kS0=0 turns auto-answer off again when efax exits, or a
	// later call would be answered with nobody listening.
	args := append(m.prio(), "efax", "-d", device, "-o1", "-jS0=1", "-w", "-kH0", "-kS0=0",
		"-r", filepath.Join(m.dir, "recv"), "-v", "ewinr")
	r.Proc = m.Host.Start("efax-rx-"+m.Config.Name, args[0], args[1:]...)
	r.Proc.WaitOutput(t, 15*time.Second, "waiting for activity")
	return r
}

// Wait waits for the receiving efax to finish (or ctx to end, which stops
// it) and returns its exit status and the pages it logged.
func (r *Receiver) Wait(ctx context.Context) (exit int, pages []Page, log string) {
	if err := r.Proc.Wait(ctx); err != nil && !r.Proc.Exited() {
		r.Proc.Stop()
	}
	log = r.Proc.Output()
	if r.delay != nil {
		r.delay.Close()
	}
	return r.Proc.ExitCode(), ParseReceived(log), log
}

// ResponsesDelayed returns how many response frames the harness held back
// by ResponseDelay (0 with ModemConfig.NoResponseDelay).
func (r *Receiver) ResponsesDelayed() int {
	if r.delay == nil {
		return 0
	}
	return r.delay.Delayed()
}

// StartSend starts efax on m dialling number and sending page, in the
// background; see Send for the blocking form.
func (m *Modem) StartSend(t testing.TB, number, page string) *netns.Process {
	t.Helper()
	args := append(m.prio(), "efax", "-d", m.Device, "-o1", "-v", "ewinr", "-t", number, page)
	return m.Host.Start("efax-tx-"+m.Config.Name, args[0], args[1:]...)
}

// Send sends page from m to extension number and returns efax's exit status
// (ExitOK when the receiver confirmed the page) and session log.
func (m *Modem) Send(ctx context.Context, t testing.TB, number, page string) (exit int, log string) {
	t.Helper()
	p := m.StartSend(t, number, page)
	if err := p.Wait(ctx); err != nil && !p.Exited() {
		p.Stop()
	}
	return p.ExitCode(), p.Output()
}

// Result is the outcome of one fax call.
type Result struct {
	// From and To name the sending and receiving modems.
	From, To string
	// SendExit and RecvExit are the efax exit statuses (ExitOK, ...).
	SendExit, RecvExit int
	// Pages are the pages the receiver stored.
	Pages []Page
	// SendLog and RecvLog are the efax session logs.
	SendLog, RecvLog string
	// Duration is the time from dialling to the receiver's exit.
	Duration time.Duration
	// ResponsesDelayed counts the receiver's response frames held back by
	// ResponseDelay.
	ResponsesDelayed int
}

// ErrFax is wrapped by Result.Err for every failed call.
var ErrFax = errors.New("fax failed")

// Err returns nil if both sides succeeded and exactly one page arrived with
// 0 errors, and otherwise an error wrapping ErrFax that says what went wrong.
// The receiver's exit status alone is not enough: efax exits 0 after
// receiving a page with errors that it asked to have retransmitted.
func (r Result) Err() error {
	var why []string
	if r.SendExit != ExitOK {
		why = append(why, fmt.Sprintf("sender efax: %s (%d)", ExitText(r.SendExit), r.SendExit))
	}
	if r.RecvExit != ExitOK {
		why = append(why, fmt.Sprintf("receiver efax: %s (%d)", ExitText(r.RecvExit), r.RecvExit))
	}
	switch len(r.Pages) {
	case 0:
		why = append(why, "no page received")
	case 1:
	default:
		why = append(why, fmt.Sprintf("%d pages received, want 1 (retransmissions)", len(r.Pages)))
	}
	for i, p := range r.Pages {
		if p.Errors != 0 {
			why = append(why, fmt.Sprintf("page %d: %d of %d lines with errors", i+1, p.Errors, p.Lines))
		}
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s -> %s: %s\n--- sender log:\n%s\n--- receiver log:\n%s",
		ErrFax, r.From, r.To, strings.Join(why, "; "), r.SendLog, r.RecvLog)
}

// Transfer faxes page from one modem to the other: it starts the receiver
// on to, dials DefaultNumber from from, and waits for both. The receiver is
// stopped if it is still waiting 20 s after the sender gave up. Follow it
// with WaitIdle before the next call between the same modems.
func Transfer(ctx context.Context, t testing.TB, from, to *Modem, page string) Result {
	t.Helper()
	rx := to.Receive(t)
	start := time.Now()
	res := Result{From: from.Config.Name, To: to.Config.Name}
	res.SendExit, res.SendLog = from.Send(ctx, t, DefaultNumber, page)

	// After a failed call, efax in answer mode may go on waiting for one.
	rxCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	res.RecvExit, res.Pages, res.RecvLog = rx.Wait(rxCtx)
	res.ResponsesDelayed = rx.ResponsesDelayed()
	res.Duration = time.Since(start)
	return res
}

// TransferRetry is Transfer tried up to attempts times, waiting out the
// busy-out between tries; every failed attempt is logged in full, so a
// retry cannot hide a pattern. With ResponseDelay a baseline fax no longer
// fails on an idle machine (0 of 12 measured, against 2 of 12 and 13 of 31
// training rounds without it); the retry stays for loaded CI machines, where
// a late audio frame can still cost a T.30 frame. It returns the last
// result.
func TransferRetry(ctx context.Context, t testing.TB, from, to *Modem, page string, attempts int) Result {
	t.Helper()
	var res Result
	for i := 1; i <= attempts; i++ {
		if i > 1 {
			WaitIdle(t, 30*time.Second, from, to)
		}
		res = Transfer(ctx, t, from, to, page)
		err := res.Err()
		if err == nil || ctx.Err() != nil {
			return res
		}
		if i < attempts {
			t.Logf("attempt %d of %d failed, retrying: %v", i, attempts, err)
		}
	}
	return res
}

var (
	receivedLinesRE = regexp.MustCompile(`received (\d+) lines, (\d+) errors`)
	receivedFileRE  = regexp.MustCompile(`received -> (\S+)`)
)

// ParseReceived reads a receiving efax's session log ("-v ewinr") for the
// pages it stored: a "received N lines, M errors" line, then
// "received -> FILE".
func ParseReceived(log string) []Page {
	var pages []Page
	for _, line := range strings.Split(log, "\n") {
		if m := receivedLinesRE.FindStringSubmatch(line); m != nil {
			lines, _ := strconv.Atoi(m[1])
			errs, _ := strconv.Atoi(m[2])
			pages = append(pages, Page{Lines: lines, Errors: errs})
			continue
		}
		if m := receivedFileRE.FindStringSubmatch(line); m != nil && len(pages) > 0 && pages[len(pages)-1].File == "" {
			pages[len(pages)-1].File = m[1]
		}
	}
	return pages
}
