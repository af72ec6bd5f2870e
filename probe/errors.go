package probe

import "errors"

// ErrBadNonce means a nonce in a request is not 32 hex digits.
var ErrBadNonce = errors.New("bad probe nonce")
