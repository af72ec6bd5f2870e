package knownpeers

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

// FileName is the store file's name in the state directory.
const FileName = "known_peers"

// MaxRecords bounds the store: when it is full, a new peer replaces the
// unverified record seen longest ago (a verified one is never evicted).
const MaxRecords = 10000

// Path returns the store file's path in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Store is the known-peers memory. It is safe for concurrent use: every
// method takes the store's mutex and none does I/O except Save, Close and
// the saving routine. The zero value is not usable; use Open.
type Store struct {
	path string
	log  *slog.Logger

	mu sync.Mutex
	// recs holds the records by address, then user: the lookups by
	// address stay quick however many peers there are.
	recs  map[netip.Addr]map[string]*Record
	count int
	// bad holds the lines that did not parse, written back as they were.
	bad []string
	// gen counts changes; saved is the last gen written to the file.
	gen, saved uint64

	// saveMu serializes writes of the file.
	saveMu sync.Mutex
	lock   *fileLock

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	running bool
}

// Len returns the number of records.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// List returns a copy of every record, ordered by address then user.
func (s *Store) List() []Record {
	s.mu.Lock()
	out := s.snapshot()
	s.mu.Unlock()
	sortRecords(out)
	return out
}

// snapshot copies every record. Called with mu held.
func (s *Store) snapshot() []Record {
	out := make([]Record, 0, s.count)
	for _, users := range s.recs {
		for _, r := range users {
			out = append(out, *r)
		}
	}
	return out
}

// lookup returns the record of k. Called with mu held.
func (s *Store) lookup(k Key) (*Record, bool) {
	r, ok := s.recs[k.Addr][k.User]
	return r, ok
}

// Get returns the record of a key.
func (s *Store) Get(k Key) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.lookup(k); ok {
		return *r, true
	}
	return Record{}, false
}

func sortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		if c := a.Key.Addr.Compare(b.Key.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.Key.User, b.Key.User)
	})
}

// CheckIdentity says whether id is the identity remembered for the peer.
// The peer's own record decides when it holds an identity; otherwise the
// records of the same address do (a daemon has one identity for all its
// users, and the user in a NEW is not authenticated: an attacker cannot
// escape the check by calling with a fresh user). It is quick and does no
// I/O: the engine calls it with its lock held.
func (s *Store) CheckIdentity(k Key, id crypt.PublicKey) engine.IdentityCheck {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check(k, id)
}

func (s *Store) check(k Key, id crypt.PublicKey) engine.IdentityCheck {
	if r, ok := s.lookup(k); ok && r.HasIdentity() {
		if r.Identity == id {
			return engine.IdentityKnown
		}
		return engine.IdentityChanged
	}
	known := false
	for _, r := range s.recs[k.Addr] {
		if !r.HasIdentity() {
			continue
		}
		if r.Identity == id {
			return engine.IdentityKnown
		}
		known = true
	}
	if known {
		return engine.IdentityChanged
	}
	return engine.IdentityNew
}

// EncryptedBefore reports whether a call with the peer (or, when the peer
// has no record with an identity, with its address) was ever encrypted:
// if this one is not, a downgrade is suspected. It stays so after a call
// in clear, until the peer is forgotten: an attacker who strips the marker
// once does not silence the next warnings.
func (s *Store) EncryptedBefore(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.lookup(k); ok && r.HasIdentity() {
		return true
	}
	for _, r := range s.recs[k.Addr] {
		if r.HasIdentity() {
			return true
		}
	}
	return false
}

// addressIdentity returns the identity remembered for the address: the one
// of its oldest record with an identity.
func (s *Store) addressIdentity(a Key) (id crypt.PublicKey, first time.Time, ok bool) {
	for _, r := range s.recs[a.Addr] {
		if !r.HasIdentity() {
			continue
		}
		if !ok || r.FirstSeen.Before(first) {
			id, first, ok = r.Identity, r.FirstSeen, true
		}
	}
	return id, first, ok
}

// NoteCall records a call with the peer: encrypted with identity id, or in
// clear. A call in clear updates an existing record only (a peer is
// remembered from its first encrypted call). An encrypted call that
// presents another identity than the remembered one does not replace it:
// the other identity is kept as Presented, and only `peers verify` (or a
// pin, authoritative) adopts it. It is quick and does no I/O; the change is
// written by the saving routine.
func (s *Store) NoteCall(k Key, id crypt.PublicKey, encrypted, authoritative bool, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at = at.UTC().Truncate(time.Second)
	r, ok := s.lookup(k)
	if !encrypted {
		if ok {
			r.LastSeen, r.LastCall = at, LastCallClear
			s.changed()
		}
		return
	}
	if !ok {
		if r = s.add(k); r == nil {
			return
		}
		// A new user of a known address inherits the address's identity:
		// otherwise a fresh user would make a new key look known next
		// time.
		if aid, first, found := s.addressIdentity(k); found && !authoritative && s.check(k, id) == engine.IdentityChanged {
			r.Identity, r.FirstSeen = aid, first
		}
	}
	switch {
	case !r.HasIdentity():
		r.Identity, r.FirstSeen = id, at
	case r.Identity != id && authoritative:
		r.Identity, r.FirstSeen, r.Verified = id, at, time.Time{}
	}
	r.Presented = crypt.PublicKey{}
	if r.Identity != id {
		r.Presented = id
	}
	r.LastSeen, r.LastCall = at, LastCallEncrypted
	s.changed()
}

