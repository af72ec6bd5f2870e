package platform

import (
	"fmt"
	"os"
)

// RequireRoot returns an error matching ErrNotRoot unless the effective
// user is root, which creating a utun and changing routes needs on macOS.
func RequireRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w (effective uid %d)", ErrNotRoot, os.Geteuid())
	}
	return nil
}

// DropPrivileges does nothing on macOS, which has no capabilities to
// reduce, and returns nil: the daemon keeps root. pf's ioctls check the
// caller's credential each time, so at least a root part must stay to
// reload and remove the anchor; docs/macos-privileges.md has the XNU
// evidence and the privilege-split design that is not built yet.
func DropPrivileges() error { return nil }

// DropPrivilegesKeepSetID is DropPrivileges: root keeps every right.
func DropPrivilegesKeepSetID() error { return nil }

// PrepareDropPrivileges does nothing on macOS (see DropPrivileges).
func PrepareDropPrivileges(keepSetID bool) error { return nil }
