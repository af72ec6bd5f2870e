//go:build !linux

package faxtest

import (
	"errors"
	"time"
)

// startDTEDelay needs Linux ptys and termios; the fax harness runs only
// where iaxmodem does.
func startDTEDelay(modemDevice string, delay time.Duration) (*dteDelay, error) {
	return nil, errors.New("faxtest: the efax response delay needs Linux")
}
