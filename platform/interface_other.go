//go:build !linux && !darwin

package platform

import "fmt"

// DefaultInterface reports ErrUnsupported.
func DefaultInterface() (string, error) {
	return "", fmt.Errorf("find default interface: %w", ErrUnsupported)
}
