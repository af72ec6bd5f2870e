package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// auditReport is the part of `iaxcrypt audit --json` the tests read,
// decoded with types of their own as the status is (see status).
type auditReport struct {
	Packets   int `json:"packets"`
	Datagrams int `json:"iax2_datagrams"`
	Leaks     int `json:"leaks"`
	Calls     []struct {
		ID         int    `json:"id"`
		Caller     string `json:"caller"`
		Callee     string `json:"callee"`
		CallerCall int    `json:"caller_call"`
		CalleeCall int    `json:"callee_call"`
		Encryption string `json:"encryption"`
		Leaks      []struct {
			Packet int    `json:"packet"`
			Side   string `json:"side"`
			Kind   string `json:"kind"`
			Frame  string `json:"frame"`
			Why    string `json:"why"`
		} `json:"leaks"`
	} `json:"calls"`
	Unreadable map[string]int `json:"unreadable"`
}

// requireNoLeak runs `iaxcrypt audit --json` on a capture of the test and
// fails if a frame of an encrypted call crossed in cleartext after the
// switch (exit status 3), if the audit cannot read the capture, or if it
// finds fewer than wantEncrypted encrypted calls.
func requireNoLeak(t *testing.T, capture string, wantEncrypted int) auditReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, iaxcryptBinary(t), "audit", "--json", "--port", fmt.Sprint(daemonPort), "--port", fmt.Sprint(appPort), capture)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Fatalf("iaxcrypt audit %s: %v: %s", capture, err, stderr.String())
	}
	var r auditReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("iaxcrypt audit --json: %v:\n%s", err, out)
	}
	for _, c := range r.Calls {
		for _, l := range c.Leaks {
			t.Errorf("audit: call %d (%s call %d -> %s call %d): packet %d, %s %s %s in clear: %s",
				c.ID, c.Caller, c.CallerCall, c.Callee, c.CalleeCall, l.Packet, l.Side, l.Kind, l.Frame, l.Why)
		}
	}
	if r.Leaks != 0 || err != nil {
		t.Fatalf("audit: %d frames of encrypted calls in clear after the switch in %s", r.Leaks, capture)
	}
	encrypted := 0
	for _, c := range r.Calls {
		if c.Encryption == "encrypted" {
			encrypted++
		}
	}
	if encrypted < wantEncrypted {
		t.Fatalf("audit: %d encrypted calls in %s, want %d: %+v", encrypted, capture, wantEncrypted, r.Calls)
	}
	t.Logf("audit: %d packets, %d calls, %d encrypted, no cleartext after the switch", r.Packets, len(r.Calls), encrypted)
	return r
}
