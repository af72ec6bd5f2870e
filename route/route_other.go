//go:build !linux && !darwin

package route

import "fmt"

// New reports ErrUnsupported: iaxcrypt supports Linux and macOS only.
func New(cfg Config) (Router, error) {
	return nil, fmt.Errorf("route: %w", ErrUnsupported)
}

// Cleanup reports ErrUnsupported.
func Cleanup(cfg Config) (removed []string, err error) {
	return nil, fmt.Errorf("route cleanup: %w", ErrUnsupported)
}

// Leftovers reports ErrUnsupported.
func Leftovers(cfg Config) (found []string, err error) {
	return nil, fmt.Errorf("route leftovers: %w", ErrUnsupported)
}
