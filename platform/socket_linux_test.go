package platform

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/iaxcrypt/iaxcrypt/platform/nstest"
)

func TestListenUDPAddressInUse(t *testing.T) {
	first, err := ListenUDP("127.0.0.1:0", SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	port := strconv.Itoa(first.LocalAddr().(*net.UDPAddr).Port)
	_, err = ListenUDP("127.0.0.1:"+port, SocketOptions{})
	if !errors.Is(err, ErrAddressInUse) {
		t.Fatalf("second ListenUDP on port %s = %v, want ErrAddressInUse", port, err)
	}
	if msg := err.Error(); !strings.Contains(msg, port) || !strings.Contains(msg, "--listen") {
		t.Errorf("error %q should name port %s and say what to do", msg, port)
	}
}

func getMark(t *testing.T, c *net.UDPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var mark int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		mark, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return mark
}

func TestKernelListenUDPMarkAndDefaultInterface(t *testing.T) {
	if !nstest.Run(t) {
		return
	}
	tests := []struct {
		addr string
		mark uint32
	}{
		{":0", 0x4569},
		{"127.0.0.1:0", 0x1},
		{"[::1]:0", 0xffffffff},
		{":0", 0},
	}
	for _, tt := range tests {
		c, err := ListenUDP(tt.addr, SocketOptions{FwMark: tt.mark})
		if err != nil {
			t.Fatalf("ListenUDP(%s, %#x): %v", tt.addr, tt.mark, err)
		}
		if got := uint32(getMark(t, c)); got != tt.mark {
			t.Errorf("ListenUDP(%s): SO_MARK = %#x, want %#x", tt.addr, got, tt.mark)
		}
		c.Close()
	}
	if err := RequireRoot(); err != nil {
		t.Errorf("RequireRoot as root = %v", err)
	}
	if name, err := DefaultInterface(); err != nil || name != nstest.Iface {
		t.Errorf("DefaultInterface = %q, %v; want %q", name, err, nstest.Iface)
	}
}
