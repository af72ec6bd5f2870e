package keystore

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrCorrupt is matched (errors.Is) by errors about a key file that exists
// but does not hold a valid key.
var ErrCorrupt = errors.New("identity key file is corrupt")

// PermissionError means the key file can be read by group or others; the
// daemon refuses to use a key that may have leaked.
type PermissionError struct {
	File string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("identity key %s is readable by others (mode %#o): run chmod 600 %s", e.File, e.Mode.Perm(), e.File)
}

// corruptError says which file is bad, how, and what to do.
type corruptError struct {
	file, what string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("identity key %s %s: restore it from a backup, or move it away to make a new identity (peers will see a new fingerprint)", e.file, e.what)
}

func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }
