package knownpeers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// maxFileSize bounds the file read at Open: far more than MaxRecords
// lines.
const maxFileSize = 32 << 20

// Options set up Open.
type Options struct {
	// Log receives the saving routine's errors; nil means slog.Default.
	Log *slog.Logger
	// Lock takes the store's lock file (DIR/known_peers.lock) for as long
	// as the store is open, and fails with ErrLocked if another process
	// holds it: the daemon locks its store, and the commands that edit
	// the file while the daemon is down lock it too.
	Lock bool
}

// Open loads the store from path; a missing file is an empty store, written
// on the first change. Lines that do not parse are returned as LineErrors
// (the rest loads); a file readable by others is refused with a
// *PermissionError.
func Open(path string, o Options) (*Store, []*LineError, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Store{path: path, log: o.Log, recs: make(map[netip.Addr]map[string]*Record), kick: make(chan struct{}, 1)}
	if o.Lock {
		l, err := lockFile(path + ".lock")
		if err != nil {
			return nil, nil, err
		}
		s.lock = l
		removeTemps(path)
	}
	lineErrs, err := s.load()
	if err != nil {
		s.lock.release()
		return nil, nil, err
	}
	return s, lineErrs, nil
}

func (s *Store) load() ([]*LineError, error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open known peers %s: %w", s.path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open known peers %s: %w", s.path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("known peers %s is not a regular file: move it away", s.path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, &PermissionError{File: s.path, Mode: fi.Mode()}
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("known peers %s is %d bytes, more than %d: not a known peers file?", s.path, fi.Size(), maxFileSize)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read known peers %s: %w", s.path, err)
	}
	return s.parse(data), nil
}

// parse loads the lines of data into the store.
func (s *Store) parse(data []byte) []*LineError {
	var errs []*LineError
	lineOf := make(map[Key]int)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxFileSize)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := parseLine(line)
		if err == nil {
			if prev, dup := lineOf[r.Key]; dup {
				err = fmt.Errorf("peer %s is already on line %d", r.Key, prev)
			}
		}
		if err != nil {
			errs = append(errs, &LineError{File: s.path, Line: n, Err: err})
			s.bad = append(s.bad, raw)
			continue
		}
		lineOf[r.Key] = n
		s.put(r)
	}
	return errs
}

const header = `# iaxcrypt known peers: what this host remembers of the peers it met.
# Written by iaxcrypt; edit it only while the daemon is stopped, or use
# "iaxcrypt peers verify|forget". Format (docs/security.md):
#   PEER IDENTITY [first-seen=TIME] [last-seen=TIME] [last-call=encrypted|clear] [verified=TIME] [presented=IDENTITY]
# PEER: ADDRESS or USER@ADDRESS (user %XX-escaped); IDENTITY: fingerprint or -.
# presented: the last call showed this other identity (a changed key).
`

// render returns the file's content. Called with mu held.
func (s *Store) render() []byte {
	rs := s.snapshot()
	sortRecords(rs)
	var b bytes.Buffer
	b.WriteString(header)
	for i := range rs {
		b.WriteString(formatLine(&rs[i]))
		b.WriteByte('\n')
	}
	if len(s.bad) > 0 {
		b.WriteString("# The lines below did not parse; iaxcrypt ignores them until they are fixed.\n")
		for _, l := range s.bad {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Test hooks: writeTemp writes the temporary file (a full disk is
// simulated by replacing it); beforeRename runs between the fsync of the
// temporary file and the rename (a crash is simulated there).
var (
	writeTemp    = func(f *os.File, data []byte) error { _, err := f.Write(data); return err }
	beforeRename = func(tmp string) {}
)

const tempPrefix = "." + FileName + ".tmp"

// writeAtomic replaces path with data: a temporary file in the same
// directory, fsync, rename, fsync of the directory. On any error the old
// file is left whole and the temporary file removed.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s for known peers: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, tempPrefix+"*") // mode 0600
	if err != nil {
		return fmt.Errorf("write known peers: %w", err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write known peers %s: %w", name, err)
	}
	if err := writeTemp(tmp, data); err != nil {
		return fmt.Errorf("write known peers %s: %w (disk full?); %s is unchanged", name, err, path)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write known peers %s: %w; %s is unchanged", name, err, path)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write known peers %s: %w; %s is unchanged", name, err, path)
	}
	beforeRename(name)
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("replace known peers %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("sync directory %s after writing known peers: %w", dir, err)
		}
	}
	return nil
}

// removeTemps removes temporary files a crash left beside path. Only the
// lock's holder calls it: another writer's file could be in flight.
func removeTemps(path string) {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tempPrefix+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
}
