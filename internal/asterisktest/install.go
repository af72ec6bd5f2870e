// Package asterisktest owns the real Asterisk PBXs of iaxcrypt's end-to-end
// tests: it finds the Asterisk that scripts/asterisk-build.sh built from the
// source tarball, writes a private configuration per instance (asterisk.conf,
// modules.conf, logger.conf, iax.conf, extensions.conf in a scratch folder
// of its own), runs `asterisk -f` inside a network namespace of
// internal/netns, waits until it has fully booted, runs CLI commands on it
// (`asterisk -rx`), and stops it and removes its files at test cleanup.
//
// Several instances run side by side, one per namespace: each has its own
// control socket, logs and spool under its scratch folder.
//
// Where no tarball is found (a user's machine without ../shared/vendor), or
// it is not built yet, Require skips the test and says why.
package asterisktest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Environment variables shared with scripts/asterisk-build.sh.
const (
	// EnvTarball names the Asterisk source tarball; by default
	// ../shared/vendor/asterisk-22.10.1.tar.gz beside the repository.
	EnvTarball = "IAXCRYPT_ASTERISK_TARBALL"
	// EnvCache names the folder the builds go into; by default
	// /var/cache/iaxcrypt for root, ${XDG_CACHE_HOME:-~/.cache}/iaxcrypt
	// for other users.
	EnvCache = "IAXCRYPT_ASTERISK_CACHE"
)

// DefaultTarball is the tarball's path relative to the repository root.
const DefaultTarball = "../shared/vendor/asterisk-22.10.1.tar.gz"

// Errors of Find; Require skips with their message.
var (
	ErrNoTarball = errors.New("no Asterisk source tarball")
	ErrNotBuilt  = errors.New("no Asterisk build")
)

// Install is a built Asterisk.
type Install struct {
	// Prefix is the folder it was installed into (sbin/asterisk,
	// lib/asterisk/modules).
	Prefix string
	// Tarball is the source it was built from.
	Tarball string
}

// Binary returns the path of the asterisk executable.
func (in Install) Binary() string { return filepath.Join(in.Prefix, "sbin", "asterisk") }

// ModuleDir returns the folder of the loadable modules.
func (in Install) ModuleDir() string { return filepath.Join(in.Prefix, "lib", "asterisk", "modules") }

var (
	findOnce    sync.Once
	findInstall Install
	findErr     error
)

// Find locates the Asterisk built from the tarball, as
// scripts/asterisk-build.sh lays it out: CACHE/asterisk-SHA256 with a file
// .complete. The result is computed once per process. The error wraps
// ErrNoTarball or ErrNotBuilt and says what to do.
func Find() (Install, error) {
	findOnce.Do(func() { findInstall, findErr = find() })
	return findInstall, findErr
}

// Require returns the built Asterisk, or skips the test saying why.
func Require(t testing.TB) Install {
	t.Helper()
	in, err := Find()
	if err != nil {
		t.Skipf("skipping Asterisk test: %v", err)
	}
	return in
}

func find() (Install, error) {
	tarball := os.Getenv(EnvTarball)
	if tarball == "" {
		root, err := repoRoot()
		if err != nil {
			return Install{}, fmt.Errorf("%w: %v (set %s)", ErrNoTarball, err, EnvTarball)
		}
		tarball = filepath.Clean(filepath.Join(root, DefaultTarball))
	}
	if _, err := os.Stat(tarball); err != nil {
		return Install{}, fmt.Errorf("%w at %s (set %s to the asterisk-22.10.1.tar.gz source)", ErrNoTarball, tarball, EnvTarball)
	}
	sum, err := fileSHA256(tarball)
	if err != nil {
		return Install{}, fmt.Errorf("asterisktest: hashing %s: %w", tarball, err)
	}
	cache, err := cacheDir()
	if err != nil {
		return Install{}, err
	}
	in := Install{Prefix: filepath.Join(cache, "asterisk-"+sum), Tarball: tarball}
	if _, err := os.Stat(filepath.Join(in.Prefix, ".complete")); err != nil {
		return Install{}, fmt.Errorf("%w: no finished build of %s in %s; run scripts/asterisk-build.sh (make test does)", ErrNotBuilt, tarball, in.Prefix)
	}
	return in, nil
}

// cacheDir mirrors the choice of scripts/asterisk-build.sh.
func cacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return d, nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/iaxcrypt", nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "iaxcrypt"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("asterisktest: no cache folder (set %s): %w", EnvCache, err)
	}
	return filepath.Join(home, ".cache", "iaxcrypt"), nil
}

// repoRoot walks up from the working directory (a package folder under
// go test) to the folder whose go.mod declares iaxcrypt's module.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isIaxcryptModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the iaxcrypt repository")
		}
		dir = parent
	}
}

func isIaxcryptModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "module ") {
			return strings.TrimSpace(strings.TrimPrefix(line, "module ")) == "github.com/iaxcrypt/iaxcrypt"
		}
	}
	return false
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
