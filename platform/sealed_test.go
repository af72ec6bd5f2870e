package platform

import (
	"testing"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/keystore"
)

// The macOS defaults must be creatable on a sealed system volume (finding
// 4 of issue 11: /run/iaxcrypt could not be created, so "up" aborted).
func TestDarwinDefaultPathsWritable(t *testing.T) {
	for _, p := range []string{control.DarwinDefaultPath, keystore.DarwinDefaultDir, "/usr/local/sbin/iaxcrypt", "/Library/LaunchDaemons/org.iaxcrypt.iaxcrypt.plist"} {
		if !WritableOnSealedMac(p) {
			t.Errorf("%s is not writable on a sealed macOS system volume", p)
		}
	}
	for _, p := range []string{control.LinuxDefaultPath, keystore.LinuxDefaultDir, "/usr/sbin/iaxcrypt", "/System/Library/x", "/etc/../usr/bin/x", "relative/path", "/var/", "/Library"} {
		if WritableOnSealedMac(p) {
			t.Errorf("%s accepted as writable on a sealed macOS system volume", p)
		}
	}
}
