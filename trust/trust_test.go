package trust

import (
	"crypto/rand"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/config"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

func newKey(t testing.TB) crypt.PublicKey {
	id, err := crypt.GenerateIdentity(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return id.Public()
}

func parsePeers(t *testing.T, text string) config.Peers {
	t.Helper()
	f, err := config.Parse("t.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f.Peers
}

var (
	pbx   = netip.MustParseAddrPort("192.0.2.7:4569")
	lan   = netip.MustParseAddrPort("10.1.2.3:4569")
	other = netip.MustParseAddrPort("198.51.100.1:4569")
	t0    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func TestPolicyAndPins(t *testing.T) {
	pinned := newKey(t)
	store, _, err := knownpeers.Open(filepath.Join(t.TempDir(), "known_peers"), knownpeers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := New(store, Rules{Policy: engine.PolicyOpportunistic, Peers: parsePeers(t, `
[[peer]]
match = "192.0.2.7"
identity = "`+pinned.Fingerprint()+`"
[[peer]]
match = "user:alice"
policy = "off"
[[peer]]
match = "10.0.0.0/8"
policy = "require"
`)})
	for _, tc := range []struct {
		name   string
		peer   netip.AddrPort
		user   string
		policy engine.Policy
		pin    bool
	}{
		{"pinned address: require by default", pbx, "", engine.PolicyRequire, true},
		{"first section wins over the user", pbx, "alice", engine.PolicyRequire, true},
		{"user section", lan, "alice", engine.PolicyOff, false},
		{"range", lan, "bob", engine.PolicyRequire, false},
		{"no section: the daemon's policy", other, "bob", engine.PolicyOpportunistic, false},
	} {
		p, pin, ok := tr.PeerPolicy(tc.peer, tc.user)
		if !ok || p != tc.policy || (pin != nil) != tc.pin || (pin != nil && *pin != pinned) {
			t.Errorf("%s: policy %v pin %v ok %v, want %v pin %v", tc.name, p, pin, ok, tc.policy, tc.pin)
		}
	}
	// The pinned identity is known even when the store remembers another
	// one, and a call with it makes the store adopt it.
	old := newKey(t)
	store.NoteCall(knownpeers.MakeKey(pbx.Addr(), ""), old, true, false, t0)
	if got := tr.CheckIdentity(pbx, "", pinned); got != engine.IdentityKnown {
		t.Fatalf("pinned identity: %v", got)
	}
	if got := tr.CheckIdentity(pbx, "", newKey(t)); got != engine.IdentityChanged {
		t.Fatalf("another identity: %v", got)
	}
	tr.NoteCall(pbx, "", pinned, true, t0.Add(time.Minute))
	if r, _ := store.Get(knownpeers.MakeKey(pbx.Addr(), "")); r.Identity != pinned {
		t.Fatalf("store kept %v, want the pinned identity", r.Identity)
	}
	// An unpinned peer: the store decides, and remembers.
	kb := newKey(t)
	if tr.CheckIdentity(other, "bob", kb) != engine.IdentityNew || tr.EncryptedBefore(other, "bob") {
		t.Fatal("a new peer is not new")
	}
	tr.NoteCall(other, "bob", kb, true, t0)
	if tr.CheckIdentity(other, "bob", kb) != engine.IdentityKnown || tr.CheckIdentity(other, "mallory", newKey(t)) != engine.IdentityChanged || !tr.EncryptedBefore(other, "x") {
		t.Fatal("the store's answers do not come through")
	}
}

func TestSetRulesSwapsAtOnce(t *testing.T) {
	tr := New(nil, Rules{Policy: engine.PolicyOpportunistic})
	if p, _, _ := tr.PeerPolicy(lan, ""); p != engine.PolicyOpportunistic {
		t.Fatal(p)
	}
	peers := parsePeers(t, "[[peer]]\nmatch = \"10.0.0.0/8\"\npolicy = \"require\"\n")
	tr.SetRules(Rules{Policy: engine.PolicyOff, Peers: peers})
	peers[0].Policy = engine.PolicyOpportunistic // the caller's slice is not shared
	if p, _, _ := tr.PeerPolicy(lan, ""); p != engine.PolicyRequire {
		t.Fatalf("after reload the range's policy is %v", p)
	}
	if p, _, _ := tr.PeerPolicy(other, ""); p != engine.PolicyOff {
		t.Fatalf("after reload the daemon's policy is %v", p)
	}
	// Without a store nothing is remembered, and nothing breaks.
	tr.NoteCall(other, "", newKey(t), true, t0)
	if tr.CheckIdentity(other, "", newKey(t)) != engine.IdentityNew || tr.EncryptedBefore(other, "") {
		t.Fatal("a Trust without a store remembered something")
	}
}

// TestConcurrentReload: calls look up rules while reloads swap them (run
// with -race).
func TestConcurrentReload(t *testing.T) {
	a := parsePeers(t, "[[peer]]\nmatch = \"10.0.0.0/8\"\npolicy = \"require\"\n")
	b := parsePeers(t, "[[peer]]\nmatch = \"10.0.0.0/8\"\npolicy = \"off\"\n")
	tr := New(nil, Rules{Peers: a})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			if i%2 == 0 {
				tr.SetRules(Rules{Peers: a})
			} else {
				tr.SetRules(Rules{Peers: b})
			}
		}
	}()
	for range 1000 {
		if p, _, _ := tr.PeerPolicy(lan, ""); p == engine.PolicyOpportunistic {
			t.Fatal("a lookup saw no section during a swap")
		}
	}
	<-done
}

func BenchmarkPeerPolicy(b *testing.B) {
	tr := New(nil, Rules{})
	f, _ := config.Parse("b.toml", []byte("[[peer]]\nmatch = \"user:x\"\n[[peer]]\nmatch = \"10.0.0.0/8\"\npolicy = \"require\"\n"))
	tr.SetRules(Rules{Peers: f.Peers})
	b.ReportAllocs()
	for b.Loop() {
		tr.PeerPolicy(lan, "200")
	}
}
