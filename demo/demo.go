// Package demo owns `iaxcrypt demo`: on one machine it builds two hosts
// (network namespaces joined by a veth pair), runs an iaxcrypt daemon and
// an unmodified IAX2 phone (iaxmodem) on each, places a call that carries
// real audio (a one-page fax), and prints as it happens the call flow on
// the wire, the negotiated cipher, the SAS on both sides, one voice frame
// as the application sent it and as it crossed the wire, and the daemons'
// status; then it removes everything, also when interrupted.
//
// Everything runs inside the two namespaces it creates; the machine's own
// interfaces, routes and rules are not touched.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/iaxcrypt/iaxcrypt/audit"
	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/crypt"
)

// Ports of the set-up where the daemon answers on the standard port: it
// owns 4569 and the phone moves to 4571 (README, "Set-ups").
const (
	daemonPort = 4569
	appPort    = 4571
)

// Packages are the Debian packages the demo runs (`make demo` installs
// them).
var Packages = []string{"iaxmodem", "efax", "tshark", "iproute2"}

// ErrNotRoot is returned when the demo does not run as root.
var ErrNotRoot = errors.New("the demo needs root: it creates network namespaces and runs a daemon in each (run sudo make demo)")

// Config says how to run the demo.
type Config struct {
	// Binary is the iaxcrypt executable each host runs as its daemon.
	Binary string
	// Out receives the demo's narration.
	Out io.Writer
}

// Result is what the demo saw, for its caller to check.
type Result struct {
	// Cipher and SAS as each daemon reports the call (A calls B).
	CipherA, CipherB string
	SASA, SASB       string
	// Leaks is what the audit of the wire capture found after the switch.
	Leaks int
}

// Run runs the demo until the call ends, ctx ends or something fails, and
// removes what it set up in every case.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	p := &printer{w: cfg.Out, start: time.Now()}
	if err := check(); err != nil {
		return res, err
	}
	for _, name := range removeStale(ctx) {
		p.linef("setup  removed %s, left by an earlier demo that was killed", name)
	}
	dir, err := os.MkdirTemp("", "iaxcrypt-demo-")
	if err != nil {
		return res, err
	}
	d := &run{cfg: cfg, p: p, dir: dir}
	defer func() {
		if cerr := d.cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	err = d.run(ctx, &res)
	if ctx.Err() != nil {
		p.linef("interrupted: removing everything")
		err = ctx.Err()
	}
	return res, err
}

// check says what is missing before anything is created.
func check() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the demo needs Linux network namespaces; on %s, run it in a Linux VM", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	var missing []string
	for _, bin := range []string{"ip", "iaxmodem", "efax", "efix", "dumpcap", "stdbuf"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the demo needs %s: run make demo, which installs them (apt-get install %s)",
			strings.Join(missing, ", "), strings.Join(Packages, " "))
	}
	return nil
}

// run is one demo's state: what to remove at the end.
type run struct {
	cfg      Config
	p        *printer
	dir      string
	a, b     *host
	procs    []*process // stopped in reverse order
	captures []*capture
}

type daemonHost struct {
	h       *host
	control string
}

