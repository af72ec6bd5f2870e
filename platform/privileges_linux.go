package platform

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RequireRoot returns an error matching ErrNotRoot unless the process holds
// CAP_NET_ADMIN in its effective set (as root normally does), which is what
// creating the TUN and changing rules needs.
func RequireRoot() error {
	eff, _, err := capSets()
	if err != nil {
		return fmt.Errorf("check privileges: %w", err)
	}
	if eff&(1<<unix.CAP_NET_ADMIN) == 0 {
		return fmt.Errorf("%w (effective uid %d, no CAP_NET_ADMIN)", ErrNotRoot, os.Geteuid())
	}
	return nil
}

func capSets() (eff, prm uint64, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, fmt.Errorf("capget: %w", err)
	}
	eff = uint64(data[1].Effective)<<32 | uint64(data[0].Effective)
	prm = uint64(data[1].Permitted)<<32 | uint64(data[0].Permitted)
	return eff, prm, nil
}

// DropPrivileges, called once setup is done, leaves every thread of the
// process with CAP_NET_ADMIN only, which the daemon still needs to remove
// its rules and routes at exit:
//
//   - the bounding set loses every other capability (needs CAP_SETPCAP,
//     which root has; without it the bounding set is left as it is),
//   - the ambient set is cleared,
//   - effective and permitted become {CAP_NET_ADMIN}, inheritable empty,
//   - no_new_privs is set, so no exec'd program can gain privileges.
//
// The user id stays 0: files owned by root stay writable, but nothing that
// needs another capability (reading others' files, loading modules,
// ptrace, raw sockets...) is possible any more. Capabilities are per
// thread on Linux, so every step runs on all threads with
// syscall.AllThreadsSyscall, which Go refuses in cgo builds: there
// DropPrivileges changes nothing, and returns nil when PrepareDropPrivileges
// has already given every thread that state (by re-executing the program
// before set-up), ErrAllThreadsUnsupported otherwise.
func DropPrivileges() error { return dropPrivileges(0) }

// DropPrivilegesKeepSetID is DropPrivileges that also keeps CAP_SETUID and
// CAP_SETGID, so that the daemon can start a program as another user: with
// --notify it runs notify-send as the logged-in desktop user, whose session
// bus root without those capabilities cannot reach. The price: a
// compromised daemon could act as any user (not regain root's other
// capabilities). --notify is off by default for that reason.
func DropPrivilegesKeepSetID() error {
	return dropPrivileges(1<<unix.CAP_SETUID | 1<<unix.CAP_SETGID)
}

// dropPrivileges keeps CAP_NET_ADMIN and those of the capabilities in
// extra the process has (a service may have been started without them).
func dropPrivileges(extra uint32) error {
	if extra != 0 {
		if _, prm, err := capSets(); err == nil {
			extra &= uint32(prm)
		}
	}
	keep := uint64(1)<<unix.CAP_NET_ADMIN | uint64(extra)
	// Probe first: a cgo build must fail before anything has changed,
	// unless PrepareDropPrivileges has already left every thread so.
	if _, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_GET_NO_NEW_PRIVS, 0, 0); errno == syscall.ENOTSUP {
		if err := alreadyDropped(keep); err != nil {
			return fmt.Errorf("drop privileges: %w (%v; iaxcrypt up re-executes itself to drop them)", ErrAllThreadsUnsupported, err)
		}
		return nil
	}
	for c := uintptr(0); c <= uintptr(capLastCap()); c++ {
		if c < 64 && keep&(1<<c) != 0 {
			continue
		}
		_, _, errno := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0, 0, 0, 0)
		if errno == unix.EINVAL {
			break // beyond what this kernel knows
		}
		if errno == unix.EPERM {
			break // no CAP_SETPCAP: the bounding set cannot shrink
		}
		if errno != 0 {
			return fmt.Errorf("drop privileges: drop capability %d from the bounding set: %w", c, errno)
		}
	}
	if _, _, errno := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); errno != 0 && errno != unix.EINVAL {
		return fmt.Errorf("drop privileges: clear ambient capabilities: %w", errno)
	}

	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{}
	data[0].Effective = uint32(keep)
	data[0].Permitted = uint32(keep)
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(data)
	if errno != 0 {
		return fmt.Errorf("drop privileges: capset: %w", errno)
	}

	if _, _, errno := syscall.AllThreadsSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); errno != 0 {
		return fmt.Errorf("drop privileges: set no_new_privs: %w", errno)
	}
	return nil
}

// capLastCap returns the highest capability number the kernel knows.
func capLastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	return 63 // try them all; EINVAL stops the loop at the kernel's end
}

// alreadyDropped checks that the calling thread (and so, after
// PrepareDropPrivileges, every thread) holds no capability outside keep in
// any set, none inheritable or ambient, and has no_new_privs set.
func alreadyDropped(keep uint64) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	set := func(lo, hi uint32) uint64 { return uint64(hi)<<32 | uint64(lo) }
	if eff := set(data[0].Effective, data[1].Effective); eff&^keep != 0 {
		return fmt.Errorf("effective capabilities %#x beyond %#x", eff, keep)
	}
	if prm := set(data[0].Permitted, data[1].Permitted); prm&^keep != 0 {
		return fmt.Errorf("permitted capabilities %#x beyond %#x", prm, keep)
	}
	if inh := set(data[0].Inheritable, data[1].Inheritable); inh != 0 {
		return fmt.Errorf("inheritable capabilities %#x", inh)
	}
	for c := 0; c <= capLastCap() && c < 64; c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			break // beyond what this kernel knows
		}
		if in == 1 && keep&(1<<c) == 0 {
			return fmt.Errorf("capability %d in the bounding set", c)
		}
		if amb, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(c), 0, 0); err == nil && amb == 1 {
			return fmt.Errorf("capability %d ambient", c)
		}
	}
	if nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err != nil || nnp != 1 {
		return errors.New("no_new_privs not set")
	}
	return nil
}
