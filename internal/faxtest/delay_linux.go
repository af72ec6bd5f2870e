//go:build linux

package faxtest

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// startDTEDelay opens modemDevice and a new pty and starts copying between
// them. Close stops it.
func startDTEDelay(modemDevice string, delay time.Duration) (*dteDelay, error) {
	d := &dteDelay{delay: delay}
	var err error
	if d.modem, err = openRaw(modemDevice); err != nil {
		return nil, err
	}
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		d.modem.Close()
		return nil, fmt.Errorf("faxtest: opening /dev/ptmx: %w", err)
	}
	d.ptmx = os.NewFile(uintptr(fd), "/dev/ptmx")
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("faxtest: setting up pty: %w", err)
	}
	d.Device = fmt.Sprintf("/dev/pts/%d", n)
	// Keep the pty's other end open (and raw, so nothing written to it is
	// echoed back) until efax has it: reads from /dev/ptmx fail while no
	// one holds it.
	if d.pts, err = openRaw(d.Device); err != nil {
		d.Close()
		return nil, err
	}
	d.wg.Add(2)
	go d.copy(d.ptmx, d.modem, false) // modem -> efax
	go d.copy(d.modem, d.ptmx, true)  // efax -> modem
	return d, nil
}

// openRaw opens a tty without making it the controlling terminal and puts
// it in raw mode.
func openRaw(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("faxtest: opening %s: %w", path, err)
	}
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err == nil {
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		tio.Cflag &^= unix.CSIZE | unix.PARENB
		tio.Cflag |= unix.CS8
		tio.Cc[unix.VMIN] = 1
		tio.Cc[unix.VTIME] = 0
		err = unix.IoctlSetTermios(fd, unix.TCSETS, tio)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("faxtest: raw mode on %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}
