package platform

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAdoptInheritedRaw: in the image PrepareDropPrivileges started, it
// takes the raw sockets named in the environment (close-on-exec from then
// on), removes its variables, and OpenRawSocket uses those sockets once;
// malformed variables, or descriptors that are not raw sockets of the
// right family, are ignored and the sockets opened as usual.
func TestAdoptInheritedRaw(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: raw sockets need root")
	}
	tests := []struct {
		name, fds, err6 string
		adopt, v6       bool
	}{
		{"both", "FD4,FD6", "", true, true},
		{"no IPv6", "FD4,-1", "IPv6 disabled", true, false},
		{"malformed", "FD4", "", false, true},
		{"not numbers", "x,y", "", false, true},
		{"swapped families", "FD6,FD4", "", false, true},
		{"not a socket", "0,-1", "", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd4, err := socketRaw(unix.AF_INET, 0)
			if err != nil {
				t.Fatal(err)
			}
			fd6, err := socketRaw(unix.AF_INET6, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if !tc.adopt || !tc.v6 {
					unix.Close(fd6) // not taken by the RawSocket, which closes its own
				}
			}()
			fds := tc.fds
			for k, v := range map[string]int{"FD4": fd4, "FD6": fd6} {
				fds = strings.ReplaceAll(fds, k, strconv.Itoa(v))
			}
			t.Setenv(reexecEnv, reexecValue)
			t.Setenv(rawFDsEnv, fds)
			t.Setenv(rawErr6Env, tc.err6)
			adoptInherited() // what PrepareDropPrivileges does in the image it started
			for _, k := range []string{reexecEnv, rawFDsEnv, rawErr6Env} {
				if v, ok := os.LookupEnv(k); ok {
					t.Errorf("%s=%s still in the environment", k, v)
				}
			}
			r, err := OpenRawSocket(SocketOptions{FwMark: 0x1234})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !tc.adopt {
				unix.Close(fd4)
			}
			if got := r.fd4 == fd4; got != tc.adopt {
				t.Fatalf("IPv4 socket %d, inherited %d: adopted %v, want %v", r.fd4, fd4, got, tc.adopt)
			}
			if (r.fd6 >= 0) != tc.v6 || (r.IPv6Err() == nil) != tc.v6 {
				t.Errorf("IPv6 socket %d, err %v; want one: %v", r.fd6, r.IPv6Err(), tc.v6)
			}
			if tc.adopt && !tc.v6 && !strings.Contains(r.IPv6Err().Error(), tc.err6) {
				t.Errorf("IPv6 error %q lacks the reason %q", r.IPv6Err(), tc.err6)
			}
			flags, err := unix.FcntlInt(uintptr(r.fd4), unix.F_GETFD, 0)
			if err != nil || flags&unix.FD_CLOEXEC == 0 {
				t.Errorf("socket %d: close-on-exec not set (flags %#x, %v)", r.fd4, flags, err)
			}
			if mark, err := unix.GetsockoptInt(r.fd4, unix.SOL_SOCKET, unix.SO_MARK); err != nil || mark != 0x1234 {
				t.Errorf("SO_MARK %#x, %v; want 0x1234", mark, err)
			}
			// Taken once: the next OpenRawSocket opens sockets of its own.
			r2, err := OpenRawSocket(SocketOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer r2.Close()
			if r2.fd4 == r.fd4 {
				t.Errorf("second OpenRawSocket got the inherited socket again")
			}
		})
	}
}
