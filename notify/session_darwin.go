package notify

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// LoggedInUsers returns the user at the console (the owner of
// /dev/console), if it is not root.
func LoggedInUsers() []User {
	fi, err := os.Stat("/dev/console")
	if err != nil {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	u := User{UID: st.Uid, GID: st.Gid}
	if pw, err := user.LookupId(strconv.FormatUint(uint64(st.Uid), 10)); err == nil {
		u.Name, u.Home = pw.Username, pw.HomeDir
	}
	return []User{u}
}

// commandFor runs osascript in the user's GUI session (launchctl asuser,
// which the root daemon may use). Not yet tried on a real Mac.
func commandFor(ctx context.Context, u User, m Message) (*exec.Cmd, error) {
	script := "display notification " + appleString(m.Body) + " with title " + appleString(m.Title)
	return exec.CommandContext(ctx, "/bin/launchctl", "asuser", strconv.FormatUint(uint64(u.UID), 10),
		"/usr/bin/osascript", "-e", script), nil
}

// appleString quotes s as an AppleScript string literal.
func appleString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
