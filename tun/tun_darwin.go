package tun

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// DefaultName lets the kernel choose the next free utunN; the real name is
// available from Device.Name.
const DefaultName = "utun"

// Create creates a utun device with the given MTU. name is "utun" (the
// kernel picks the unit) or "utunN". A utun is up as soon as it exists.
// ioctl numbers of XNU: _IOW('i', 26, struct ifaliasreq) and
// _IOW('i', 26, struct in6_aliasreq).
const (
	siocAIFADDR    = 0x8040691a
	siocAIFADDRIn6 = 0x8080691a
)

func Create(name string, mtu int) (wgtun.Device, error) {
	if name == "" {
		name = DefaultName
	}
	if !strings.HasPrefix(name, "utun") {
		return nil, fmt.Errorf("create TUN %q: macOS names TUN devices utun or utunN: %w", name, ErrNotTUN)
	}
	dev, err := wgtun.CreateTUN(name, mtu)
	if err != nil {
		return nil, fmt.Errorf("create TUN %q: %w", name, classify(err))
	}
	real, err := dev.Name()
	if err == nil {
		err = addAddresses(real)
	}
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("create TUN %q: %w", name, err)
	}
	return dev, nil
}

// Addresses returns the addresses Create gives every utun.
func Addresses() []netip.Addr { return []netip.Addr{DefaultLocal4, DefaultLocal6} }

// addAddresses gives the utun its IPv4 point-to-point and IPv6 addresses
// (see addr.go), then checks that the system lists them.
func addAddresses(name string) error {
	req4, err := ifAliasReq(name, DefaultLocal4, DefaultPeer4)
	if err != nil {
		return err
	}
	req6, err := in6AliasReq(name, DefaultLocal6)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		family int
		req    uintptr
		buf    []byte
		what   string
	}{{unix.AF_INET, siocAIFADDR, req4, "IPv4 " + DefaultLocal4.String()}, {unix.AF_INET6, siocAIFADDRIn6, req6, "IPv6 " + DefaultLocal6.String()}} {
		fd, err := unix.Socket(r.family, unix.SOCK_DGRAM, 0)
		if err != nil {
			return fmt.Errorf("add %s address to %s: %w", r.what, name, err)
		}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), r.req, uintptr(unsafe.Pointer(&r.buf[0])))
		unix.Close(fd)
		if errno != 0 {
			return fmt.Errorf("add %s address to %s: %w", r.what, name, classify(errno))
		}
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("read back addresses of %s: %w", name, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return fmt.Errorf("read back addresses of %s: %w", name, err)
	}
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			seen[p.Addr()] = true
		}
	}
	for _, want := range Addresses() {
		if !seen[want] {
			return fmt.Errorf("%s lacks address %s after adding it (has %v)", name, want, addrs)
		}
	}
	return nil
}

// Exists reports whether a network interface called name exists.
func Exists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// Delete exists for symmetry with Linux. A utun disappears with the process
// that opened it and cannot be removed by another one, so Delete succeeds
// when the device is gone and reports ErrBusy when a live process holds it.
func Delete(name string) error {
	if !Exists(name) {
		return nil
	}
	return fmt.Errorf("delete TUN %q: %w", name, ErrBusy)
}

func classify(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w (%v)", ErrPermission, err)
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w (%v)", ErrBusy, err)
	}
	return err
}
