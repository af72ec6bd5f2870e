// Package dist holds the service definitions iaxcrypt installs: the
// systemd unit (Linux) and the launchd job (macOS), embedded so that
// "iaxcrypt install" writes exactly the files in this directory.
package dist

import _ "embed"

// SystemdUnit is iaxcrypt.service.
//
//go:embed iaxcrypt.service
var SystemdUnit string

// SystemdDefaults is iaxcrypt.default, the daemon's flags on Linux.
//
//go:embed iaxcrypt.default
var SystemdDefaults string

// LaunchdPlist is org.iaxcrypt.iaxcrypt.plist.
//
//go:embed org.iaxcrypt.iaxcrypt.plist
var LaunchdPlist string

// Where each file goes.
const (
	BinaryPath       = "/usr/local/sbin/iaxcrypt"
	SystemdUnitPath  = "/etc/systemd/system/iaxcrypt.service"
	SystemdDefaultsP = "/etc/default/iaxcrypt"
	LaunchdLabel     = "org.iaxcrypt.iaxcrypt"
	LaunchdPlistPath = "/Library/LaunchDaemons/org.iaxcrypt.iaxcrypt.plist"
)
