package control

import (
	"context"
	"fmt"
)

// Operations on the daemon's known peers (`iaxcrypt peers`): the daemon
// keeps them in memory and writes them to its state directory, so while
// it runs they are changed through it, never in the file behind its back.
//
//	{"op":"peers-list"}
//	{"op":"peers-verify","peer":"192.0.2.7","identity":"FINGERPRINT"}  (identity optional)
//	{"op":"peers-forget","peer":"pbxA@192.0.2.7"}
//
// Each answers a Peers object: every record (list) or the records changed.
const (
	OpPeersList   = "peers-list"
	OpPeersVerify = "peers-verify"
	OpPeersForget = "peers-forget"
)

// Peers is the response to a peers request.
type Peers struct {
	File  string       `json:"file"`
	Peers []PeerRecord `json:"peers"`
}

// PeerRecord is what the daemon remembers of one peer.
type PeerRecord struct {
	// Peer is ADDRESS or USER@ADDRESS, as `peers verify|forget` take it.
	Peer    string `json:"peer"`
	Address string `json:"address"`
	User    string `json:"user,omitempty"`
	// Identity is the fingerprint remembered; empty when the peer's calls
	// were never encrypted.
	Identity  string `json:"identity,omitempty"`
	FirstSeen string `json:"first_seen,omitempty"` // RFC 3339
	LastSeen  string `json:"last_seen,omitempty"`
	// LastCall is encrypted or clear.
	LastCall string `json:"last_call,omitempty"`
	Verified bool   `json:"verified"`
	// VerifiedAt is when a person verified Identity.
	VerifiedAt string `json:"verified_at,omitempty"`
	// Presented is another identity the last call presented: the peer's
	// key changed, or someone is in the middle.
	Presented string `json:"presented,omitempty"`
}

// PeersHandler is a Handler that keeps known peers.
type PeersHandler interface {
	// ListPeers returns every record.
	ListPeers() Peers
	// VerifyPeer marks the identity of the peer (ADDRESS, ADDRESS:PORT or
	// USER@ADDRESS) verified: identity when not empty, else the one its
	// last call presented.
	VerifyPeer(peer, identity string) (Peers, error)
	// ForgetPeer removes the peer's records.
	ForgetPeer(peer string) (Peers, error)
}

// handlePeers answers a peers request.
func (s *Server) handlePeers(req Request) any {
	ph, ok := s.h.(PeersHandler)
	if !ok {
		return errorResponse{Error: "this daemon keeps no known peers"}
	}
	var (
		out Peers
		err error
	)
	switch req.Op {
	case OpPeersList:
		out = ph.ListPeers()
	case OpPeersVerify, OpPeersForget:
		if req.Peer == "" {
			return errorResponse{Error: fmt.Sprintf("%s needs a peer: ADDRESS or USER@ADDRESS", req.Op)}
		}
		if req.Op == OpPeersVerify {
			out, err = ph.VerifyPeer(req.Peer, req.Identity)
		} else {
			out, err = ph.ForgetPeer(req.Peer)
		}
		if err != nil {
			return errorResponse{Error: err.Error()}
		}
		s.log.Info("known peers changed over control socket", "op", req.Op, "peer", req.Peer, "records", len(out.Peers))
	}
	if out.Peers == nil {
		out.Peers = []PeerRecord{}
	}
	return out
}

// PeersList asks the daemon for its known peers.
func (c Client) PeersList(ctx context.Context) (Peers, error) {
	var p Peers
	err := c.do(ctx, Request{Op: OpPeersList}, &p)
	return p, err
}

// PeersVerify asks the daemon to mark a peer's identity verified.
func (c Client) PeersVerify(ctx context.Context, peer, identity string) (Peers, error) {
	var p Peers
	err := c.do(ctx, Request{Op: OpPeersVerify, Peer: peer, Identity: identity}, &p)
	return p, err
}

// PeersForget asks the daemon to forget a peer.
func (c Client) PeersForget(ctx context.Context, peer string) (Peers, error) {
	var p Peers
	err := c.do(ctx, Request{Op: OpPeersForget, Peer: peer}, &p)
	return p, err
}