func (d *run) run(ctx context.Context, res *Result) error {
	p := d.p
	p.section("Two hosts")
	a, b, err := newPair(ctx)
	if err != nil {
		return err
	}
	d.a, d.b = a, b
	p.linef("setup  host A: namespace %s, %s on %s", a.name, a.addr, linkName)
	p.linef("setup  host B: namespace %s, %s on %s, joined to A by a veth pair", b.name, b.addr, linkName)

	w := &watcher{p: p, a: a.ip(), appPort: appPort}
	wireCap, err := startCapture(a, linkName, filepath.Join(d.dir, "wire.pcap"), w.wire)
	if err != nil {
		return err
	}
	d.captures = append(d.captures, wireCap)

	var da, db *daemonHost
	for _, h := range []*host{a, b} {
		dh, err := d.startDaemon(ctx, h)
		if err != nil {
			return err
		}
		if h == a {
			da = dh
		} else {
			db = dh
		}
	}
	tunCap, err := startCapture(a, "iax0", filepath.Join(d.dir, "tun.pcap"), w.tun)
	if err != nil {
		return err
	}
	d.captures = append(d.captures, tunCap)

	rt := realtime(ctx)
	pa, err := startPhone(ctx, d.dir, a, appPort, netip.AddrPortFrom(b.ip(), daemonPort), rt)
	d.keep(pa)
	if err != nil {
		return err
	}
	pb, err := startPhone(ctx, d.dir, b, appPort, netip.AddrPortFrom(a.ip(), daemonPort), rt)
	d.keep(pb)
	if err != nil {
		return err
	}
	p.linef("setup  phones: iaxmodem on UDP %d in each host; its IAX2 packets are routed through the host's daemon", appPort)

	page, err := makePage(ctx, d.dir)
	if err != nil {
		return err
	}
	rx, err := pb.receive(ctx, d.dir)
	d.keepProc(rx)
	if err != nil {
		return err
	}
	p.section("The call: A faxes one page to B (fax tones and data, about 20 s of audio)")
	tx, err := pa.send(page)
	d.keepProc(tx)
	if err != nil {
		return err
	}

	ca, cb, err := d.waitEncrypted(ctx, da, db, tx, w)
	if err != nil {
		return err
	}
	res.CipherA, res.CipherB, res.SASA, res.SASB = ca.Cipher, cb.Cipher, ca.SAS, cb.SAS
	p.section("Keys")
	p.linef("keys   A: call %s, cipher %s", ca.State, ca.Cipher)
	p.linef("keys   B: call %s, cipher %s", cb.State, cb.Cipher)
	p.linef("SAS on A: %s", ca.SAS)
	p.linef("SAS on B: %s", cb.SAS)
	if ca.SAS != "" && ca.SAS == cb.SAS {
		p.linef("the SAS match: read them to each other on the call, and no one is in the middle")
	} else {
		p.linef("the SAS DIFFER: someone is in the middle")
	}

	if err := d.showVoice(ctx, w); err != nil {
		return err
	}
	p.section("Status during the call (iaxcrypt status on A)")
	p.block(d.statusTable(ctx, da))

	if err := d.waitFax(ctx, tx, rx); err != nil {
		return err
	}
	if err := d.waitEnded(ctx, da, db); err != nil {
		p.linef("status %v", err)
	}
	p.section("Status after the call")
	p.block("A:\n" + d.statusTable(ctx, da) + "B:\n" + d.statusTable(ctx, db))

	for _, c := range d.captures {
		c.stop()
	}
	d.captures = nil
	sealedAB, sealedBA, _ := w.counts()
	p.section("Audit of the wire (iaxcrypt audit on the capture of A's veth)")
	r, err := audit.ReadFile(wireCap.file, audit.Options{})
	if err != nil {
		return err
	}
	res.Leaks = r.Leaks
	for _, c := range r.Calls {
		p.linef("audit  call %d: %s call %d -> %s call %d, %s, %d encrypted frames (A -> B %d, B -> A %d), %d frames in clear after the switch",
			c.ID, c.Caller, c.CallerCall, c.Callee, c.CalleeCall, c.Encryption, c.Frames.Encrypted, sealedAB, sealedBA, len(c.Leaks))
	}
	if r.Leaks > 0 {
		return fmt.Errorf("the audit found %d frames of the encrypted call in clear after the switch", r.Leaks)
	}
	if ca.SAS == "" || ca.SAS != cb.SAS {
		return fmt.Errorf("the two daemons show different SAS (%q, %q)", ca.SAS, cb.SAS)
	}
	return nil
}

// startDaemon runs `iaxcrypt up` in h and waits until it answers on its
// control socket.
func (d *run) startDaemon(ctx context.Context, h *host) (*daemonHost, error) {
	state := filepath.Join(d.dir, "state-"+strings.ToLower(h.label))
	dh := &daemonHost{h: h, control: filepath.Join(d.dir, "control-"+strings.ToLower(h.label)+".sock")}
	proc, err := h.start("iaxcrypt up", nil, d.cfg.Binary, "up", "--listen", fmt.Sprintf(":%d", daemonPort),
		"--app-port", fmt.Sprint(appPort), "--state-dir", state, "--control", dh.control)
	d.keepProc(proc)
	if err != nil {
		return nil, err
	}
	var st control.Status
	err = poll(ctx, 20*time.Second, func() (bool, string) {
		if proc.exited() {
			return false, "iaxcrypt up exited: " + proc.output()
		}
		st, err = statusOf(ctx, dh)
		return err == nil, fmt.Sprintf("%v; daemon output:\n%s", err, proc.output())
	})
	if err != nil {
		return nil, fmt.Errorf("%s: iaxcrypt up: %w", h.label, err)
	}
	d.p.linef("setup  host %s: iaxcrypt up --listen :%d --app-port %d (identity %s)", h.label, daemonPort, appPort, st.Identity)
	return dh, nil
}

func statusOf(ctx context.Context, dh *daemonHost) (control.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return control.Client{Path: dh.control}.Status(ctx)
}

// waitEncrypted waits until both daemons show the call encrypted and the
// wire has shown an encrypted frame each way, so the narration follows the
// order of events.
func (d *run) waitEncrypted(ctx context.Context, da, db *daemonHost, tx *process, w *watcher) (ca, cb control.CallStatus, err error) {
	err = poll(ctx, 60*time.Second, func() (bool, string) {
		sa, errA := statusOf(ctx, da)
		sb, errB := statusOf(ctx, db)
		if errA != nil || errB != nil {
			return false, fmt.Sprint(errA, errB)
		}
		var okA, okB bool
		ca, okA = findCall(sa, "encrypted")
		cb, okB = findCall(sb, "encrypted")
		if !okA || !okB {
			if tx.exited() {
				return false, "the sending efax gave up before the call was encrypted:\n" + tx.output()
			}
			return false, fmt.Sprintf("no encrypted call yet: A %+v, B %+v", sa.Calls, sb.Calls)
		}
		if ab, ba, _ := w.counts(); ab == 0 || ba == 0 {
			return false, "the daemons say encrypted, the capture has not shown an encrypted frame each way yet"
		}
		return true, ""
	})
	return ca, cb, err
}

