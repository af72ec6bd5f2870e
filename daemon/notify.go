package daemon

import (
	"log/slog"

	"github.com/iaxcrypt/iaxcrypt/notify"
	"github.com/iaxcrypt/iaxcrypt/platform"
)

// startNotifier starts the desktop notifications (--notify); a reload may
// turn them on or off.
func startNotifier(o Config, log *slog.Logger) (*notify.Notifier, func()) {
	n := notify.New(notify.Config{Enabled: o.Notify, Log: log})
	return n, n.Close
}

// dropPrivileges keeps, with --notify, what running notify-send as the
// desktop user needs (CAP_SETUID, CAP_SETGID on Linux).
func dropPrivileges(o Config) error {
	if o.Notify {
		return platform.DropPrivilegesKeepSetID()
	}
	return platform.DropPrivileges()
}
