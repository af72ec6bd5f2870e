package knownpeers

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrNoSuchPeer is matched (errors.Is) when a selector names no record.
var ErrNoSuchPeer = errors.New("no such peer in the known peers")

// ErrLocked is matched when another process (a running daemon) holds the
// store file.
var ErrLocked = errors.New("known peers file is in use by a running daemon")

// PermissionError means the store file can be read by group or others: it
// tells who calls whom, and a writable one lets anyone replace the keys it
// remembers. It is refused, as the identity key is.
type PermissionError struct {
	File string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("known peers file %s is accessible by others (mode %#o): run chmod 600 %s", e.File, e.Mode.Perm(), e.File)
}

// LineError is a line of the store file that did not parse. It is reported
// and kept as it was; the other lines load.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v (line kept as it is and ignored: fix or delete it)", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }
