package load

import "errors"

var (
	// ErrNotLoad: a voice payload that iaxload did not make (wrong magic
	// or too short).
	ErrNotLoad = errors.New("load: not an iaxload voice payload")
	// ErrCorrupt: an iaxload payload whose fill pattern does not match its
	// call index and sequence number: changed on the way.
	ErrCorrupt = errors.New("load: voice payload changed on the way")
	// ErrConfig: a Config that cannot run; the message says which field.
	ErrConfig = errors.New("load: invalid configuration")
)
