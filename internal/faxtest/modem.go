// Package faxtest owns the real-fax harness of iaxcrypt's end-to-end tests:
// it runs unmodified iaxmodem instances in network namespaces (made with
// internal/netns), sends a page from one to the other with efax, and reports
// whether the page arrived with 0 errors.
//
// iaxmodem takes the address it calls from its config file ("server"), not
// from the dial string: efax dials only an extension. So the dialled address
// and port are part of ModemConfig (Dial), separate from the port iaxmodem
// itself listens on (Port). With iaxcrypt in the path the application can
// listen on 4571 while the daemon owns 4569, and Dial names the peer's 4569.
//
// iaxmodem and efax run with real-time priority (chrt -f) when the system
// allows it: efax's Class 1 protocol must answer within 55 ms and iaxmodem
// paces audio every 20 ms, and on a loaded machine faxes fail without it.
//
// The receiving efax reaches its modem through a pty of the harness that
// gives its responses the 75 ms gap T.30 asks for and efax does not keep
// (see ResponseDelay): without it, about one T.30 training round in three
// fails between two iaxmodems on one machine, even an idle one.
package faxtest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// DefaultPort is the IAX2 port (RFC 5456).
const DefaultPort = 4569

// DefaultNumber is the extension Transfer dials; iaxmodem answers any.
const DefaultNumber = "100"

// BusyOut is how long iaxmodem rejects incoming calls after any hangup.
const BusyOut = 5 * time.Second

// RealtimePriority is the SCHED_FIFO priority given to iaxmodem and efax.
const RealtimePriority = 20

// ModemConfig describes one iaxmodem instance.
type ModemConfig struct {
	// Name labels the modem in messages and file names ("a", "b").
	Name string
	// Port is the local UDP port iaxmodem listens and sends from; 0 means
	// DefaultPort.
	Port int
	// Dial is where this modem's calls go (iaxmodem's "server"): the peer
	// application, or the peer's iaxcrypt daemon.
	Dial netip.AddrPort
	// Codec is "slinear" (the default), "ulaw" or "alaw".
	Codec string
	// CIDNumber is the caller number sent in NEW; empty means "1" + Name.
	CIDNumber string
	// NoRealtime runs iaxmodem and efax at normal priority.
	NoRealtime bool
	// PeerName and Secret, when PeerName is set, make the modem register
	// with Dial (a PBX) as that peer, every RegisterRefresh (60 s if zero);
	// otherwise it does not register and calls Dial directly.
	PeerName, Secret string
	RegisterRefresh  time.Duration
	// Wrapper is a command line iaxmodem runs under (after chrt), such
	// as faketime; empty for none.
	Wrapper []string
	// NoResponseDelay lets a receiving efax talk to the modem directly,
	// answering T.30 commands without the gap T.30 asks for (see
	// ResponseDelay); it exists to measure the harness without it.
	NoResponseDelay bool
}

// Modem is a running iaxmodem in a namespace.
type Modem struct {
	// Host is the namespace the modem runs in.
	Host *netns.Host
	// Config is the configuration it was started with, defaults filled in.
	Config ModemConfig
	// Device is the path of the modem's tty (a symlink to its pty).
	Device string
	// Proc is the iaxmodem process; its output is iaxmodem's log.
	Proc *netns.Process

	dir string
	t   testing.TB
}

// RequireTools skips the test, saying why, under -short, or unless it runs as root with
// `ip netns`, iaxmodem, efax and efix available.
func RequireTools(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("fax test skipped with -short")
	}
	netns.RequireRoot(t)
	var missing []string
	for _, bin := range []string{"iaxmodem", "efax", "efix", "stdbuf"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		t.Skipf("skipping fax test: %s not installed (apt-get install iaxmodem efax coreutils)", strings.Join(missing, ", "))
	}
}

