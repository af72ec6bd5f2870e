package control

import (
	"context"
	"fmt"
)

// OpProbe asks whether the daemon saw "iaxcrypt doctor"'s probe datagram
// (package probe) arrive in its TUN:
//
//	{"op":"probe","nonce":"32 HEX DIGITS"}
//
// It answers a ProbeResult; Seen false means not (yet).
const OpProbe = "probe"

// ProbeResult is the answer to a probe request.
type ProbeResult struct {
	Seen bool `json:"seen"`
	// Src and Dst are the probe's addresses as the TUN delivered it
	// (IP:PORT), when seen.
	Src string `json:"src,omitempty"`
	Dst string `json:"dst,omitempty"`
}

// ProbeHandler is a Handler that also answers probe requests.
type ProbeHandler interface {
	// ProbeSeen looks the nonce up; an error says the nonce is malformed.
	ProbeSeen(nonce string) (ProbeResult, error)
}

// Probe asks the daemon whether it saw the probe with this nonce.
func (c Client) Probe(ctx context.Context, nonce string) (ProbeResult, error) {
	var r ProbeResult
	err := c.do(ctx, Request{Op: OpProbe, Nonce: nonce}, &r)
	return r, err
}

func (s *Server) handleProbe(req Request) any {
	ph, ok := s.h.(ProbeHandler)
	if !ok {
		return errorResponse{Error: "this daemon does not answer probe requests"}
	}
	r, err := ph.ProbeSeen(req.Nonce)
	if err != nil {
		return errorResponse{Error: fmt.Sprintf("probe: %v", err)}
	}
	return r
}
