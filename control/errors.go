package control

import "errors"

var (
	// ErrInUse means another daemon answers on the control socket.
	ErrInUse = errors.New("control socket is in use by a running daemon")
	// ErrNoDaemon means nothing listens on the control socket.
	ErrNoDaemon = errors.New("no daemon listens on the control socket")
)

// RemoteError is an error the daemon returned for a request.
type RemoteError struct {
	Op  string
	Msg string
}

func (e *RemoteError) Error() string { return e.Op + ": " + e.Msg }
