package knownpeers

import (
	"time"
)

// Delays of the saving routine: changes that arrive within saveDelay of
// each other are written once; a failed write is tried again after
// retryDelay.
var (
	saveDelay  = 200 * time.Millisecond
	retryDelay = 5 * time.Second
)

// Save writes the store to its file now if it changed since the last
// write. Writes are serialized; each writes the newest state.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if s.gen == s.saved {
		s.mu.Unlock()
		return nil
	}
	gen, data := s.gen, s.render()
	s.mu.Unlock()
	if err := writeAtomic(s.path, data); err != nil {
		return err
	}
	s.mu.Lock()
	if gen > s.saved {
		s.saved = gen
	}
	s.mu.Unlock()
	return nil
}

// Dirty reports whether changes wait to be written.
func (s *Store) Dirty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen != s.saved
}

// Start runs RoutineSave until Close.
func (s *Store) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return
	}
	s.running = true
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.RoutineSave()
}

// RoutineSave writes changes away from the packet path: woken by a change,
// it waits saveDelay so that a burst of calls costs one write, then saves;
// a failed write (full disk) is logged and tried again after retryDelay,
// the file staying as it was meanwhile.
func (s *Store) RoutineSave() {
	defer close(s.done)
	var retry <-chan time.Time
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
			select {
			case <-s.stop:
				return
			case <-time.After(saveDelay):
			}
		case <-retry:
		}
		retry = nil
		if err := s.Save(); err != nil {
			if !failing {
				s.log.Error("cannot save known peers; will try again", "err", err)
			}
			failing = true
			retry = time.After(retryDelay)
			continue
		}
		if failing {
			s.log.Info("known peers saved again", "file", s.path)
			failing = false
		}
	}
}

// Close stops the saving routine, writes what is pending and releases the
// lock. It returns the last write's error.
func (s *Store) Close() error {
	s.mu.Lock()
	running := s.running
	s.running = false
	s.mu.Unlock()
	if running {
		close(s.stop)
		<-s.done
	}
	err := s.Save()
	s.lock.release()
	s.lock = nil
	return err
}
