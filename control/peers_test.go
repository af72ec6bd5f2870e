package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// peersHandler is a fakeHandler that keeps peers.
type peersHandler struct {
	fakeHandler
	recs []PeerRecord
	last string
}

func (h *peersHandler) ListPeers() Peers { return Peers{File: "/s/known_peers", Peers: h.recs} }

func (h *peersHandler) VerifyPeer(peer, identity string) (Peers, error) {
	h.last = "verify " + peer + " " + identity
	for i := range h.recs {
		if h.recs[i].Peer == peer {
			h.recs[i].Verified = true
			return Peers{Peers: []PeerRecord{h.recs[i]}}, nil
		}
	}
	return Peers{}, fmt.Errorf("verify %s: no such peer in the known peers", peer)
}

func (h *peersHandler) ForgetPeer(peer string) (Peers, error) {
	h.last = "forget " + peer
	return Peers{}, nil
}

func TestPeersOps(t *testing.T) {
	h := &peersHandler{recs: []PeerRecord{{Peer: "192.0.2.7", Address: "192.0.2.7", Identity: "id1", LastCall: "encrypted"}}}
	_, path := start(t, h)
	c := Client{Path: path}
	ctx := context.Background()
	got, err := c.PeersList(ctx)
	if err != nil || got.File != "/s/known_peers" || len(got.Peers) != 1 || got.Peers[0] != h.recs[0] {
		t.Fatalf("list: %+v %v", got, err)
	}
	v, err := c.PeersVerify(ctx, "192.0.2.7", "FP")
	if err != nil || len(v.Peers) != 1 || !v.Peers[0].Verified || h.last != "verify 192.0.2.7 FP" {
		t.Fatalf("verify: %+v %v (%s)", v, err, h.last)
	}
	_, err = c.PeersVerify(ctx, "198.51.100.1", "")
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "no such peer") {
		t.Fatalf("verify of an unknown peer: %v", err)
	}
	f, err := c.PeersForget(ctx, "x@192.0.2.7")
	if err != nil || f.Peers == nil || h.last != "forget x@192.0.2.7" {
		t.Fatalf("forget: %+v %v (%s)", f, err, h.last)
	}
	if _, err := c.PeersForget(ctx, ""); err == nil || !strings.Contains(err.Error(), "needs a peer") {
		t.Fatalf("forget without a peer: %v", err)
	}
}

func TestPeersWithoutStore(t *testing.T) {
	_, path := start(t, &fakeHandler{})
	if _, err := (Client{Path: path}).PeersList(context.Background()); err == nil || !strings.Contains(err.Error(), "keeps no known peers") {
		t.Fatalf("got %v", err)
	}
}
