// Command iaxattack is the attacker of iaxcrypt's end-to-end tests. Run it
// as root inside the middle namespace of netns.NewTrio; it refuses to start
// where the interfaces it should intercept do not exist (the machine's own
// namespace has no veth-a). The tests build it with go build, start it,
// and drive it over --control (see package attacker).
//
// It creates a TUN device, a routing table whose only route is the TUN,
// and policy rules that send forwarded UDP from the given interfaces into
// that table; what it writes back into the TUN is routed by the main
// table. On SIGTERM or SIGINT it removes its rules, route and device.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"

	"github.com/iaxcrypt/iaxcrypt/internal/attacker"
	"github.com/iaxcrypt/iaxcrypt/tun"
)

// tunOffset leaves room for the virtio-net header wireguard's Linux TUN
// reads and writes in front of each packet.
const tunOffset = 16

type options struct {
	tunName  string
	ifaces   []string
	control  string
	table    int
	priority int
	mtu      int
	tick     time.Duration
	seed     uint64
}

func main() {
	var o options
	pflag.StringVar(&o.tunName, "tun", "atk0", "TUN device to create")
	pflag.StringSliceVar(&o.ifaces, "in", []string{"veth-a", "veth-b"}, "interfaces whose forwarded UDP is intercepted")
	pflag.StringVar(&o.control, "control", "", "unix socket for the control protocol (required)")
	pflag.IntVar(&o.table, "table", 100, "routing table that sends intercepted packets into the TUN")
	pflag.IntVar(&o.priority, "priority", 100, "priority of the first policy rule")
	pflag.IntVar(&o.mtu, "mtu", 1500, "MTU of the TUN device")
	pflag.DurationVar(&o.tick, "tick", 2*time.Millisecond, "how often delayed, forged and flood packets are sent")
	pflag.Uint64Var(&o.seed, "seed", 0, "seed of the flood's spoofed sources (0: random)")
	pflag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("iaxattack: ")
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

func run(o options) error {
	if o.control == "" {
		return errors.New("--control is required")
	}
	for _, name := range o.ifaces {
		if _, err := netlink.LinkByName(name); err != nil {
			return fmt.Errorf("interface %s not found (%v): run iaxattack inside the middle namespace of a test trio, never on a real host", name, err)
		}
	}
	dev, err := tun.Create(o.tunName, o.mtu)
	if err != nil {
		return err
	}
	defer dev.Close()
	undo, err := setupRouting(o)
	defer undo()
	if err != nil {
		return err
	}
	os.Remove(o.control)
	l, err := net.Listen("unix", o.control)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer os.Remove(o.control)
	defer l.Close()

	a := attacker.New(attacker.Config{Seed: o.seed})
	go func() {
		if err := attacker.Serve(l, a); err != nil {
			log.Print(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	w := &writer{dev: dev}
	errc := make(chan error, 1)
	go func() { errc <- routineReadFromTUN(ctx, dev, a, w) }()
	go routineTick(ctx, a, w, o.tick)
	log.Printf("ready: TUN %s, intercepting UDP from %s, control %s", o.tunName, strings.Join(o.ifaces, ","), o.control)
	select {
	case <-ctx.Done():
		log.Print("stopping")
		return nil
	case err := <-errc:
		return err
	}
}

// setupRouting installs the table and rules; undo removes what was
// installed, also after a partial failure.
func setupRouting(o options) (undo func(), err error) {
	var undos []func()
	undo = func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
	}
	link, err := netlink.LinkByName(o.tunName)
	if err != nil {
		return undo, fmt.Errorf("find TUN %s: %w", o.tunName, err)
	}
	// Packets written into the TUN are forwarded, with whatever source
	// address the attacker gave them.
	for key, val := range map[string]string{"forwarding": "1", "rp_filter": "0"} {
		path := fmt.Sprintf("/proc/sys/net/ipv4/conf/%s/%s", o.tunName, key)
		if err := os.WriteFile(path, []byte(val), 0o644); err != nil {
			return undo, fmt.Errorf("sysctl %s: %w", path, err)
		}
	}
	_, all, _ := net.ParseCIDR("0.0.0.0/0")
	rt := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: all, Table: o.table, Scope: netlink.SCOPE_LINK}
	if err := netlink.RouteAdd(rt); err != nil {
		return undo, fmt.Errorf("route into %s in table %d: %w", o.tunName, o.table, err)
	}
	undos = append(undos, func() { netlink.RouteDel(rt) })

	rules := []*netlink.Rule{rule(o.priority, o.tunName, unix.RT_TABLE_MAIN, 0)}
	for i, name := range o.ifaces {
		rules = append(rules, rule(o.priority+1+i, name, o.table, unix.IPPROTO_UDP))
	}
	for _, r := range rules {
		if err := netlink.RuleAdd(r); err != nil {
			return undo, fmt.Errorf("rule %v: %w", r, err)
		}
		undos = append(undos, func() { netlink.RuleDel(r) })
	}
	return undo, nil
}

func rule(prio int, iif string, table, proto int) *netlink.Rule {
	r := netlink.NewRule()
	r.Family = unix.AF_INET
	r.Priority = prio
	r.IifName = iif
	r.Table = table
	r.IPProto = proto
	return r
}

// writer writes packets into the TUN; both routines use it.
type writer struct {
	dev wgtun.Device
}

func (w *writer) write(pkts [][]byte) {
	if len(pkts) == 0 {
		return
	}
	bufs := make([][]byte, len(pkts))
	for i, p := range pkts {
		b := make([]byte, tunOffset+len(p))
		copy(b[tunOffset:], p)
		bufs[i] = b
	}
	// wireguard's GRO tables hold BatchSize distinct flows per Write; a
	// flood's spoofed sources are each a flow of their own.
	step := w.dev.BatchSize()
	for len(bufs) > 0 {
		n := min(step, len(bufs))
		if _, err := w.dev.Write(bufs[:n], tunOffset); err != nil {
			log.Printf("write to TUN: %v", err)
		}
		bufs = bufs[n:]
	}
}

// routineReadFromTUN passes every intercepted packet through the attacker.
func routineReadFromTUN(ctx context.Context, dev wgtun.Device, a *attacker.Attacker, w *writer) error {
	n := dev.BatchSize()
	bufs := make([][]byte, n)
	for i := range bufs {
		bufs[i] = make([]byte, tunOffset+65535)
	}
	sizes := make([]int, n)
	for {
		count, err := dev.Read(bufs, sizes, tunOffset)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrClosed) {
				return nil
			}
			if errors.Is(err, wgtun.ErrTooManySegments) {
				log.Printf("read from TUN: %v", err)
				continue
			}
			return fmt.Errorf("read from TUN: %w", err)
		}
		now := time.Now()
		var out [][]byte
		for i := 0; i < count; i++ {
			out = append(out, a.Handle(now, bufs[i][tunOffset:tunOffset+sizes[i]])...)
		}
		w.write(out)
	}
}

// routineTick sends what falls due: delayed frames, forged frames, floods.
func routineTick(ctx context.Context, a *attacker.Attacker, w *writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.write(a.Tick(now))
		}
	}
}