// StartModem writes a config for cfg, starts iaxmodem in h and waits until
// its tty exists and its UDP port is bound. The modem is stopped and its
// files removed at test cleanup.
func StartModem(t testing.TB, h *netns.Host, cfg ModemConfig) *Modem {
	t.Helper()
	if cfg.Name == "" {
		t.Fatal("faxtest: ModemConfig.Name is empty")
	}
	if !cfg.Dial.IsValid() {
		t.Fatalf("faxtest: modem %s: ModemConfig.Dial is not set", cfg.Name)
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Codec == "" {
		cfg.Codec = "slinear"
	}
	if cfg.CIDNumber == "" {
		cfg.CIDNumber = "1" + cfg.Name
	}

	// iaxmodem keeps the device path in 64 bytes: a short dir of our own
	// rather than t.TempDir, whose path grows with the test name.
	dir, err := os.MkdirTemp("", "faxtest-")
	if err != nil {
		t.Fatalf("faxtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m := &Modem{Host: h, Config: cfg, Device: filepath.Join(dir, "tty"+cfg.Name), dir: dir, t: t}
	if len(m.Device) >= 64 {
		t.Fatalf("faxtest: device path %q too long for iaxmodem (64 bytes)", m.Device)
	}
	confPath := filepath.Join(dir, cfg.Name+".cfg")
	if err := os.WriteFile(confPath, []byte(configText(cfg, m.Device)), 0o644); err != nil {
		t.Fatalf("faxtest: writing config: %v", err)
	}

	// iaxmodem only reads "/etc/iaxmodem/<name>"; a name climbing back to /
	// points it at our file without touching /etc.
	args := append(append(m.prio(), cfg.Wrapper...), "stdbuf", "-oL", "-eL", "iaxmodem", "../.."+confPath)
	m.Proc = h.Start("iaxmodem-"+cfg.Name, args[0], args[1:]...)
	m.Proc.WaitOutput(t, 10*time.Second, "symbolic link")
	h.WaitUDPBound(t, 10*time.Second, cfg.Port)
	return m
}

// configText renders an iaxmodem config: calls go to cfg.Dial, with a
// registration there when cfg.PeerName is set (refresh 0, none, otherwise).
func configText(cfg ModemConfig, device string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "device %s\n", device)
	b.WriteString("owner root:root\nmode 660\n")
	fmt.Fprintf(&b, "port %d\n", cfg.Port)
	refresh := 0
	if cfg.PeerName != "" {
		refresh = 60
		if cfg.RegisterRefresh > 0 {
			refresh = int(cfg.RegisterRefresh / time.Second)
		}
	}
	fmt.Fprintf(&b, "refresh %d\n", refresh)
	fmt.Fprintf(&b, "server %s\n", cfg.Dial)
	fmt.Fprintf(&b, "peername %s\nsecret %s\n", cfg.PeerName, cfg.Secret)
	fmt.Fprintf(&b, "cidname faxtest %s\n", cfg.Name)
	fmt.Fprintf(&b, "cidnumber %s\n", cfg.CIDNumber)
	fmt.Fprintf(&b, "codec %s\n", cfg.Codec)
	return b.String()
}

// Log returns what iaxmodem has logged so far.
func (m *Modem) Log() string { return m.Proc.Output() }

// Dir returns the modem's scratch directory (config, received pages).
func (m *Modem) Dir() string { return m.dir }

// prio returns the command prefix giving real-time priority, if allowed.
func (m *Modem) prio() []string {
	if m.Config.NoRealtime || !realtimeOK(m.t) {
		return nil
	}
	return []string{"chrt", "-f", strconv.Itoa(RealtimePriority)}
}

var (
	rtOnce sync.Once
	rtErr  error
)

// realtimeOK reports whether chrt can give SCHED_FIFO here (containers may
// forbid it); it logs once when not.
func realtimeOK(t testing.TB) bool {
	rtOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "chrt", "-f", strconv.Itoa(RealtimePriority), "true").CombinedOutput(); err != nil {
			rtErr = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
		}
	})
	if rtErr != nil {
		t.Logf("faxtest: running without real-time priority (chrt: %v); faxes may fail on a loaded machine", rtErr)
	}
	return rtErr == nil
}

// errNoTimestamp: a hangup line whose time cannot be read.
var errNoTimestamp = errors.New("faxtest: hangup line without timestamp")

// WaitIdle waits until every modem is past its post-hangup busy-out, so the
// next call is not rejected. It polls the time of each modem's last logged
// hangup (iaxmodem stamps log lines to the second).
func WaitIdle(t testing.TB, timeout time.Duration, modems ...*Modem) {
	t.Helper()
	netns.WaitFor(t, timeout, func() (bool, string) {
		now := time.Now()
		for _, m := range modems {
			at, err := IdleAt(m.Log())
			if err != nil {
				return false, fmt.Sprintf("modem %s: %v", m.Config.Name, err)
			}
			if now.Before(at) {
				return false, fmt.Sprintf("modem %s busy until %v", m.Config.Name, at.Format(time.TimeOnly))
			}
		}
		return true, ""
	})
}

// IdleAt returns when a modem with this iaxmodem log accepts calls again:
// BusyOut after its last hangup, plus a second for the log's one-second
// resolution. A log with no hangup gives the zero time.
func IdleAt(log string) (time.Time, error) {
	var last time.Time
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "Hanging Up") && !strings.Contains(line, "Remote hangup") {
			continue
		}
		ts, err := logTime(line)
		if err != nil {
			return time.Time{}, err
		}
		if ts.After(last) {
			last = ts
		}
	}
	if last.IsZero() {
		return last, nil
	}
	return last.Add(BusyOut + time.Second + 200*time.Millisecond), nil
}

// logTime parses iaxmodem's "[2006-01-02 15:04:05] " line prefix, written in
// local time.
func logTime(line string) (time.Time, error) {
	const layout = "2006-01-02 15:04:05"
	if len(line) < len(layout)+2 || line[0] != '[' || line[len(layout)+1] != ']' {
		return time.Time{}, fmt.Errorf("%w: %q", errNoTimestamp, line)
	}
	ts, err := time.ParseInLocation(layout, line[1:len(layout)+1], time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("faxtest: iaxmodem log time in %q: %w", line, err)
	}
	return ts, nil
}
