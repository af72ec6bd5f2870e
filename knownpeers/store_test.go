package knownpeers

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newKey(t testing.TB) crypt.PublicKey {
	t.Helper()
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id.Public()
}

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, lineErrs, err := Open(path, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lineErrs) != 0 {
		t.Fatalf("line errors: %v", lineErrs)
	}
	return s
}

func key(addr, user string) Key { return MakeKey(netip.MustParseAddr(addr), user) }

func TestIdentityContinuity(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), FileName))
	kb, other, third := newKey(t), newKey(t), newKey(t)
	b := key("192.0.2.7", "200")
	if got := s.CheckIdentity(b, kb); got != engine.IdentityNew {
		t.Fatalf("first meeting: %v", got)
	}
	if s.EncryptedBefore(b) {
		t.Fatal("encrypted before a first call")
	}
	// A call in clear with an unknown peer creates nothing.
	s.NoteCall(b, crypt.PublicKey{}, false, false, t0)
	if s.Len() != 0 {
		t.Fatal("a cleartext call with an unknown peer created a record")
	}
	s.NoteCall(b, kb, true, false, t0)
	for _, tc := range []struct {
		name string
		k    Key
		id   crypt.PublicKey
		want engine.IdentityCheck
	}{
		{"same peer, same key", b, kb, engine.IdentityKnown},
		{"same peer, other key", b, other, engine.IdentityChanged},
		{"fresh user at the address, same key", key("192.0.2.7", "999"), kb, engine.IdentityKnown},
		{"fresh user at the address, other key", key("192.0.2.7", "999"), other, engine.IdentityChanged},
		{"no user at the address, other key", key("192.0.2.7", ""), other, engine.IdentityChanged},
		{"other address", key("192.0.2.8", "200"), other, engine.IdentityNew},
	} {
		if got := s.CheckIdentity(tc.k, tc.id); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// A changed key is noted as presented, never adopted.
	s.NoteCall(b, other, true, false, t0.Add(time.Hour))
	r, _ := s.Get(b)
	if r.Identity != kb || r.Presented != other || !r.LastSeen.Equal(t0.Add(time.Hour)) || !r.FirstSeen.Equal(t0) {
		t.Fatalf("after a changed key: %+v", r)
	}
	if s.CheckIdentity(b, other) != engine.IdentityChanged {
		t.Fatal("the changed key became known after one call")
	}
	// A fresh user presenting the changed key inherits the address's
	// identity: next time it is still flagged.
	fresh := key("192.0.2.7", "777")
	s.NoteCall(fresh, third, true, false, t0)
	if r, _ := s.Get(fresh); r.Identity != kb || r.Presented != third {
		t.Fatalf("fresh user record %+v, want the address's identity and the new key presented", r)
	}
	if s.CheckIdentity(fresh, third) != engine.IdentityChanged {
		t.Fatal("a fresh user made a new key known")
	}
	// A call in clear: recorded, and a downgrade stays suspected.
	s.NoteCall(b, crypt.PublicKey{}, false, false, t0.Add(2*time.Hour))
	if r, _ := s.Get(b); r.LastCall != LastCallClear {
		t.Fatalf("last call %v", r.LastCall)
	}
	if !s.EncryptedBefore(b) || !s.EncryptedBefore(key("192.0.2.7", "new")) || s.EncryptedBefore(key("192.0.2.9", "")) {
		t.Fatal("EncryptedBefore does not stay set for the peer and its address")
	}
	// The known key again clears presented.
	s.NoteCall(b, kb, true, false, t0.Add(3*time.Hour))
	if r, _ := s.Get(b); r.Presented != (crypt.PublicKey{}) || r.LastCall != LastCallEncrypted {
		t.Fatalf("record %+v", r)
	}
	// An authoritative key (pinned by the configuration) replaces the
	// remembered one.
	s.NoteCall(b, other, true, true, t0.Add(4*time.Hour))
	if r, _ := s.Get(b); r.Identity != other || r.Presented != (crypt.PublicKey{}) || !r.FirstSeen.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("pinned key not adopted: %+v", r)
	}
}

