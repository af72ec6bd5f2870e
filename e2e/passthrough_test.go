package e2e

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
	"sync"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

// udpToolSource is a tiny UDP program for the pass-through test:
//
//	udptool echo ADDR   answers every datagram on ADDR with "echo:" + it
//	udptool ask ADDR    sends "ping" to ADDR from an ephemeral port and
//	                    prints the answer; exits 1 if none comes within 1 s
const udpToolSource = `package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	switch os.Args[1] {
	case "echo":
		c, err := net.ListenPacket("udp", os.Args[2])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("listening on", c.LocalAddr())
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				os.Exit(1)
			}
			c.WriteTo(append([]byte("echo:"), buf[:n]...), from)
		}
	case "ask":
		c, err := net.Dial("udp", os.Args[2])
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Printf("%s from %s\n", buf[:n], c.RemoteAddr())
	}
}
`

var (
	udpToolOnce sync.Once
	udpToolPath string
	udpToolErr  error
)

// udpTool builds udpToolSource once per test run.
func udpTool(t *testing.T) string {
	t.Helper()
	udpToolOnce.Do(func() {
		dir, err := os.MkdirTemp("", "iaxcrypt-e2e-udptool-")
		if err != nil {
			udpToolErr = err
			return
		}
		src := filepath.Join(dir, "main.go")
		if err := os.WriteFile(src, []byte(udpToolSource), 0o644); err != nil {
			udpToolErr = err
			return
		}
		udpToolPath = filepath.Join(dir, "udptool")
		cmd := exec.Command("go", "build", "-o", udpToolPath, src)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			udpToolErr = fmt.Errorf("build udptool: %v: %s", err, out)
		}
	})
	if udpToolErr != nil {
		t.Fatal(udpToolErr)
	}
	return udpToolPath
}

var passedThroughRE = regexp.MustCompile(`data path stopped"? .*\bpassed_through=(\d+)\b.*\bpass_through_errors=(\d+)`)

// TestPassThroughToRoutedPeer: A runs iaxcrypt and routes peer B through
// it with "iaxcrypt route add", which sends all of A's UDP to B into the
// TUN, not only IAX2. A UDP request/response between A and an echo server
// on a non-IAX port of B must still work, the request having crossed the
// TUN and left through the daemon's raw pass-through socket (its counter
// in the daemon's exit log), the response coming back directly.
func TestPassThroughToRoutedPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	for _, tt := range []struct {
		name         string
		addrA, addrB netip.Prefix
		looseRP      bool // loose reverse-path filtering on A, as Debian sets it
		// cgo: the daemon built with cgo, whose raw sockets are opened
		// before it re-executes itself to drop privileges, and inherited.
		cgo bool
	}{
		{"IPv4", netip.Prefix{}, netip.Prefix{}, false, false},
		{"IPv4 loose rp_filter", netip.Prefix{}, netip.Prefix{}, true, false},
		{"IPv6", netip.MustParsePrefix("fd77::1/64"), netip.MustParsePrefix("fd77::2/64"), false, false},
		{"IPv4 cgo build", netip.Prefix{}, netip.Prefix{}, false, true},
		{"IPv6 cgo build", netip.MustParsePrefix("fd77::1/64"), netip.MustParsePrefix("fd77::2/64"), false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := netns.NewPairConfig(t, netns.PairConfig{Prefix: "iaxpt", AddrA: tt.addrA, AddrB: tt.addrB})
			tool := udpTool(t)
			if tt.looseRP {
				// Debian's default (systemd's 50-default.conf). Strict
				// filtering (1) drops the answers: the reverse lookup
				// for a UDP packet from the peer matches our "to PEER
				// ipproto udp" rule and points at the TUN.
				a.MustRun("sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=2", "net.ipv4.conf."+a.Link+".rp_filter=2")
			}
			echoAddr := netip.AddrPortFrom(b.IP(), 7777).String()
			// The wildcard address: B's IPv6 address may still be
			// tentative (DAD) and not yet bindable.
			echo := b.Start("udp echo", tool, "echo", ":7777")
			echo.WaitOutput(t, 10*time.Second, "listening on")

			bin := iaxcryptBinary(t)
			if tt.cgo {
				if _, err := exec.LookPath("gcc"); err != nil {
					t.Skip("skipping: no gcc, so no cgo build")
				}
				bin = iaxcryptCgoBin.get(t)
			}
			d := newDaemonOf(t, a, bin)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if out, err := a.Run(ctx, d.bin, "route", "add", b.IP().String(), "--control", d.control); err != nil {
				t.Fatalf("iaxcrypt route add %s: %v: %s", b.IP(), err, out)
			}
			fam := "-4"
			if b.IP().Is6() {
				fam = "-6"
			}
			if out, err := a.Run(ctx, "ip", fam, "rule", "show"); err != nil || !strings.Contains(out, "to "+b.IP().String()) {
				t.Fatalf("no rule for %s after route add: %v:\n%s", b.IP(), err, out)
			}

			// IPv6 addresses may still be tentative (DAD) for a moment:
			// ask until an answer comes.
			asks := 0
			var last string
			netns.WaitFor(t, 20*time.Second, func() (bool, string) {
				asks++
				out, err := a.Run(ctx, tool, "ask", echoAddr)
				last = out
				return err == nil, fmt.Sprintf("no answer from %s after %d tries: %v: %s", echoAddr, asks, err, out)
			})
			if !strings.HasPrefix(last, "echo:ping from ") {
				t.Fatalf("answer %q, want echo:ping", last)
			}
			// A few more, so one lucky packet proves nothing.
			for i := range 5 {
				if out, err := a.Run(ctx, tool, "ask", echoAddr); err != nil {
					t.Fatalf("request %d after the first answer: %v: %s", i, err, out)
				}
			}

			if err := d.proc.Stop(); err != nil {
				t.Logf("stop daemon: %v", err)
			}
			log := d.proc.Output()
			m := passedThroughRE.FindStringSubmatch(log)
			if m == nil {
				t.Fatalf("daemon log has no pass-through counters:\n%s", log)
			}
			passed, _ := strconv.Atoi(m[1])
			errs, _ := strconv.Atoi(m[2])
			// Every ask sent one request through the TUN; the 6 that were
			// answered certainly passed through it.
			if passed < 6 || passed > asks+5 {
				t.Fatalf("daemon passed %d packets through, want between 6 and %d (requests sent):\n%s", passed, asks+5, log)
			}
			if errs != 0 {
				t.Fatalf("daemon had %d pass-through errors:\n%s", errs, log)
			}
			t.Logf("%d requests answered; the daemon passed %d packets through (%d asks in all)", 6, passed, asks+5)
		})
	}
}
