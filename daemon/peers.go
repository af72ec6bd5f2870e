package daemon

import (
	"fmt"
	"time"

	"github.com/iaxcrypt/iaxcrypt/control"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/knownpeers"
)

// PeerRecords converts store records for the control socket and for
// `iaxcrypt peers list --json`.
func PeerRecords(rs []knownpeers.Record) []control.PeerRecord {
	out := make([]control.PeerRecord, 0, len(rs))
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range rs {
		pr := control.PeerRecord{Peer: r.Key.String(), Address: r.Key.Addr.String(), User: r.Key.User,
			LastSeen: stamp(r.LastSeen), LastCall: r.LastCall.String(), Verified: r.IsVerified(), VerifiedAt: stamp(r.Verified)}
		if r.HasIdentity() {
			pr.Identity, pr.FirstSeen = r.Identity.Fingerprint(), stamp(r.FirstSeen)
		}
		if r.Presented != (crypt.PublicKey{}) {
			pr.Presented = r.Presented.Fingerprint()
		}
		out = append(out, pr)
	}
	return out
}

// VerifyPeer marks a peer's identity verified in the store: identity when
// given, else the one its last call presented.
func VerifyPeer(s *knownpeers.Store, peer, identity string, now time.Time) ([]knownpeers.Record, error) {
	sel, err := knownpeers.ParseSelector(peer)
	if err != nil {
		return nil, err
	}
	var id *crypt.PublicKey
	if identity != "" {
		k, err := crypt.ParsePublicKey(identity)
		if err != nil {
			return nil, fmt.Errorf("identity %q is not a fingerprint (44 characters of base64, as `iaxcrypt identity` prints on the peer)", identity)
		}
		id = &k
	}
	return s.Verify(sel, id, now)
}

// ForgetPeer removes a peer's records from the store.
func ForgetPeer(s *knownpeers.Store, peer string) ([]knownpeers.Record, error) {
	sel, err := knownpeers.ParseSelector(peer)
	if err != nil {
		return nil, err
	}
	return s.Forget(sel)
}

// peersHandler answers the peers requests of the control socket from the
// daemon's store (control.PeersHandler).
type peersHandler struct {
	store *knownpeers.Store
}

func (h peersHandler) ListPeers() control.Peers {
	return control.Peers{File: h.store.Path(), Peers: PeerRecords(h.store.List())}
}

func (h peersHandler) VerifyPeer(peer, identity string) (control.Peers, error) {
	rs, err := VerifyPeer(h.store, peer, identity, time.Now())
	if err != nil {
		return control.Peers{}, err
	}
	return control.Peers{File: h.store.Path(), Peers: PeerRecords(rs)}, nil
}

func (h peersHandler) ForgetPeer(peer string) (control.Peers, error) {
	rs, err := ForgetPeer(h.store, peer)
	if err != nil {
		return control.Peers{}, err
	}
	return control.Peers{File: h.store.Path(), Peers: PeerRecords(rs)}, nil
}
