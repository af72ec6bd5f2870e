package route

import (
	"errors"
	"strings"
)

var (
	// ErrStale matches a *StaleError: an earlier run left routing behind.
	ErrStale = errors.New("routing left behind by an earlier iaxcrypt run")

	// ErrInvalidConfig means a Config field is out of range.
	ErrInvalidConfig = errors.New("invalid routing configuration")

	// ErrInvalidPeer means an address given to AddPeer cannot be routed.
	ErrInvalidPeer = errors.New("invalid peer address")

	// ErrUnknownPeer means DelPeer was given a peer that was never added.
	ErrUnknownPeer = errors.New("peer was not added")

	// ErrClosed means the router was closed.
	ErrClosed = errors.New("router is closed")

	// ErrUnsupported means this operating system is not supported.
	ErrUnsupported = errors.New("routing is not supported on this operating system (iaxcrypt supports Linux and macOS)")
)

// StaleError lists the rules and routes an earlier run left behind. It
// matches ErrStale with errors.Is.
type StaleError struct {
	Found []string // one human-readable line per leftover
}

// Error says what was found and what to do about it.
func (e *StaleError) Error() string {
	return "found routing left behind by an earlier iaxcrypt run (run \"iaxcrypt down\" to remove it):\n  " +
		strings.Join(e.Found, "\n  ")
}

// Is makes errors.Is(err, ErrStale) true for a *StaleError.
func (e *StaleError) Is(target error) bool { return target == ErrStale }
