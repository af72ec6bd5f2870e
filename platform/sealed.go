package platform

import (
	"path"
	"strings"
)

// writableOnMac lists where a root daemon may create files on macOS 10.15
// and later, whose system volume is sealed and read-only: the data
// volume's /private/var (with the /var symlink), /Library, /usr/local and
// /opt (firmlinked to the data volume), and /Users.
var writableOnMac = []string{"/private/var/", "/var/", "/Library/", "/usr/local/", "/opt/", "/Users/", "/private/tmp/", "/tmp/"}

// WritableOnSealedMac reports whether p (absolute) lies where macOS lets a
// root daemon create it despite the sealed system volume. "/run/..." and
// "/var/lib/..." fail: /run does not exist on macOS and cannot be made,
// /var/lib is not a standard macOS directory (it could be created, but
// nothing of the system looks there); this is a check of iaxcrypt's own
// defaults, which must use the system's places.
func WritableOnSealedMac(p string) bool {
	if !path.IsAbs(p) {
		return false
	}
	p = path.Clean(p) + "/"
	if strings.HasPrefix(p, "/var/lib/") || strings.HasPrefix(p, "/private/var/lib/") {
		return false
	}
	for _, w := range writableOnMac {
		if strings.HasPrefix(p, w) && p != w {
			return true
		}
	}
	return false
}
