package config

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

// PeerSection is the name of the per-peer array of tables.
const PeerSection = "peer"

// maxSize bounds a configuration file.
const maxSize = 1 << 20

// File is a parsed configuration file.
type File struct {
	Path string
	// Settings are the top-level keys, in the order of their lines; the
	// command line checks them against its flags.
	Settings []Setting
	// Peers are the [[peer]] sections, in file order.
	Peers Peers
	lines map[string]int
}

// Setting is one top-level key = value.
type Setting struct {
	Key string
	// Value is what TOML made of it: string, int64, bool, float64,
	// time.Time or []any.
	Value any
	Line  int
}

// Errorf makes an Error at the line of key (a path as Error.Key names
// it).
func (f *File) Errorf(key, format string, args ...any) *Error {
	return &Error{File: f.Path, Line: f.LineOf(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// LineOf returns the line of a key path, or of the nearest enclosing
// table when the key has none of its own (a key inside an inline table).
func (f *File) LineOf(path string) int {
	for path != "" {
		if n, ok := f.lines[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Load reads and parses the file at path. A file that group or others can
// write is refused: it sets the policy of every call.
func Load(path string) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("configuration file %s does not exist: %w", path, err)
		}
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("configuration file %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("configuration file %s can be changed by others (mode %#o): run chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	if fi.Size() > maxSize {
		return nil, fmt.Errorf("configuration file %s is %d bytes, more than %d: not a configuration file?", path, fi.Size(), maxSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration file %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses a configuration file's content; name is used in errors. It
// returns Errors listing every mistake found: a syntax error stops the
// parse (TOML cannot go on), every other mistake is collected.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Path: name}
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Errors{{File: name, Line: syntaxLine(data, pe.Position), Msg: pe.Message}}
		}
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	f.lines = keyLines(string(data))
	var errs Errors
	for key, v := range doc {
		switch v := v.(type) {
		case map[string]any:
			errs = append(errs, f.Errorf(key, "unknown table [%s]: settings go at the top, per-peer sections in [[peer]]", key))
		case []map[string]any:
			if key != PeerSection {
				errs = append(errs, f.Errorf(key, "unknown section [[%s]]: per-peer sections are [[peer]]", key))
				continue
			}
			for i, sec := range v {
				p, perrs := f.parsePeer(i, sec)
				errs = append(errs, perrs...)
				f.Peers = append(f.Peers, p)
			}
		default:
			if key == PeerSection {
				errs = append(errs, f.Errorf(key, "peer must be [[peer]] sections"))
				continue
			}
			f.Settings = append(f.Settings, Setting{Key: key, Value: v, Line: f.LineOf(key)})
		}
	}
	slices.SortFunc(f.Settings, func(a, b Setting) int { return cmp.Compare(a.Line, b.Line) })
	errs = append(errs, f.checkShadowed()...)
	if len(errs) > 0 {
		sortErrors(errs)
		return f, errs
	}
	return f, nil
}

// syntaxLine is the line of a syntax error: the line of its first byte
// (the parser's own line number is the next line when the error is found
// at a line's end).
func syntaxLine(data []byte, pos toml.Position) int {
	if pos.Start < 0 || pos.Start > len(data) {
		return pos.Line
	}
	return 1 + strings.Count(string(data[:pos.Start]), "\n")
}

func sortErrors(errs Errors) {
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
}

// Peer is one [[peer]] section.
type Peer struct {
	// Index is the section's place in the file (0 for the first); Line
	// is its header's line.
	Index int
	Line  int
	Match Match
	// Policy applies when HasPolicy; otherwise the daemon's policy does,
	// or require when an identity is pinned.
	Policy    engine.Policy
	HasPolicy bool
	// Identity, when set, is the identity the peer must present.
	Identity *crypt.PublicKey
	// Route sends the application's traffic to the peer through the
	// daemon from any port, as --peer does.
	Route bool
}

// EffectivePolicy is the policy of calls the section matches, given the
// daemon's.
func (p *Peer) EffectivePolicy(global engine.Policy) engine.Policy {
	switch {
	case p.HasPolicy:
		return p.Policy
	case p.Identity != nil:
		return engine.PolicyRequire
	}
	return global
}

var peerKeys = []string{"match", "policy", "identity", "route"}

func (f *File) parsePeer(i int, sec map[string]any) (Peer, Errors) {
	base := fmt.Sprintf("%s[%d]", PeerSection, i)
	p := Peer{Index: i, Line: f.LineOf(base)}
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, f.Errorf(base+"."+key, format, args...))
	}
	str := func(key string) (string, bool) {
		v, ok := sec[key]
		if !ok {
			return "", false
		}
		s, isStr := v.(string)
		if !isStr {
			bad(key, "want a string, got %s", TypeName(v))
			return "", false
		}
		return s, true
	}
	for key := range sec {
		if !slices.Contains(peerKeys, key) {
			bad(key, "unknown key %q in [[peer]]: the keys are %s", key, strings.Join(peerKeys, ", "))
		}
	}
	if s, ok := str("match"); ok {
		m, err := ParseMatch(s)
		if err != nil {
			bad("match", "%v", err)
		}
		p.Match = m
	} else if _, present := sec["match"]; !present {
		errs = append(errs, f.Errorf(base, "[[peer]] without match: say which peer, e.g. match = \"192.0.2.7\", \"10.0.0.0/8\" or \"user:pbxA\""))
	}
	if s, ok := str("policy"); ok {
		pol, err := engine.ParsePolicy(s)
		if err != nil {
			bad("policy", "%v", err)
		}
		p.Policy, p.HasPolicy = pol, err == nil
	}
	if s, ok := str("identity"); ok {
		k, err := crypt.ParsePublicKey(s)
		switch {
		case err != nil:
			bad("identity", "%q is not an identity fingerprint (44 characters of base64, as `iaxcrypt identity` prints on the peer)", s)
		case k == crypt.PublicKey{}:
			bad("identity", "the all-zero key is not an identity")
		default:
			p.Identity = &k
		}
	}
	if v, ok := sec["route"]; ok {
		b, isBool := v.(bool)
		switch {
		case !isBool:
			bad("route", "want true or false, got %s", TypeName(v))
		case b && p.Match.User != "":
			bad("route", "route needs an address match, not a user")
		case b && p.Match.Prefix.IsValid() && !p.Match.Prefix.IsSingleIP():
			bad("route", "route needs a single address, not the range %s", p.Match.Prefix)
		}
		p.Route = isBool && b
	}
	if p.HasPolicy && p.Policy == engine.PolicyOff && p.Identity != nil {
		bad("identity", "an identity is pinned but policy is off: nothing is checked when off (remove one of them)")
	}
	return p, errs
}

// checkShadowed reports sections that can never apply: an earlier section
// matches every call they would.
func (f *File) checkShadowed() Errors {
	var errs Errors
	for j, later := range f.Peers {
		if !later.Match.valid() {
			continue
		}
		for _, earlier := range f.Peers[:j] {
			if earlier.Match.valid() && earlier.Match.covers(later.Match) {
				errs = append(errs, f.Errorf(fmt.Sprintf("%s[%d].match", PeerSection, j),
					"never applies: the section of line %d matches %s first (the first matching section wins; put the narrower one first)",
					earlier.Line, later.Match))
				break
			}
		}
	}
	return errs
}

// TypeName names a TOML value's type for an error message.
func TypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

// Match says which peers a section applies to: an address range (a single
// address is a /32 or /128) or an IAX2 user (the NEW's username, else its
// calling number).
type Match struct {
	Prefix netip.Prefix
	User   string
}

// UserPrefix starts a user match.
const UserPrefix = "user:"

// ParseMatch reads "192.0.2.7", "10.0.0.0/8", "2001:db8::/32" or
// "user:NAME".
func ParseMatch(s string) (Match, error) {
	if u, ok := strings.CutPrefix(s, UserPrefix); ok {
		if u == "" {
			return Match{}, errors.New(`empty user in "user:": give the IAX2 username or calling number`)
		}
		return Match{User: u}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Match{}, fmt.Errorf("%q is not an address range like 10.0.0.0/8", s)
		}
		if p.Masked() != p {
			return Match{}, fmt.Errorf("%q has bits set past the /%d: did you mean %s?", s, p.Bits(), p.Masked())
		}
		if p.Addr().Is4In6() {
			return Match{}, fmt.Errorf("%q: write IPv4 ranges as IPv4", s)
		}
		return Match{Prefix: p}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Match{}, fmt.Errorf("%q is not an address, a range (10.0.0.0/8) or user:NAME", s)
	}
	a = a.Unmap()
	if a.Zone() != "" {
		return Match{}, fmt.Errorf("%q: zones are not supported in a match", s)
	}
	return Match{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
}

func (m Match) String() string {
	if m.User != "" {
		return UserPrefix + m.User
	}
	if m.Prefix.IsSingleIP() {
		return m.Prefix.Addr().String()
	}
	return m.Prefix.String()
}

func (m Match) valid() bool { return m.User != "" || m.Prefix.IsValid() }

// Matches reports whether a call with the peer at addr, naming user,
// falls under m.
func (m Match) Matches(addr netip.Addr, user string) bool {
	if m.User != "" {
		return user == m.User
	}
	return m.Prefix.Contains(addr.Unmap().WithZone(""))
}

// covers reports whether m matches every call o matches.
func (m Match) covers(o Match) bool {
	if m.User != "" || o.User != "" {
		return m.User == o.User
	}
	return m.Prefix.Bits() <= o.Prefix.Bits() && m.Prefix.Contains(o.Prefix.Addr())
}

// Peers is the list of per-peer sections; the first that matches applies.
type Peers []Peer

// Lookup returns the section that applies to a call with the peer at
// addr naming user, or nil.
func (ps Peers) Lookup(addr netip.Addr, user string) *Peer {
	for i := range ps {
		if ps[i].Match.Matches(addr, user) {
			return &ps[i]
		}
	}
	return nil
}

// Routes returns the addresses of the sections with route = true.
func (ps Peers) Routes() []netip.Addr {
	var out []netip.Addr
	for _, p := range ps {
		if p.Route && p.Match.Prefix.IsValid() {
			out = append(out, p.Match.Prefix.Addr())
		}
	}
	return out
}

// String returns the value as a flag takes it.
func (s Setting) String() string {
	switch v := s.Value.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(s.Value)
}