func findCall(st control.Status, state string) (control.CallStatus, bool) {
	for _, c := range st.Calls {
		if c.State == state {
			return c, true
		}
	}
	return control.CallStatus{}, false
}

// showVoice prints one voice frame as A's application sent it and as it
// crossed the wire.
func (d *run) showVoice(ctx context.Context, w *watcher) error {
	var app, onWire []byte
	err := poll(ctx, 20*time.Second, func() (bool, string) {
		var ok bool
		app, onWire, ok = w.voicePair()
		return ok, "no voice frame from A's application seen on both captures yet"
	})
	if err != nil {
		d.p.linef("voice  %v", err)
		return nil
	}
	d.p.section("One voice frame")
	d.p.linef("voice  as A's phone sent it (captured on A's TUN iax0), %d bytes:", len(app))
	d.p.linef("         %s", hexBytes(app, 24))
	d.p.linef("         a mini frame: source call, timestamp, then 16-bit linear audio, readable by anyone on the path")
	d.p.linef("voice  as it crossed the wire (captured on A's veth0), %d bytes = %d + %d of iaxcrypt (%s):",
		len(onWire), len(app), len(onWire)-len(app), overheadText(len(onWire)-len(app)))
	d.p.linef("         %s", hexBytes(onWire, 24))
	d.p.linef("         0000 45%02x: encrypted frame, protocol %d; then both call numbers and the counter in clear, then the sealed frame",
		crypt.Version, crypt.Version)
	return nil
}

// overheadText names what an encrypted frame adds (docs/protocol.md,
// "Encrypted frame").
func overheadText(n int) string {
	if n == crypt.MaxOverhead {
		return "16-byte header, flags byte, the caller's confirmation, 16-byte tag"
	}
	return "16-byte header, flags byte, 16-byte tag"
}

// waitFax waits for both efax processes and prints the outcome.
func (d *run) waitFax(ctx context.Context, tx, rx *process) error {
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := tx.wait(wctx); err != nil {
		return fmt.Errorf("the sending efax did not finish: %w", err)
	}
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if rx.wait(rctx) != nil {
		rx.stop(syscall.SIGTERM)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d.p.section("Fax")
	lines, errs, ok := faxResult(rx.output())
	switch {
	case ok && tx.exitCode() == 0:
		d.p.linef("fax    B received the page: %d lines, %d errors", lines, errs)
	default:
		d.p.linef("fax    the page did not get through (sending efax exit %d). Between two iaxmodem instances on one machine",
			tx.exitCode())
		d.p.linef("       T.30 timing fails about one call in five (internal/faxtest/delay.go); the call was encrypted all the same")
	}
	return nil
}

// waitEnded waits until both daemons list the call as ended.
func (d *run) waitEnded(ctx context.Context, da, db *daemonHost) error {
	return poll(ctx, 15*time.Second, func() (bool, string) {
		sa, errA := statusOf(ctx, da)
		sb, errB := statusOf(ctx, db)
		_, endA := findCall(sa, "ended")
		_, endB := findCall(sb, "ended")
		return errA == nil && errB == nil && endA && endB, "the call is not ended on both daemons yet"
	})
}

// statusTable runs `iaxcrypt status` against a daemon.
func (d *run) statusTable(ctx context.Context, dh *daemonHost) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, d.cfg.Binary, "status", "--control", dh.control).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("iaxcrypt status: %v: %s", err, out)
	}
	return string(out)
}

func (d *run) keep(ph *phone) {
	if ph != nil && ph.proc != nil {
		d.procs = append(d.procs, ph.proc)
	}
}

func (d *run) keepProc(p *process) {
	if p != nil {
		d.procs = append(d.procs, p)
	}
}

// cleanup stops every process (the daemons with SIGTERM, so they remove
// their routes and TUN), deletes the namespaces and the scratch directory,
// and says what it removed.
func (d *run) cleanup() error {
	var errs []error
	for _, c := range d.captures {
		c.stop()
	}
	for i := len(d.procs) - 1; i >= 0; i-- {
		if err := d.procs[i].stop(syscall.SIGTERM); err != nil {
			errs = append(errs, err)
		}
	}
	var removed []string
	if d.a != nil {
		if err := removePair(d.a, d.b); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, "namespaces "+d.a.name+" and "+d.b.name)
		}
	}
	if err := os.RemoveAll(d.dir); err != nil {
		errs = append(errs, err)
	} else {
		removed = append(removed, "scratch directory "+d.dir)
	}
	d.p.section("Clean-up")
	d.p.linef("done   stopped %d processes; removed %s", len(d.procs), strings.Join(removed, ", "))
	return errors.Join(errs...)
}

// printer narrates the demo with the time since it started.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (p *printer) linef(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%6.2fs  %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}

func (p *printer) section(title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\n== %s\n", title)
}

func (p *printer) block(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(p.w, "         %s\n", line)
	}
}
