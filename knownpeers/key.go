package knownpeers

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// MaxUserLen bounds the user part of a key: an IAX2 IE holds at most 255
// bytes.
const MaxUserLen = 255

// Key names a peer: its IP address and, where its calls show one, the IAX2
// username or calling number.
type Key struct {
	Addr netip.Addr
	User string
}

// MakeKey returns the key of a peer as the engine names it: the address
// without port or zone, IPv4-mapped addresses as IPv4, the user cut to
// MaxUserLen.
func MakeKey(addr netip.Addr, user string) Key {
	if len(user) > MaxUserLen {
		user = user[:MaxUserLen]
	}
	return Key{Addr: addr.Unmap().WithZone(""), User: user}
}

// String renders the key as the file and the commands write it: ADDRESS or
// USER@ADDRESS, the user escaped.
func (k Key) String() string {
	if k.User == "" {
		return k.Addr.String()
	}
	return escapeUser(k.User) + "@" + k.Addr.String()
}

// Selector picks records: every record of an address, or one record.
type Selector struct {
	Addr netip.Addr
	// User is the record's user when Exact; otherwise every user of Addr
	// matches.
	User  string
	Exact bool
}

// ParseSelector reads a PEER argument: ADDRESS (every record of that
// address), ADDRESS:PORT as `iaxcrypt status` shows peers (the port is
// ignored: peers are remembered by address), or USER@ADDRESS (that record
// only; "@ADDRESS" is the record without a user).
func ParseSelector(s string) (Selector, error) {
	user, host, hasUser := cutLast(s, "@")
	a, err := parseHost(host)
	if err != nil {
		return Selector{}, fmt.Errorf("peer %q: %w", s, err)
	}
	if !hasUser {
		return Selector{Addr: a}, nil
	}
	u, err := unescapeUser(user)
	if err != nil {
		return Selector{}, fmt.Errorf("peer %q: %w", s, err)
	}
	return Selector{Addr: a, User: u, Exact: true}, nil
}

// ParseKey reads a key as String writes it.
func ParseKey(s string) (Key, error) {
	sel, err := ParseSelector(s)
	if err != nil {
		return Key{}, err
	}
	if sel.Exact && sel.User == "" {
		return Key{}, fmt.Errorf("peer %q: empty user before @", s)
	}
	return Key{Addr: sel.Addr, User: sel.User}, nil
}

// Matches reports whether the selector picks the key.
func (s Selector) Matches(k Key) bool {
	return k.Addr == s.Addr && (!s.Exact || k.User == s.User)
}

func (s Selector) String() string {
	if s.Exact {
		return escapeUser(s.User) + "@" + s.Addr.String()
	}
	return s.Addr.String()
}

// parseHost reads an address, accepting a port (ignored) and brackets.
func parseHost(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, errors.New("not an IP address (give ADDRESS, ADDRESS:PORT or USER@ADDRESS)")
	}
	return a.Unmap().WithZone(""), nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// userSafe reports whether b is written as is in a key's user.
func userSafe(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("-._+*~", b) >= 0
}

func escapeUser(u string) string {
	var sb strings.Builder
	for i := 0; i < len(u); i++ {
		b := u[i]
		if userSafe(b) {
			sb.WriteByte(b)
			continue
		}
		fmt.Fprintf(&sb, "%%%02X", b)
	}
	return sb.String()
}

func unescapeUser(s string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", fmt.Errorf("bad escape in user %q: write %%XX with two hex digits", s)
			}
			sb.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case b <= ' ' || b >= 0x7f:
			return "", fmt.Errorf("user %q holds a space or control byte: write it %%XX", s)
		default:
			sb.WriteByte(b)
		}
	}
	if sb.Len() > MaxUserLen {
		return "", fmt.Errorf("user is %d bytes long, at most %d", sb.Len(), MaxUserLen)
	}
	return sb.String(), nil
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case b <= '9':
		return b - '0'
	case b <= 'F':
		return b - 'A' + 10
	}
	return b - 'a' + 10
}
