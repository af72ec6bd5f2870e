package notify

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// lookPath finds a command; tests replace it.
var lookPath = exec.LookPath

// runUserDir holds a directory per user with a session (systemd-logind).
var runUserDir = "/run/user"

// LoggedInUsers returns the users with a session runtime directory under
// /run/user (owned by them: its name is their uid), ordinary users only.
func LoggedInUsers() []User {
	entries, err := os.ReadDir(runUserDir)
	if err != nil {
		return nil
	}
	var out []User
	for _, e := range entries {
		uid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil || uid == 0 {
			continue
		}
		dir := filepath.Join(runUserDir, e.Name())
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || uint64(st.Uid) != uid {
			continue // not the user's own directory
		}
		u := User{UID: uint32(uid), GID: st.Gid, RuntimeDir: dir}
		if pw, err := user.LookupId(e.Name()); err == nil {
			u.Name, u.Home = pw.Username, pw.HomeDir
			if gid, err := strconv.ParseUint(pw.Gid, 10, 32); err == nil {
				u.GID = uint32(gid)
			}
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return int(a.UID) - int(b.UID) })
	return out
}

// commandFor runs notify-send as the user, on the user's session bus. The
// daemon needs CAP_SETUID and CAP_SETGID for it (it keeps them when
// started with --notify).
func commandFor(ctx context.Context, u User, m Message) (*exec.Cmd, error) {
	bin, err := lookPath("notify-send")
	if err != nil {
		return nil, errors.New("notify-send not found (Debian: apt-get install libnotify-bin)")
	}
	urgency := "normal"
	if m.Urgent {
		urgency = "critical"
	}
	cmd := exec.CommandContext(ctx, bin, "--app-name=iaxcrypt", "--urgency="+urgency, m.Title, m.Body)
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(u.RuntimeDir, "bus"),
		"XDG_RUNTIME_DIR=" + u.RuntimeDir,
	}
	if u.Home != "" {
		cmd.Env = append(cmd.Env, "HOME="+u.Home)
		cmd.Dir = u.Home
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.UID, Gid: u.GID, NoSetGroups: true}}
	return cmd, nil
}
