package engine

import "net/netip"

// maxLostOffers bounds keySet.
const maxLostOffers = 4096

type callRef struct {
	peer netip.AddrPort
	call uint16
}

// keySet is a bounded set of (peer, call number) pairs: the oldest pair
// goes when a new one does not fit.
type keySet struct {
	set  map[callRef]struct{}
	ring [maxLostOffers]callRef
	next int
	n    int
}

func (s *keySet) add(peer netip.AddrPort, call uint16) {
	if s.set == nil {
		s.set = make(map[callRef]struct{})
	}
	k := callRef{peer, call}
	if _, ok := s.set[k]; ok {
		return
	}
	if s.n == len(s.ring) {
		delete(s.set, s.ring[s.next])
	} else {
		s.n++
	}
	s.ring[s.next] = k
	s.next = (s.next + 1) % len(s.ring)
	s.set[k] = struct{}{}
}

func (s *keySet) has(peer netip.AddrPort, call uint16) bool {
	_, ok := s.set[callRef{peer, call}]
	return ok
}
