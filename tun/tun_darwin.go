package tun

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// DefaultName lets the kernel choose the next free utunN; the real name is
// available from Device.Name.
const DefaultName = "utun"

// Create creates a utun device with the given MTU. name is "utun" (the
// kernel picks the unit) or "utunN". A utun is up as soon as it exists.
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
	return dev, nil
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
