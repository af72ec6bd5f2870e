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
	// Mismatch lists, when Up was asked to take the leftovers over, those
	// that the router's Config would not install (e.g. a rule for another
	// application port), the reason it refused.
	Mismatch []string
}

// Error says what was found and what to do about it.
func (e *StaleError) Error() string {
	msg := "found routing left behind by an earlier iaxcrypt run (run \"iaxcrypt down\" with that run's --tun and --app-port to remove it):\n  " +
		strings.Join(e.Found, "\n  ")
	if len(e.Mismatch) > 0 {
		msg += "\nnot taken over, because this configuration would not install:\n  " + strings.Join(e.Mismatch, "\n  ")
	}
	return msg
}

// Is makes errors.Is(err, ErrStale) true for a *StaleError.
func (e *StaleError) Is(target error) bool { return target == ErrStale }
