package platform

import "errors"

var (
	// ErrNotRoot means the process lacks the privileges iaxcrypt up needs.
	ErrNotRoot = errors.New("iaxcrypt up needs root (or CAP_NET_ADMIN): run it with sudo")

	// ErrAddressInUse means the UDP port is taken by another process.
	ErrAddressInUse = errors.New("address already in use")

	// ErrNoDefaultRoute means no default route was found, so there is no
	// interface to bind the daemon's socket to.
	ErrNoDefaultRoute = errors.New("no default route: connect to a network or name the interface explicitly")

	// ErrAllThreadsUnsupported means capabilities could not be changed on
	// every thread at once because the binary was built with cgo, and
	// PrepareDropPrivileges could not re-execute it with them dropped.
	ErrAllThreadsUnsupported = errors.New("cannot change privileges of all threads in a cgo build: run iaxcrypt up as root, or build it with CGO_ENABLED=0")

	// ErrUnsupported means this operating system is not supported.
	ErrUnsupported = errors.New("not supported on this operating system (iaxcrypt supports Linux and macOS)")
)
