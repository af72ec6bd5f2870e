package netns

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PollInterval is how often WaitFor checks its condition.
const PollInterval = 50 * time.Millisecond

// WaitFor polls cond until it returns true, and fails the test with the last
// message cond returned if that does not happen within timeout.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	if msg, ok := Poll(timeout, cond); !ok {
		t.Fatalf("timed out after %v: %s", timeout, msg)
	}
}

// Poll polls cond until it returns true or timeout passes; it returns cond's
// last message and whether it became true. It is WaitFor for callers that
// handle the failure themselves.
func Poll(timeout time.Duration, cond func() (bool, string)) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return "", true
		}
		if time.Now().After(deadline) {
			return msg, false
		}
		time.Sleep(PollInterval)
	}
}

// UDPBound reports whether some socket in the namespace is bound to the
// local UDP port (IPv4 or IPv6), read from /proc/net/udp{,6} as seen inside
// the namespace. Use it to wait until a daemon is ready to receive.
func (h *Host) UDPBound(port int) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := h.Run(ctx, "cat", "/proc/net/udp", "/proc/net/udp6")
	if err != nil {
		return false, err
	}
	return udpTableHasPort(out, port), nil
}

// WaitUDPBound waits until a socket in the namespace is bound to port.
func (h *Host) WaitUDPBound(t testing.TB, timeout time.Duration, port int) {
	t.Helper()
	WaitFor(t, timeout, func() (bool, string) {
		ok, err := h.UDPBound(port)
		if err != nil {
			return false, err.Error()
		}
		return ok, fmt.Sprintf("nothing bound to udp port %d in %s", port, h.Name)
	})
}

// udpTableHasPort parses /proc/net/udp format: the second field of each row
// is "ADDR:PORT" with the port in hex.
func udpTableHasPort(table string, port int) bool {
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err == nil && int(p) == port {
			return true
		}
	}
	return false
}
