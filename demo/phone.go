package demo

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The demo's phones are unmodified iaxmodem instances, a software fax
// modem that speaks IAX2, driven by efax: a one-page fax is a call that
// carries real audio (fax tones and modulated data as 16-bit linear PCM)
// in both directions for about twenty seconds.

// phone is an iaxmodem running in a host.
type phone struct {
	h      *host
	device string
	proc   *process
	rt     []string // chrt prefix for real-time priority, if allowed
}

// startPhone writes an iaxmodem config for h — listening on appPort,
// calling dial — and starts it.
func startPhone(ctx context.Context, dir string, h *host, appPort uint16, dial netip.AddrPort, rt []string) (*phone, error) {
	name := strings.ToLower(h.label)
	p := &phone{h: h, device: filepath.Join(dir, "tty"+name), rt: rt}
	conf := strings.Join([]string{
		"device " + p.device,
		"owner root:root",
		"mode 660",
		fmt.Sprintf("port %d", appPort),
		"refresh 0", // no registration: calls go straight to the server below
		"server " + dial.String(),
		"peername",
		"secret",
		"cidname iaxcrypt demo " + h.label,
		"cidnumber 1" + name,
		"codec slinear",
	}, "\n") + "\n"
	confPath := filepath.Join(dir, "iaxmodem-"+name+".cfg")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write iaxmodem config: %w", err)
	}
	// iaxmodem reads only /etc/iaxmodem/<name>; a name climbing back to /
	// points it at the demo's file without touching /etc.
	args := append(append([]string{}, rt...), "stdbuf", "-oL", "-eL", "iaxmodem", "../.."+confPath)
	proc, err := h.start("iaxmodem", nil, args[0], args[1:]...)
	if err != nil {
		return nil, err
	}
	p.proc = proc
	err = poll(ctx, 15*time.Second, func() (bool, string) {
		if proc.exited() {
			return false, "iaxmodem exited: " + proc.output()
		}
		_, err := os.Lstat(p.device)
		return err == nil && h.udpBound(ctx, appPort), "iaxmodem not ready: " + proc.output()
	})
	if err != nil {
		return p, fmt.Errorf("%s: iaxmodem: %w", h.label, err)
	}
	return p, nil
}

// receive starts efax answering the next call on the phone (the modem
// answers on the first ring) and waits until it listens.
func (p *phone) receive(ctx context.Context, dir string) (*process, error) {
	args := append(append([]string{}, p.rt...), "efax", "-d", p.device, "-o1", "-jS0=1", "-w", "-kH0", "-kS0=0",
		"-r", filepath.Join(dir, "received"), "-v", "ewinr")
	proc, err := p.h.start("efax (answering)", nil, args[0], args[1:]...)
	if err != nil {
		return nil, err
	}
	err = poll(ctx, 15*time.Second, func() (bool, string) {
		return strings.Contains(proc.output(), "waiting for activity"), "efax not waiting yet: " + proc.output()
	})
	return proc, err
}

// send starts efax dialling extension 100 and sending page.
func (p *phone) send(page string) (*process, error) {
	args := append(append([]string{}, p.rt...), "efax", "-d", p.device, "-o1", "-v", "ewinr", "-t", "100", page)
	return p.h.start("efax (sending)", nil, args[0], args[1:]...)
}

// makePage writes a one-page fax (TIFF G3, a page cut to 2 inches) into dir.
func makePage(ctx context.Context, dir string) (string, error) {
	txt := filepath.Join(dir, "page.txt")
	if err := os.WriteFile(txt, []byte("iaxcrypt demo\n\nThis page crossed the network encrypted.\n"), 0o644); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "efix", "-p", "8.5x2in", "-n", filepath.Join(dir, "page.%03d"), txt).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("efix: %v: %s", err, out)
	}
	return filepath.Join(dir, "page.001"), nil
}

var receivedRE = regexp.MustCompile(`received (\d+) lines, (\d+) errors`)

// faxResult reads the receiving efax's log: lines and lines with errors
// of the page it stored, ok false if it stored none.
func faxResult(log string) (lines, errs int, ok bool) {
	m := receivedRE.FindStringSubmatch(log)
	if m == nil {
		return 0, 0, false
	}
	lines, _ = strconv.Atoi(m[1])
	errs, _ = strconv.Atoi(m[2])
	return lines, errs, true
}

// realtime returns the chrt prefix that gives iaxmodem and efax real-time
// priority, or nil where the system does not allow it: efax must answer
// within 55 ms and iaxmodem paces audio every 20 ms.
func realtime(ctx context.Context) []string {
	prefix := []string{"chrt", "-f", "20"}
	if exec.CommandContext(ctx, prefix[0], append(prefix[1:], "true")...).Run() != nil {
		return nil
	}
	return prefix
}
