package knownpeers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
)

// LastCall is how the last call with a peer went.
type LastCall uint8

const (
	// LastCallUnknown: no call recorded (a record added by hand).
	LastCallUnknown LastCall = iota
	LastCallEncrypted
	LastCallClear
)

func (l LastCall) String() string {
	switch l {
	case LastCallEncrypted:
		return "encrypted"
	case LastCallClear:
		return "clear"
	}
	return ""
}

// Record is what the store remembers of one peer.
type Record struct {
	Key Key
	// Identity is the identity remembered for the peer; zero when no call
	// with it was encrypted yet. (The all-zero key is not a valid X25519
	// public key, so zero never names a real identity.)
	Identity crypt.PublicKey
	// FirstSeen is when Identity was first seen.
	FirstSeen time.Time
	// LastSeen is when the last call with the peer was set up.
	LastSeen time.Time
	LastCall LastCall
	// Verified is when a person verified Identity; zero: never.
	Verified time.Time
	// Presented is another identity the last call presented (a changed
	// key, flagged and not adopted); zero when the last call presented
	// Identity.
	Presented crypt.PublicKey
}

// HasIdentity reports whether an identity is remembered.
func (r *Record) HasIdentity() bool { return r.Identity != crypt.PublicKey{} }

// IsVerified reports whether a person verified the identity.
func (r *Record) IsVerified() bool { return !r.Verified.IsZero() }

const timeLayout = time.RFC3339

// formatLine renders a record as one line of the file.
func formatLine(r *Record) string {
	var sb strings.Builder
	sb.WriteString(r.Key.String())
	sb.WriteByte(' ')
	if r.HasIdentity() {
		sb.WriteString(r.Identity.Fingerprint())
	} else {
		sb.WriteByte('-')
	}
	field := func(name, v string) {
		sb.WriteString(" " + name + "=" + v)
	}
	if r.HasIdentity() && !r.FirstSeen.IsZero() {
		field("first-seen", r.FirstSeen.UTC().Format(timeLayout))
	}
	if !r.LastSeen.IsZero() {
		field("last-seen", r.LastSeen.UTC().Format(timeLayout))
	}
	if r.LastCall != LastCallUnknown {
		field("last-call", r.LastCall.String())
	}
	if r.IsVerified() {
		field("verified", r.Verified.UTC().Format(timeLayout))
	}
	if r.Presented != (crypt.PublicKey{}) {
		field("presented", r.Presented.Fingerprint())
	}
	return sb.String()
}

// parseLine reads one non-comment line of the file.
func parseLine(line string) (*Record, error) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return nil, errors.New("want PEER IDENTITY [FIELD=VALUE...]")
	}
	k, err := ParseKey(f[0])
	if err != nil {
		return nil, err
	}
	r := &Record{Key: k}
	if f[1] != "-" {
		if r.Identity, err = parseIdentity(f[1]); err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
	}
	seen := map[string]bool{}
	for _, kv := range f[2:] {
		name, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not FIELD=VALUE", kv)
		}
		if seen[name] {
			return nil, fmt.Errorf("field %s given twice", name)
		}
		seen[name] = true
		switch name {
		case "first-seen", "last-seen", "verified":
			t, err := time.Parse(timeLayout, v)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not a time like 2026-01-02T03:04:05Z", name, v)
			}
			switch name {
			case "first-seen":
				r.FirstSeen = t
			case "last-seen":
				r.LastSeen = t
			default:
				r.Verified = t
			}
		case "last-call":
			switch v {
			case "encrypted":
				r.LastCall = LastCallEncrypted
			case "clear":
				r.LastCall = LastCallClear
			default:
				return nil, fmt.Errorf("last-call=%q: want encrypted or clear", v)
			}
		case "presented":
			if r.Presented, err = parseIdentity(v); err != nil {
				return nil, fmt.Errorf("presented: %w", err)
			}
		default:
			return nil, fmt.Errorf("unknown field %q (known: first-seen, last-seen, last-call, verified, presented)", name)
		}
	}
	if !r.HasIdentity() && (r.IsVerified() || r.Presented != (crypt.PublicKey{})) {
		return nil, errors.New("verified or presented without an identity")
	}
	if r.Presented == r.Identity {
		r.Presented = crypt.PublicKey{}
	}
	return r, nil
}

func parseIdentity(s string) (crypt.PublicKey, error) {
	k, err := crypt.ParsePublicKey(s)
	if err != nil {
		return k, err
	}
	if k == (crypt.PublicKey{}) {
		return k, errors.New("the all-zero key is not an identity")
	}
	return k, nil
}