// add creates the record of k, evicting when full; nil when the store is
// full of verified records.
func (s *Store) add(k Key) *Record {
	if s.count >= MaxRecords {
		var victim *Record
		for _, users := range s.recs {
			for _, r := range users {
				if !r.IsVerified() && (victim == nil || r.LastSeen.Before(victim.LastSeen)) {
					victim = r
				}
			}
		}
		if victim == nil {
			return nil
		}
		s.remove(victim.Key)
	}
	r := &Record{Key: k}
	s.put(r)
	return r
}

// put stores r under its key. Called with mu held.
func (s *Store) put(r *Record) {
	users := s.recs[r.Key.Addr]
	if users == nil {
		users = make(map[string]*Record, 1)
		s.recs[r.Key.Addr] = users
	}
	if _, dup := users[r.Key.User]; !dup {
		s.count++
	}
	users[r.Key.User] = r
}

// remove deletes the record of k. Called with mu held.
func (s *Store) remove(k Key) {
	users := s.recs[k.Addr]
	if _, ok := users[k.User]; !ok {
		return
	}
	delete(users, k.User)
	s.count--
	if len(users) == 0 {
		delete(s.recs, k.Addr)
	}
}

// selected returns the records sel picks. Called with mu held.
func (s *Store) selected(sel Selector) []*Record {
	if sel.Exact {
		if r, ok := s.lookup(Key{Addr: sel.Addr, User: sel.User}); ok {
			return []*Record{r}
		}
		return nil
	}
	out := make([]*Record, 0, len(s.recs[sel.Addr]))
	for _, r := range s.recs[sel.Addr] {
		out = append(out, r)
	}
	return out
}

// Verify marks the identity of the selected records verified, after two
// people compared the SAS of a call. The identity verified is id when
// given (it may also add a peer not met yet), else the one the most
// recent call of the selected records presented. Records whose identity
// differs take it (a changed key accepted by a person). It returns the
// records as they are now.
func (s *Store) Verify(sel Selector, id *crypt.PublicKey, at time.Time) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at = at.UTC().Truncate(time.Second)
	picked := s.selected(sel)
	var want crypt.PublicKey
	switch {
	case id != nil:
		want = *id
		if want == (crypt.PublicKey{}) {
			return nil, fmt.Errorf("verify %s: the all-zero key is not an identity", sel)
		}
		if len(picked) == 0 {
			r := s.add(Key{Addr: sel.Addr, User: sel.User})
			if r == nil {
				return nil, fmt.Errorf("verify %s: the known peers are full of verified peers (%d): forget some", sel, MaxRecords)
			}
			picked = append(picked, r)
		}
	case len(picked) == 0:
		return nil, fmt.Errorf("verify %s: %w: make an encrypted call with it first, or give --identity", sel, ErrNoSuchPeer)
	default:
		var latest *Record
		for _, r := range picked {
			if r.HasIdentity() && (latest == nil || r.LastSeen.After(latest.LastSeen)) {
				latest = r
			}
		}
		if latest == nil {
			return nil, fmt.Errorf("verify %s: no identity is known for it (its calls were in clear): make an encrypted call first", sel)
		}
		want = latest.Identity
		if latest.Presented != (crypt.PublicKey{}) {
			want = latest.Presented
		}
	}
	out := make([]Record, 0, len(picked))
	for _, r := range picked {
		if r.Identity != want {
			r.Identity, r.FirstSeen = want, at
		}
		r.Presented, r.Verified = crypt.PublicKey{}, at
		out = append(out, *r)
	}
	s.changed()
	sortRecords(out)
	return out, nil
}

// Forget removes the selected records and returns them: the next call
// with the peer is a first meeting.
func (s *Store) Forget(sel Selector) ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.selected(sel) {
		out = append(out, *r)
		s.remove(r.Key)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("forget %s: %w", sel, ErrNoSuchPeer)
	}
	s.changed()
	sortRecords(out)
	return out, nil
}

// changed counts a change and wakes the saving routine. Called with mu
// held; never blocks.
func (s *Store) changed() {
	s.gen++
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
