package tun

import "errors"

var (
	// ErrPermission means the caller may not create or delete network
	// devices. Callers show it as is: the message says to run as root.
	ErrPermission = errors.New("permission denied: run iaxcrypt as root (or with CAP_NET_ADMIN)")

	// ErrNoDriver means the kernel offers no TUN driver.
	ErrNoDriver = errors.New("no TUN driver: /dev/net/tun is missing; load it with \"modprobe tun\"")

	// ErrBusy means a device of that name exists and is held by another
	// process, most likely another iaxcrypt.
	ErrBusy = errors.New("TUN device is in use by another process: stop the other iaxcrypt, or choose another name with --tun")

	// ErrNotTUN means an interface of the requested name exists but is not a
	// TUN device; iaxcrypt refuses to use or delete it.
	ErrNotTUN = errors.New("interface exists and is not a TUN device: choose another name with --tun")

	// ErrUnsupported means this operating system is not supported.
	ErrUnsupported = errors.New("TUN devices are not supported on this operating system (iaxcrypt supports Linux and macOS)")
)
