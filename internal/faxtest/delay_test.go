//go:build linux

package faxtest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newPTY opens a pty and returns its master and the path of its slave,
// standing in for iaxmodem's device.
func newPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	return master, fmt.Sprintf("/dev/pts/%d", n)
}

// readFor reads from f until it has want bytes or the deadline passes.
func readFor(t *testing.T, f *os.File, want int, timeout time.Duration) string {
	t.Helper()
	if err := f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 256)
	for len(got) < want {
		n, err := f.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("read %q so far: %v", got, err)
		}
	}
	return string(got)
}

func TestDTEDelayHoldsOnlyResponses(t *testing.T) {
	modem, modemDev := newPTY(t)
	const delay = 150 * time.Millisecond
	d, err := startDTEDelay(modemDev, delay)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	efax, err := openRaw(d.Device)
	if err != nil {
		t.Fatal(err)
	}
	defer efax.Close()

	for _, tc := range []struct {
		cmd  string
		held bool
	}{{"AT+FRH=3\r", false}, {"AT+FTH=3\r", true}, {"AT+FTM=146\r", false}} {
		start := time.Now()
		if _, err := efax.WriteString(tc.cmd); err != nil {
			t.Fatal(err)
		}
		if got := readFor(t, modem, len(tc.cmd), 2*time.Second); got != tc.cmd {
			t.Fatalf("modem read %q, want %q", got, tc.cmd)
		}
		took := time.Since(start)
		if tc.held && took < delay {
			t.Errorf("%q reached the modem after %v, want at least %v", tc.cmd, took, delay)
		}
		if !tc.held && took >= delay {
			t.Errorf("%q reached the modem after %v, want it passed at once", tc.cmd, took)
		}
	}
	if got := d.Delayed(); got != 1 {
		t.Errorf("Delayed() = %d, want 1", got)
	}

	// Responses and data from the modem pass unchanged, binary included.
	resp := "\r\nCONNECT\r\n\xff\x13\x10\x03"
	if _, err := modem.WriteString(resp); err != nil {
		t.Fatal(err)
	}
	if got := readFor(t, efax, len(resp), 2*time.Second); got != resp {
		t.Fatalf("efax read %q, want %q", got, resp)
	}
}
