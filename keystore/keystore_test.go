package keystore

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	id, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, Path(dir): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %#o, want %#o", path, fi.Mode().Perm(), want)
		}
	}
	text, _ := os.ReadFile(Path(dir))
	if lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n"); len(lines) != 1 {
		t.Errorf("key file has %d lines, want 1", len(lines))
	}
	again, created, err := LoadOrCreate(dir)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if again.Public() != id.Public() {
		t.Fatal("second call returned another identity")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d entries, want only the key (temporary file left?)", len(entries))
	}
}

func TestLoadErrors(t *testing.T) {
	key32 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name     string
		content  string
		mode     os.FileMode
		wantPerm bool
		want     string // substring of the message
	}{
		{"group readable", key32 + "\n", 0o640, true, "run chmod 600"},
		{"world readable", key32 + "\n", 0o644, true, "(mode 0644)"},
		{"empty", "", 0o600, false, "is empty"},
		{"not base64", "!!!not base64!!!\n", 0o600, false, "not valid base64"},
		{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)), 0o600, false, "16-byte key"},
		{"long", base64.StdEncoding.EncodeToString(make([]byte, 64)), 0o600, false, "64-byte key"},
		{"huge", strings.Repeat("A", 4096), 0o600, false, "far more than a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := Path(dir)
			if err := os.WriteFile(file, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(file, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreate(dir)
			if err == nil || created {
				t.Fatalf("created=%v err=%v, want an error", created, err)
			}
			var pe *PermissionError
			if errors.As(err, &pe) != tt.wantPerm {
				t.Fatalf("permission error %v, want %v: %v", !tt.wantPerm, tt.wantPerm, err)
			}
			if !tt.wantPerm && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v does not match ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), file) {
				t.Fatalf("message %q does not name the file and say %q", err, tt.want)
			}
			// The bad file is left alone for the operator.
			if got, _ := os.ReadFile(file); string(got) != tt.content {
				t.Fatal("the key file was changed")
			}
		})
	}
}

func TestLoadKeepsWhitespaceTolerance(t *testing.T) {
	dir := t.TempDir()
	id, _, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(Path(dir))
	if err := os.WriteFile(Path(dir), []byte("  "+strings.TrimSpace(string(text))+"\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.Public() != id.Public() {
		t.Fatalf("reload with extra whitespace: %v", err)
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want not-exist", err)
	}
}

func TestCreateUnwritableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if _, _, err := LoadOrCreate(filepath.Join(dir, "sub")); err == nil {
		t.Fatal("created a key in an unwritable directory")
	}
}
