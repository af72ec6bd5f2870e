package notify

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoggedInUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give directories to other users")
	}
	dir := t.TempDir()
	old := runUserDir
	runUserDir = dir
	defer func() { runUserDir = old }()
	for name, uid := range map[string]int{"1000": 1000, "1001": 0, "0": 0, "gdm": 1002, "4000": 4000} {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "5000"), nil, 0o600)
	got := LoggedInUsers()
	if len(got) != 2 || got[0].UID != 1000 || got[1].UID != 4000 || got[0].RuntimeDir != filepath.Join(dir, "1000") {
		t.Fatalf("users %+v, want uid 1000 and 4000 (the others are not their owner's, root's, or not directories)", got)
	}
}