func TestVerifyAndForget(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), FileName))
	kb, changed := newKey(t), newKey(t)
	b200, b300 := key("192.0.2.7", "200"), key("192.0.2.7", "300")
	sel := func(p string) Selector {
		t.Helper()
		sl, err := ParseSelector(p)
		if err != nil {
			t.Fatal(err)
		}
		return sl
	}
	if _, err := s.Verify(sel("192.0.2.7"), nil, t0); !errors.Is(err, ErrNoSuchPeer) {
		t.Fatalf("verify of an unknown peer: %v", err)
	}
	s.NoteCall(b200, kb, true, false, t0)
	s.NoteCall(b300, kb, true, false, t0)
	// The most recent call presented a changed key; the people compared
	// its SAS: verify adopts it for every record of the address.
	s.NoteCall(b300, changed, true, false, t0.Add(time.Minute))
	got, err := s.Verify(sel("192.0.2.7:4569"), nil, t0.Add(2*time.Minute))
	if err != nil || len(got) != 2 {
		t.Fatalf("verify: %v, %v", got, err)
	}
	for _, r := range got {
		if r.Identity != changed || !r.IsVerified() || r.Presented != (crypt.PublicKey{}) {
			t.Fatalf("verified record %+v", r)
		}
	}
	if s.CheckIdentity(b200, changed) != engine.IdentityKnown || s.CheckIdentity(b200, kb) != engine.IdentityChanged {
		t.Fatal("verify did not make the verified key the known one")
	}
	// A given identity must be the one adopted, and may add a new peer.
	nk := newKey(t)
	if got, err := s.Verify(sel("pbx@198.51.100.1"), &nk, t0); err != nil || len(got) != 1 || got[0].Identity != nk || got[0].Key.User != "pbx" {
		t.Fatalf("verify --identity of a new peer: %v %v", got, err)
	}
	if _, err := s.Forget(sel("300@192.0.2.7")); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(b300); ok {
		t.Fatal("forgotten record still there")
	}
	if _, ok := s.Get(b200); !ok {
		t.Fatal("forget of one user removed another")
	}
	if _, err := s.Forget(sel("192.0.2.7")); err != nil {
		t.Fatal(err)
	}
	if s.CheckIdentity(b200, newKey(t)) != engine.IdentityNew {
		t.Fatal("a forgotten peer is still known")
	}
	if _, err := s.Forget(sel("192.0.2.7")); !errors.Is(err, ErrNoSuchPeer) {
		t.Fatalf("forget twice: %v", err)
	}
}

func TestSaveAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", FileName)
	s := open(t, path)
	k1, k2 := newKey(t), newKey(t)
	s.NoteCall(key("192.0.2.7", ""), k1, true, false, t0)
	s.NoteCall(key("2001:db8::1", "pbx A@x"), k2, true, false, t0.Add(time.Second))
	s.NoteCall(key("2001:db8::1", "pbx A@x"), k1, true, false, t0.Add(2*time.Second))
	if _, err := s.Verify(Selector{Addr: netip.MustParseAddr("192.0.2.7")}, nil, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
	text, _ := os.ReadFile(path)
	if !strings.Contains(string(text), "pbx%20A%40x@2001:db8::1 ") {
		t.Fatalf("user not escaped:\n%s", text)
	}
	again := open(t, path)
	if a, b := fmt.Sprint(again.List()), fmt.Sprint(s.List()); a != b {
		t.Fatalf("reloaded\n%s\nwant\n%s", a, b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Fatalf("temporary file %s left", e.Name())
		}
	}
}

