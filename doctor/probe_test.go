package doctor

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/probe"
)

// tunStandIn is a UDP socket on loopback standing in for the daemon's
// TUN: it records the probes it receives, and answers the control
// socket's probe requests from that record, as the daemon does.
type tunStandIn struct {
	conn *net.UDPConn
	log  probe.Log
	wg   sync.WaitGroup
}

func newTUNStandIn(t *testing.T) *tunStandIn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &tunStandIn{conn: c}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if nonce, ok := probe.Parse(buf[:n]); ok {
				s.log.Record(nonce, probe.Sighting{Src: from, Dst: s.addr(), At: time.Now()})
			}
		}
	}()
	t.Cleanup(func() { c.Close(); s.wg.Wait() })
	return s
}

func (s *tunStandIn) addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Handler of the control socket: only probe requests matter here.
func (s *tunStandIn) Status() control.Status    { return control.Status{} }
func (s *tunStandIn) AddRoute(netip.Addr) error { return nil }
func (s *tunStandIn) DelRoute(netip.Addr) error { return nil }
func (s *tunStandIn) ProbeSeen(nonce string) (control.ProbeResult, error) {
	n, err := probe.ParseNonce(nonce)
	if err != nil {
		return control.ProbeResult{}, err
	}
	if seen, ok := s.log.Seen(n); ok {
		return control.ProbeResult{Seen: true, Src: seen.Src.String(), Dst: seen.Dst.String()}, nil
	}
	return control.ProbeResult{}, nil
}

func controlFor(t *testing.T, h control.Handler) control.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "control.sock")
	srv, err := control.Listen(path, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return control.Client{Path: path}
}

// holdUDP binds a UDP port on the wildcard address as an application
// would, sharing it (SO_REUSEADDR, as Asterisk does) or not.
func holdUDP(t *testing.T, share bool) uint16 {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		if !share {
			return nil
		}
		var serr error
		rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

func TestSendProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tun := newTUNStandIn(t)
	c := controlFor(t, tun)

	shared := holdUDP(t, true)
	r := sendProbe(ctx, c, shared, tun.addr())
	if r.outcome != probeSeen || r.seen.Src != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), shared).String() {
		t.Fatalf("probe from a shared port: outcome %d, seen %+v, err %v; want seen from port %d", r.outcome, r.seen, r.err, shared)
	}

	if r := sendProbe(ctx, c, holdUDP(t, false), tun.addr()); r.outcome != probePortBusy {
		t.Errorf("probe from a port held without sharing: outcome %d (%v), want probePortBusy", r.outcome, r.err)
	}

	// Nothing listens: the probe goes elsewhere and is not seen.
	gone := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), holdUDP(t, false))
	start := time.Now()
	if r := sendProbe(ctx, c, 0, gone); r.outcome != probeNotSeen {
		t.Errorf("probe that went elsewhere: outcome %d (%v), want probeNotSeen", r.outcome, r.err)
	}
	if d := time.Since(start); d < probeWait {
		t.Errorf("gave up after %v, before probeWait %v", d, probeWait)
	}

	// A daemon without probe requests.
	old := controlFor(t, oldDaemon{})
	if r := sendProbe(ctx, old, 0, tun.addr()); r.outcome != probeUnsupported {
		t.Errorf("old daemon: outcome %d (%v), want probeUnsupported", r.outcome, r.err)
	}
}

type oldDaemon struct{}

func (oldDaemon) Status() control.Status    { return control.Status{} }
func (oldDaemon) AddRoute(netip.Addr) error { return nil }
func (oldDaemon) DelRoute(netip.Addr) error { return nil }

func TestJudgeProbe(t *testing.T) {
	in := control.Info{TUN: "iax0", AppPort: 4569}
	for _, tt := range []struct {
		r      probeResult
		status string
		says   string
	}{
		{probeResult{outcome: probeSeen, seen: control.ProbeResult{Seen: true, Src: "10.0.0.1:4569", Dst: "192.0.2.1:9"}}, Pass, "10.0.0.1:4569 -> 192.0.2.1:9"},
		{probeResult{outcome: probeNotSeen}, Fail, "did not arrive"},
		{probeResult{outcome: probeRefused, err: syscall.EINVAL}, Fail, "refused"},
		{probeResult{outcome: probePortBusy, err: syscall.EADDRINUSE}, Skip, "port 4569 is held"},
		{probeResult{outcome: probeUnsupported}, Skip, "older"},
		{probeResult{outcome: probeFailed, err: syscall.EACCES}, Fail, "could not probe"},
	} {
		c := judgeProbe("probe", tt.r, "UDP from port 4569", in, "restart")
		if c.Status != tt.status || !strings.Contains(c.Detail, tt.says) || (c.Status == Fail) != (c.Fix != "") {
			t.Errorf("outcome %d: %+v; want %s saying %q, a fix exactly when failed", tt.r.outcome, c, tt.status, tt.says)
		}
	}
}
