package tun

import (
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	wgtun "golang.zx2c4.com/wireguard/tun"
)

// DefaultName is the TUN device name used when none is configured.
const DefaultName = "iax0"

const cloneDevice = "/dev/net/tun"

// txQueueLen is how many packets the TUN holds for the daemon to read
// (the kernel's default for a TUN is 500: 17 ms of 300 calls); the rest
// of a burst would be dropped while the daemon waits for a CPU.
const txQueueLen = 8192

// Create creates the TUN device name with the given MTU and brings its link
// up. Reads and writes on the returned device need an offset of at least
// 10 bytes: wireguard's Linux TUN uses a virtio-net header. Its Read
// returns every packet waiting, not one a call (see batchReader).
func Create(name string, mtu int) (wgtun.Device, error) {
	if name == "" {
		name = DefaultName
	}
	// wireguard reports a missing clone device as a plain string; check
	// first so the caller gets an error it can match and a fix to apply.
	if _, err := os.Stat(cloneDevice); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("create TUN %q: %w", name, ErrNoDriver)
	}
	if link, err := netlink.LinkByName(name); err == nil && link.Type() != "tuntap" {
		return nil, fmt.Errorf("create TUN %q (found type %q): %w", name, link.Type(), ErrNotTUN)
	}
	dev, err := wgtun.CreateTUN(name, mtu)
	if err != nil {
		return nil, fmt.Errorf("create TUN %q: %w", name, classify(err))
	}
	realName, err := dev.Name()
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("create TUN %q: read its name: %w", name, err)
	}
	link, err := netlink.LinkByName(realName)
	if err == nil {
		err = netlink.LinkSetTxQLen(link, txQueueLen)
	}
	if err == nil {
		err = netlink.LinkSetUp(link)
	}
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("bring TUN %q up: %w", realName, classify(err))
	}
	bdev, err := batchReads(dev)
	if err != nil {
		dev.Close()
		return nil, err
	}
	return bdev, nil
}

// Exists reports whether a network interface called name exists.
func Exists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// Delete removes the TUN device name, typically one left behind by a daemon
// that was killed while another process still held the device. A missing
// device is not an error; an interface of that name that is not a TUN is
// left alone and reported with ErrNotTUN.
func Delete(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			return nil
		}
		return fmt.Errorf("delete TUN %q: look it up: %w", name, classify(err))
	}
	if link.Type() != "tuntap" {
		return fmt.Errorf("delete TUN %q (found type %q): %w", name, link.Type(), ErrNotTUN)
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete TUN %q: %w", name, classify(err))
	}
	return nil
}

// classify adds the sentinel a caller can act on to a kernel error.
func classify(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w (%v)", ErrPermission, err)
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w (%v)", ErrBusy, err)
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV):
		return fmt.Errorf("%w (%v)", ErrNoDriver, err)
	}
	return err
}

// Addresses returns nil: on Linux the TUN carries no address (see the
// package comment).
func Addresses() []netip.Addr { return nil }