func TestBadLines(t *testing.T) {
	k := newKey(t).Fingerprint()
	lines := []struct {
		text string
		want string // "" for a good line; else a part of the error
	}{
		{"# comment", ""},
		{"192.0.2.1 " + k + " first-seen=2026-01-02T03:04:05Z last-seen=2026-01-02T03:04:05Z last-call=encrypted", ""},
		{"192.0.2.2", "want PEER IDENTITY"},
		{"not-an-ip " + k, "not an IP address"},
		{"192.0.2.3 AAAA", "identity"},
		{"192.0.2.4 " + k + " last-seen=yesterday", "not a time"},
		{"192.0.2.5 " + k + " last-call=maybe", "want encrypted or clear"},
		{"192.0.2.6 " + k + " colour=blue", "unknown field"},
		{"192.0.2.7 " + k + " verified", "not FIELD=VALUE"},
		{"192.0.2.8 - verified=2026-01-02T03:04:05Z", "without an identity"},
		{"192.0.2.1 " + k, "already on line 3"},
		{"us%zz@192.0.2.9 " + k, "bad escape"},
		{"", ""},
		{"  pbx@192.0.2.10   -   last-seen=2026-01-02T03:04:05Z  last-call=clear  ", ""},
		{"192.0.2.11 " + k + " last-call=clear last-call=clear", "given twice"},
	}
	var text strings.Builder
	text.WriteString("# header\n")
	for _, l := range lines {
		text.WriteString(l.text + "\n")
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s, lineErrs, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, l := range lines {
		if l.want != "" {
			want = append(want, fmt.Sprintf("%s:%d:", path, i+2))
		}
	}
	if len(lineErrs) != len(want) {
		t.Fatalf("%d line errors, want %d: %v", len(lineErrs), len(want), lineErrs)
	}
	j := 0
	for i, l := range lines {
		if l.want == "" {
			continue
		}
		e := lineErrs[j]
		j++
		if e.Line != i+2 || !strings.HasPrefix(e.Error(), want[j-1]) || !strings.Contains(e.Error(), l.want) {
			t.Errorf("line %d %q: got %v, want line %d and %q", i+2, l.text, e, i+2, l.want)
		}
	}
	if s.Len() != 2 {
		t.Fatalf("%d records loaded, want the 2 good lines: %v", s.Len(), s.List())
	}
	// A change rewrites the file: the bad lines stay, unchanged, for the
	// operator to fix.
	s.NoteCall(key("198.51.100.1", ""), newKey(t), true, false, t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(path)
	for _, l := range lines {
		if l.want != "" && !strings.Contains(string(out), l.text+"\n") {
			t.Errorf("bad line %q not kept:\n%s", l.text, out)
		}
	}
	_, again, err := Open(path, Options{})
	if err != nil || len(again) != len(want) {
		t.Fatalf("reload: %d line errors (want %d), %v", len(again), len(want), err)
	}
}

func TestPermissionRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, nil, 0o600)
	for _, mode := range []os.FileMode{0o644, 0o640, 0o606} {
		os.Chmod(path, mode)
		_, _, err := Open(path, Options{})
		var pe *PermissionError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Fatalf("mode %#o: %v, want a PermissionError with the fix", mode, err)
		}
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, _, err := Open(path, Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(path, Options{Lock: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second locked open: %v, want ErrLocked", err)
	}
	// Unlocked readers are not refused.
	if _, _, err := Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, _, err := Open(path, Options{Lock: true})
	if err != nil {
		t.Fatalf("open after Close: %v", err)
	}
	s2.Close()
}

// TestConcurrentUpdates: many goroutines note calls at once, as the engine
// does for many calls, while the routine saves; no update is lost in
// memory or in the file. Run with -race.
func TestConcurrentUpdates(t *testing.T) {
	defer setDelays(time.Millisecond, 10*time.Millisecond)()
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path)
	s.Start()
	const workers, calls = 16, 200
	keys := make([]crypt.PublicKey, workers)
	for i := range keys {
		keys[i] = newKey(t)
	}
	shared := key("192.0.2.200", "")
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range calls {
				at := t0.Add(time.Duration(c) * time.Second)
				s.NoteCall(key(fmt.Sprintf("10.0.%d.%d", w, c%50), fmt.Sprint(c)), keys[w], true, false, at)
				s.NoteCall(shared, keys[0], true, false, at)
				s.CheckIdentity(shared, keys[w])
				if c%20 == 0 {
					s.List()
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := open(t, path)
	if got.Len() != workers*calls+1 {
		t.Fatalf("%d records in the file, want %d", got.Len(), workers*calls+1)
	}
	for w := range workers {
		for c := range calls {
			r, ok := got.Get(key(fmt.Sprintf("10.0.%d.%d", w, c%50), fmt.Sprint(c)))
			if !ok || r.Identity != keys[w] || !r.LastSeen.Equal(t0.Add(time.Duration(c)*time.Second)) {
				t.Fatalf("worker %d call %d: %+v, %v", w, c, r, ok)
			}
		}
	}
	if r, _ := got.Get(shared); r.Identity != keys[0] || !r.LastSeen.Equal(t0.Add((calls-1)*time.Second)) {
		t.Fatalf("shared record %+v", r)
	}
}

func setDelays(save, retry time.Duration) (restore func()) {
	s, r := saveDelay, retryDelay
	saveDelay, retryDelay = save, retry
	return func() { saveDelay, retryDelay = s, r }
}

// TestFullDisk: a write that fails leaves the old file whole and no
// temporary file; the routine tries again and succeeds once there is room.
func TestFullDisk(t *testing.T) {
	defer setDelays(time.Millisecond, 20*time.Millisecond)()
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path)
	s.NoteCall(key("192.0.2.1", ""), newKey(t), true, false, t0)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	var mu sync.Mutex
	full := true
	old := writeTemp
	defer func() { writeTemp = old }()
	writeTemp = func(f *os.File, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if full {
			f.Write(data[:len(data)/2]) // half written, then no room
			return syscall.ENOSPC
		}
		return old(f, data)
	}
	lw := &syncWriter{}
	s.log = slog.New(slog.NewTextHandler(lw, nil))
	s.NoteCall(key("192.0.2.2", ""), newKey(t), true, false, t0)
	if err := s.Save(); !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "is unchanged") {
		t.Fatalf("save on a full disk: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("a failed write changed the file")
	}
	assertNoTemps(t, path)
	s.Start()
	s.NoteCall(key("192.0.2.3", ""), newKey(t), true, false, t0)
	// The routine fails at least once before there is room.
	waitFor(t, func() bool { return strings.Contains(lw.String(), "cannot save known peers") })
	mu.Lock()
	full = false
	mu.Unlock()
	waitFor(t, func() bool { return !s.Dirty() })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if open(t, path).Len() != 3 {
		t.Fatal("records lost after the disk had room again")
	}
	assertNoTemps(t, path)
}

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func assertNoTemps(t *testing.T, path string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tempPrefix+"*"))
	if len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// TestCrashBeforeRename: a process killed (SIGKILL) after writing and
// syncing the temporary file but before the rename leaves the old file
// whole; the next Open (which takes the lock) loads it and removes the
// temporary file.
func TestCrashBeforeRename(t *testing.T) {
	if path := os.Getenv("KNOWNPEERS_CRASH_PATH"); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), FileName)
	s := open(t, path)
	first := newKey(t)
	s.NoteCall(key("192.0.2.1", ""), first, true, false, t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBeforeRename$")
	cmd.Env = append(os.Environ(), "KNOWNPEERS_CRASH_PATH="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed mid-write: %v\n%s", err, out)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), tempPrefix+"*")); len(m) != 1 {
		t.Fatalf("want the crashed write's temporary file, found %v", m)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatalf("the crash changed the file:\n%s", now)
	}
	s2, lineErrs, err := Open(path, Options{Lock: true})
	if err != nil || len(lineErrs) != 0 {
		t.Fatal(err, lineErrs)
	}
	defer s2.Close()
	if r, ok := s2.Get(key("192.0.2.1", "")); !ok || r.Identity != first || s2.Len() != 1 {
		t.Fatalf("after the crash: %v", s2.List())
	}
	assertNoTemps(t, path)
}

