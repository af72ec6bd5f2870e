package keystore

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/iaxcrypt/iaxcrypt/crypt"
)

// The state directory (the identity key's home) unless told otherwise, per
// system; DefaultDir is the one of the system the binary is built for.
// macOS: /var/db is where the system's own daemons keep state
// (/private/var/db, on the writable data volume, root-only, no space in
// the path for launchd plists and shells); /var/lib does not exist there
// and the sealed system volume allows no new top-level directory.
const (
	LinuxDefaultDir  = "/var/lib/iaxcrypt"
	DarwinDefaultDir = "/var/db/iaxcrypt"
)

// FileName is the key file's name inside the state directory.
const FileName = "identity.key"

// keySize is the length of an X25519 private key.
const keySize = 32

// Path returns the key file's path in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// LoadOrCreate loads the identity from dir, or creates a new one there when
// there is none yet, and reports whether it created it. The directory is
// created with mode 0700 and the file with 0600, atomically (a temporary
// file renamed into place), so a crash never leaves half a key. A key file
// readable by group or others is refused with a *PermissionError.
func LoadOrCreate(dir string) (crypt.Identity, bool, error) {
	id, err := Load(dir)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return crypt.Identity{}, false, err
	}
	id, err = create(dir)
	if err != nil {
		return crypt.Identity{}, false, err
	}
	return id, true, nil
}

// Load reads the identity from dir. It returns an error matching
// fs.ErrNotExist when there is no key file.
func Load(dir string) (crypt.Identity, error) {
	file := Path(dir)
	fi, err := os.Stat(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return crypt.Identity{}, fmt.Errorf("identity key %s does not exist: %w", file, err)
		}
		return crypt.Identity{}, fmt.Errorf("identity key %s: %w", file, err)
	}
	if !fi.Mode().IsRegular() {
		return crypt.Identity{}, &corruptError{file, "is not a regular file"}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return crypt.Identity{}, &PermissionError{File: file, Mode: fi.Mode()}
	}
	if fi.Size() > 1024 {
		return crypt.Identity{}, &corruptError{file, fmt.Sprintf("is %d bytes long, far more than a key", fi.Size())}
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return crypt.Identity{}, fmt.Errorf("read identity key %s: %w", file, err)
	}
	defer clear(text)
	text = bytes.TrimSpace(text)
	if len(text) == 0 {
		return crypt.Identity{}, &corruptError{file, "is empty"}
	}
	priv := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	defer clear(priv)
	n, err := base64.StdEncoding.Decode(priv, text)
	if err != nil {
		return crypt.Identity{}, &corruptError{file, "is not valid base64"}
	}
	if n != keySize {
		return crypt.Identity{}, &corruptError{file, fmt.Sprintf("holds a %d-byte key, want %d bytes", n, keySize)}
	}
	id, err := crypt.IdentityFromPrivate(priv[:n])
	if err != nil {
		return crypt.Identity{}, &corruptError{file, "does not hold a usable key (" + err.Error() + ")"}
	}
	return id, nil
}

// create makes a new identity and stores it in dir.
func create(dir string) (crypt.Identity, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return crypt.Identity{}, fmt.Errorf("create state directory %s: %w (run as root or pass --state-dir)", dir, err)
	}
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		return crypt.Identity{}, fmt.Errorf("generate identity: %w", err)
	}
	priv := id.Private()
	defer clear(priv)
	line := make([]byte, base64.StdEncoding.EncodedLen(len(priv))+1)
	defer clear(line)
	base64.StdEncoding.Encode(line, priv)
	line[len(line)-1] = '\n'

	file := Path(dir)
	tmp, err := os.CreateTemp(dir, "."+FileName+".tmp*") // mode 0600
	if err != nil {
		return crypt.Identity{}, fmt.Errorf("create identity key in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return crypt.Identity{}, fmt.Errorf("create identity key %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(line); err != nil {
		tmp.Close()
		return crypt.Identity{}, fmt.Errorf("write identity key %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return crypt.Identity{}, fmt.Errorf("write identity key %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return crypt.Identity{}, fmt.Errorf("write identity key %s: %w", tmpName, err)
	}
	// Link, unlike rename, refuses to replace a key another process
	// created meanwhile; then that key wins and is loaded.
	if err := os.Link(tmpName, file); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Load(dir)
		}
		if err := os.Rename(tmpName, file); err != nil {
			return crypt.Identity{}, fmt.Errorf("store identity key %s: %w", file, err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the new name durable; best effort
		d.Close()
	}
	return id, nil
}
