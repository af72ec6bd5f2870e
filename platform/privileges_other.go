//go:build !linux && !darwin

package platform

import "fmt"

// RequireRoot reports ErrUnsupported.
func RequireRoot() error { return fmt.Errorf("check privileges: %w", ErrUnsupported) }

// DropPrivileges reports ErrUnsupported.
func DropPrivileges() error { return fmt.Errorf("drop privileges: %w", ErrUnsupported) }

// DropPrivilegesKeepSetID reports ErrUnsupported.
func DropPrivilegesKeepSetID() error { return DropPrivileges() }

// PrepareDropPrivileges does nothing: DropPrivileges reports
// ErrUnsupported.
func PrepareDropPrivileges(keepSetID bool) error { return nil }
