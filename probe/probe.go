// Package probe owns the probe datagram of "iaxcrypt doctor": its format
// (a fixed 16-byte magic and a random 16-byte nonce, nothing else), the
// test that recognises one, and the bounded record of the probes the
// daemon has seen arrive in its TUN.
//
// Doctor sends a probe the way the application sends IAX2 (from the
// application's port, or to a routed peer) and asks the daemon over the
// control socket whether that nonce arrived. A probe is never forwarded:
// the data path keeps it from the engine and from pass-through. Recognition
// is strict: exactly Len bytes of UDP payload starting with the magic. A
// real IAX2 datagram would be taken for a probe only if it were exactly 32
// bytes long and its first 16 bytes, a mini frame's call number, timestamp
// and voice, spelled the magic: by chance, once in 2^128.
package probe

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

const (
	// MagicLen and NonceLen are the two parts of a probe; Len is the
	// exact UDP payload length of one.
	MagicLen = 16
	NonceLen = 16
	Len      = MagicLen + NonceLen
	// DiscardPort is the destination port doctor's probes use (RFC 863
	// discard): a probe that leaks despite everything lands where nothing
	// answers.
	DiscardPort = 9
	// logSize bounds the probes remembered; older ones are forgotten.
	logSize = 64
)

// magic starts every probe: "IAXCRYPT-PROBE" and format version 1.
var magic = [MagicLen]byte{'I', 'A', 'X', 'C', 'R', 'Y', 'P', 'T', '-', 'P', 'R', 'O', 'B', 'E', 0, 1}

// Nonce tells one probe from another.
type Nonce [NonceLen]byte

// NewNonce returns a random nonce.
func NewNonce() (Nonce, error) {
	var n Nonce
	if _, err := rand.Read(n[:]); err != nil {
		return n, fmt.Errorf("make a probe nonce: %w", err)
	}
	return n, nil
}

// String is the nonce in hex, as the control socket carries it.
func (n Nonce) String() string { return hex.EncodeToString(n[:]) }

// ParseNonce reads what String wrote.
func ParseNonce(s string) (Nonce, error) {
	var n Nonce
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != NonceLen {
		return n, fmt.Errorf("%w: %q is not %d hex digits", ErrBadNonce, s, 2*NonceLen)
	}
	copy(n[:], b)
	return n, nil
}

// Payload returns the UDP payload of the probe carrying n.
func Payload(n Nonce) []byte {
	b := make([]byte, 0, Len)
	b = append(b, magic[:]...)
	return append(b, n[:]...)
}

// Parse reports whether payload is a probe and returns its nonce. It
// looks at nothing but the payload's length and magic, and does not
// allocate.
func Parse(payload []byte) (Nonce, bool) {
	var n Nonce
	if len(payload) != Len || !bytes.Equal(payload[:MagicLen], magic[:]) {
		return n, false
	}
	copy(n[:], payload[MagicLen:])
	return n, true
}

// Sighting is where and when the daemon saw a probe: the addresses of the
// packet it read from its TUN.
type Sighting struct {
	Src, Dst netip.AddrPort
	At       time.Time
}

// Log remembers the last probes seen. Its zero value is ready to use; it
// is safe for concurrent use (the data path records, the control socket
// asks).
type Log struct {
	mu      sync.Mutex
	entries [logSize]entry
	next    int
}

type entry struct {
	nonce Nonce
	seen  Sighting
	used  bool
}

// Record remembers that the probe n was seen; the oldest of logSize
// entries is forgotten. A probe seen twice keeps its first sighting.
func (l *Log) Record(n Nonce, s Sighting) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.entries {
		if l.entries[i].used && l.entries[i].nonce == n {
			return
		}
	}
	l.entries[l.next] = entry{nonce: n, seen: s, used: true}
	l.next = (l.next + 1) % logSize
}

// Seen returns the sighting of probe n, if it is remembered.
func (l *Log) Seen(n Nonce) (Sighting, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.used && e.nonce == n {
			return e.seen, true
		}
	}
	return Sighting{}, false
}
