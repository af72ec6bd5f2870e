//go:build !linux && !darwin

package tun

import (
	"fmt"
	"net/netip"

	wgtun "golang.zx2c4.com/wireguard/tun"
)

// DefaultName is the TUN device name used when none is configured.
const DefaultName = "iax0"

// Create reports ErrUnsupported: iaxcrypt supports Linux and macOS only.
func Create(name string, mtu int) (wgtun.Device, error) {
	return nil, fmt.Errorf("create TUN %q: %w", name, ErrUnsupported)
}

// Exists always reports false on unsupported systems.
func Exists(name string) bool { return false }

// Delete reports ErrUnsupported.
func Delete(name string) error {
	return fmt.Errorf("delete TUN %q: %w", name, ErrUnsupported)
}

// Addresses returns nil.
func Addresses() []netip.Addr { return nil }
