package platform

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Environment of the image PrepareDropPrivileges starts: the marker that
// stops it from starting another, and the raw sockets opened for it.
const (
	reexecEnv   = "IAXCRYPT_REEXEC_DROPPED"
	rawFDsEnv   = "IAXCRYPT_RAW_FDS"  // "FD4,FD6", -1 for one that did not open
	rawErr6Env  = "IAXCRYPT_RAW6_ERR" // why the IPv6 raw socket did not open
	reexecValue = "1"
)

// inheritedRaw holds the raw sockets the previous image opened, until
// OpenRawSocket takes them.
var inheritedRaw struct {
	fd4, fd6 int
	err6     string
	ok       bool
}

// PrepareDropPrivileges makes DropPrivileges possible in a build that
// cannot change the capabilities of every thread: one with cgo, where Go
// refuses syscall.AllThreadsSyscall. Call it first thing in the daemon,
// before any set-up and before starting goroutines that matter; keepSetID
// is what DropPrivilegesKeepSetID would keep.
//
// Without cgo, or when it runs in the image it started, it returns nil and
// changes nothing (DropPrivileges does the work after set-up). In a cgo
// build run as root it re-executes the program (/proc/self/exe, same
// arguments) from one locked thread whose bounding set holds only what
// DropPrivileges keeps, whose ambient and inheritable sets are empty and
// which has no_new_privs set. Capabilities are per thread, and execve keeps
// the calling thread's bounding set and no_new_privs for the new image, in
// which root's permitted and effective sets become that bounding set on
// every thread, C threads included: the state DropPrivileges leaves in a
// cgo-free build, reached before set-up instead of after it. The set-up
// then runs with CAP_NET_ADMIN (TUN, netlink, SO_MARK, SO_RCVBUFFORCE are
// all it needs), but for the raw pass-through sockets, which need
// CAP_NET_RAW to be created: they are opened here and inherited
// (OpenRawSocket takes them). What the set-up cannot do in the cgo build:
// anything else root's other capabilities would allow, such as a --listen,
// --metrics or --debug-addr port below 1024 or a state directory root does
// not own.
//
// On success it does not return. It returns an error matching
// ErrAllThreadsUnsupported when the re-execution cannot give that state:
// not root, or no CAP_SETPCAP to shrink the bounding set.
func PrepareDropPrivileges(keepSetID bool) error {
	if _, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_GET_NO_NEW_PRIVS, 0, 0); errno != syscall.ENOTSUP {
		return nil // DropPrivileges can change every thread
	}
	if os.Getenv(reexecEnv) == reexecValue {
		adoptInherited()
		return nil
	}
	_, prm, err := capSets()
	if err != nil {
		return fmt.Errorf("drop privileges: %w", err)
	}
	if prm&(1<<unix.CAP_NET_ADMIN) == 0 {
		return nil // not privileged: set-up fails and says so
	}
	if os.Geteuid() != 0 || prm&(1<<unix.CAP_SETPCAP) == 0 {
		return fmt.Errorf("drop privileges: %w (a cgo build drops them by re-executing itself, which needs root with CAP_SETPCAP; effective uid %d)",
			ErrAllThreadsUnsupported, os.Geteuid())
	}
	keep := uint64(1) << unix.CAP_NET_ADMIN
	if keepSetID {
		keep |= (1<<unix.CAP_SETUID | 1<<unix.CAP_SETGID) & prm
	}
	env, err := openRawForExec(os.Environ())
	if err != nil {
		return err
	}
	// Every step from here to execve on this one thread: the rest of the
	// process keeps its capabilities, and execve replaces it anyway. On
	// failure the goroutine stays locked to the thread, whose capabilities
	// differ from the others' now, so that the runtime never reuses it.
	runtime.LockOSThread()
	if err := narrowThisThread(keep); err != nil {
		closeRawForExec(env)
		return err
	}
	err = unix.Exec("/proc/self/exe", os.Args, append(env, reexecEnv+"="+reexecValue))
	closeRawForExec(env)
	return fmt.Errorf("drop privileges: re-execute /proc/self/exe with the reduced bounding set: %w", err)
}

// narrowThisThread leaves the calling thread's bounding set at keep, its
// ambient and inheritable sets empty (so that execve grants root exactly
// the bounding set) and sets no_new_privs. Permitted and effective stay:
// the new image's are computed from the bounding set.
func narrowThisThread(keep uint64) error {
	for c := 0; c <= capLastCap() && c < 64; c++ {
		if keep&(1<<c) != 0 {
			continue
		}
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) {
			break // beyond what this kernel knows
		}
		if err != nil {
			return fmt.Errorf("drop privileges: drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("drop privileges: clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("drop privileges: capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("drop privileges: clear inheritable capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("drop privileges: set no_new_privs: %w", err)
	}
	return nil
}

// openRawForExec opens the raw pass-through sockets for the next image
// (without close-on-exec) and returns env with their descriptors.
func openRawForExec(env []string) ([]string, error) {
	fd4, err := socketRaw(unix.AF_INET, 0)
	if err != nil {
		return nil, fmt.Errorf("open raw IPv4 socket for pass-through: %w", err)
	}
	fd6, err6 := socketRaw(unix.AF_INET6, 0)
	env = append(env, rawFDsEnv+"="+strconv.Itoa(fd4)+","+strconv.Itoa(fd6))
	if err6 != nil {
		env = append(env, rawErr6Env+"="+err6.Error())
	}
	return env, nil
}

// closeRawForExec closes what openRawForExec opened, when the execve
// failed.
func closeRawForExec(env []string) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, rawFDsEnv+"="); ok {
			for _, s := range strings.Split(v, ",") {
				if fd, err := strconv.Atoi(s); err == nil && fd >= 0 {
					unix.Close(fd)
				}
			}
		}
	}
}

// adoptInherited takes the raw sockets of the previous image (marking them
// close-on-exec) and removes the variables from the environment, so that
// no program the daemon starts sees them.
func adoptInherited() {
	v := os.Getenv(rawFDsEnv)
	inheritedRaw.err6 = os.Getenv(rawErr6Env)
	for _, k := range []string{reexecEnv, rawFDsEnv, rawErr6Env} {
		os.Unsetenv(k)
	}
	s4, s6, ok := strings.Cut(v, ",")
	fd4, err4 := strconv.Atoi(s4)
	fd6, err6 := strconv.Atoi(s6)
	if !ok || err4 != nil || err6 != nil || fd4 < 0 {
		return
	}
	if !isRawSocket(fd4, unix.AF_INET) || (fd6 >= 0 && !isRawSocket(fd6, unix.AF_INET6)) {
		return // not what the previous image opened: OpenRawSocket opens its own (and fails without CAP_NET_RAW)
	}
	for _, fd := range []int{fd4, fd6} {
		if fd >= 0 {
			unix.CloseOnExec(fd)
		}
	}
	inheritedRaw.fd4, inheritedRaw.fd6, inheritedRaw.ok = fd4, fd6, true
}

// isRawSocket reports whether fd is an IPPROTO_RAW socket of family.
func isRawSocket(fd, family int) bool {
	typ, err1 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	dom, err2 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	proto, err3 := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PROTOCOL)
	return err1 == nil && err2 == nil && err3 == nil && typ == unix.SOCK_RAW && dom == family && proto == unix.IPPROTO_RAW
}

// takeInheritedRaw returns the inherited raw sockets once.
func takeInheritedRaw() (fd4, fd6 int, err6 string, ok bool) {
	r := inheritedRaw
	inheritedRaw.ok = false
	return r.fd4, r.fd6, r.err6, r.ok
}