func crashChild(path string) {
	s, _, err := Open(path, Options{Lock: true})
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	beforeRename = func(string) { syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	s.NoteCall(key("192.0.2.99", ""), crypt.PublicKey{1}, true, false, t0)
	s.Save()
	os.Exit(4) // not reached
}

func TestEviction(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), FileName))
	id := newKey(t)
	verified := key("10.255.255.255", "")
	s.NoteCall(verified, id, true, false, t0.Add(-time.Hour))
	s.Verify(Selector{Addr: verified.Addr}, nil, t0)
	for i := 1; i < MaxRecords; i++ {
		s.NoteCall(key(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), ""), id, true, false, t0.Add(time.Duration(i)*time.Second))
	}
	if s.Len() != MaxRecords {
		t.Fatalf("%d records", s.Len())
	}
	s.NoteCall(key("192.0.2.1", ""), id, true, false, t0.Add(time.Duration(MaxRecords)*time.Second))
	if s.Len() != MaxRecords {
		t.Fatalf("store grew past MaxRecords: %d", s.Len())
	}
	if _, ok := s.Get(key("10.0.0.1", "")); ok {
		t.Fatal("the unverified record seen longest ago was not the one evicted")
	}
	if _, ok := s.Get(verified); !ok {
		t.Fatal("a verified record was evicted")
	}
}

func BenchmarkNoteCall(b *testing.B) {
	s, _, _ := Open(filepath.Join(b.TempDir(), FileName), Options{})
	id := newKey(b)
	k := key("192.0.2.7", "200")
	b.ReportAllocs()
	for b.Loop() {
		s.CheckIdentity(k, id)
		s.NoteCall(k, id, true, false, t0)
	}
}
