//go:build !linux && !darwin

package notify

import (
	"context"
	"errors"
	"os/exec"
)

// LoggedInUsers finds nobody where desktop notifications are not
// supported.
func LoggedInUsers() []User { return nil }

func commandFor(context.Context, User, Message) (*exec.Cmd, error) {
	return nil, errors.New("desktop notifications are not supported on this system")
}
