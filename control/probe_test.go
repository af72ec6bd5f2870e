package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// probeHandler sees one nonce.
type probeHandler struct {
	fakeHandler
	seen string
}

func (h *probeHandler) ProbeSeen(nonce string) (ProbeResult, error) {
	if len(nonce) != 32 {
		return ProbeResult{}, fmt.Errorf("%q is not 32 hex digits", nonce)
	}
	if nonce == h.seen {
		return ProbeResult{Seen: true, Src: "10.0.0.1:4569", Dst: "192.0.2.1:9"}, nil
	}
	return ProbeResult{}, nil
}

func TestClientProbe(t *testing.T) {
	seen := strings.Repeat("ab", 16)
	_, path := start(t, &probeHandler{seen: seen})
	c := Client{Path: path}
	ctx := context.Background()
	r, err := c.Probe(ctx, seen)
	if err != nil || r != (ProbeResult{Seen: true, Src: "10.0.0.1:4569", Dst: "192.0.2.1:9"}) {
		t.Fatalf("Probe(seen) = %+v, %v", r, err)
	}
	if r, err := c.Probe(ctx, strings.Repeat("cd", 16)); err != nil || r.Seen {
		t.Fatalf("Probe(other) = %+v, %v; want not seen", r, err)
	}
	var re *RemoteError
	if _, err := c.Probe(ctx, "xyz"); !errors.As(err, &re) || !strings.Contains(re.Msg, "hex digits") {
		t.Fatalf("Probe(bad nonce): %v, want the handler's error", err)
	}
}

// A daemon without probe support says so, and the client gets an error
// it can tell from "not seen".
func TestProbeUnsupported(t *testing.T) {
	_, path := start(t, &fakeHandler{})
	var re *RemoteError
	if _, err := (Client{Path: path}).Probe(context.Background(), strings.Repeat("ab", 16)); !errors.As(err, &re) || !strings.Contains(re.Msg, "does not answer probe") {
		t.Fatalf("Probe on a daemon without probes: %v", err)
	}
}
