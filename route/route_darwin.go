package route

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// New returns the macOS router for cfg. cfg.TunName must be the utun's real
// name (utunN, from Device.Name), and the utun must have its addresses;
// Table, Priority and FwMark are unused.
// pfctlCmd is the path of macOS's pfctl(8).
const pfctlCmd = "/sbin/pfctl"

func New(cfg Config) (Router, error) {
	return newDarwin(cfg, &sysOps{tokenFile: cfg.TokenFile})
}

// Cleanup removes the pf anchor a crashed run left (its kill switch) and
// gives back its pf reference. Its host routes went away with its utun.
func Cleanup(cfg Config) (removed []string, err error) {
	anchor := cfg.PfAnchor
	if anchor == "" {
		anchor = DefaultPfAnchor
	}
	ops := &sysOps{tokenFile: cfg.TokenFile}
	found, err := darwinLeftovers(ops, anchor)
	if err != nil {
		return nil, err
	}
	if err := darwinCleanup(ops, anchor); err != nil {
		return nil, err
	}
	return found, nil
}

// Leftovers lists the rules of the pf anchor, which Up replaces in one
// step (a take-over that never opens the direct path).
func Leftovers(cfg Config) (found []string, err error) {
	anchor := cfg.PfAnchor
	if anchor == "" {
		anchor = DefaultPfAnchor
	}
	return darwinLeftovers(&sysOps{tokenFile: cfg.TokenFile}, anchor)
}

// sysOps is darwinOps on the running system.
type sysOps struct {
	tokenFile string
	seq       atomic.Int32
}

func (o *sysOps) NextSeq() int32 { return o.seq.Add(1) }

func (o *sysOps) IfIndex(name string) (int, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return 0, err
	}
	return ifc.Index, nil
}

// RouteMsg writes msg on a fresh PF_ROUTE socket and reads until the
// kernel's copy of it (same pid and seq) comes back, within a second. The
// write itself fails with the kernel's errno when the request is refused
// (route(8) prints that and exits 0, which is why iaxcrypt does not use
// it); the echoed rtm_errno is checked as well.
func (o *sysOps) RouteMsg(msg []byte) (rtReply, error) {
	fd, err := unix.Socket(unix.AF_ROUTE, unix.SOCK_RAW, unix.AF_UNSPEC)
	if err != nil {
		return rtReply{}, fmt.Errorf("open routing socket: %w", err)
	}
	defer unix.Close(fd)
	seq := int32(hostEndian.Uint32(msg[offSeq:]))
	typ := int(msg[offType])
	if _, err := unix.Write(fd, msg); err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return rtReply{}, errno
		}
		return rtReply{}, err
	}
	pid := int32(os.Getpid())
	buf := make([]byte, 2048)
	deadline := time.Now().Add(time.Second)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return rtReply{}, fmt.Errorf("routing socket: no answer to message %d within a second", seq)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
			return rtReply{}, fmt.Errorf("routing socket: %w", err)
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			continue
		}
		n, err := unix.Read(fd, buf)
		if err != nil {
			return rtReply{}, fmt.Errorf("read routing socket: %w", err)
		}
		r, ok, err := parseRtMsg(buf[:n])
		if err != nil || !ok || r.pid != pid || r.seq != seq || r.typ != typ {
			continue
		}
		if r.errno != 0 {
			return r, r.errno
		}
		return r, nil
	}
}

func (o *sysOps) Pfctl(stdin string, args ...string) (string, error) {
	cmd := exec.Command(pfctlCmd, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", pfctlCmd, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

func (o *sysOps) LoadToken() (uint64, bool) {
	if o.tokenFile == "" {
		return 0, false
	}
	b, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return 0, false
	}
	t, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return t, err == nil && t != 0
}

func (o *sysOps) SaveToken(t uint64) error {
	if o.tokenFile == "" {
		return nil
	}
	if t == 0 {
		if err := os.Remove(o.tokenFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove pf token file: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(o.tokenFile), 0o755); err != nil {
		return fmt.Errorf("save pf token: %w", err)
	}
	if err := os.WriteFile(o.tokenFile, []byte(strconv.FormatUint(t, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("save pf token: %w", err)
	}
	return nil
}
