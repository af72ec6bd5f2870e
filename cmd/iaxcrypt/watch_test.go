package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/control"
)

// countingDaemon answers each status request with a call whose TX count
// is the request's number, so each redraw shows new data.
type countingDaemon struct{ n atomic.Uint64 }

func (d *countingDaemon) Status() control.Status {
	n := d.n.Add(1)
	return control.Status{Identity: "fp-self", Calls: []control.CallStatus{
		{Peer: "192.0.2.7:4569", LocalCall: 1, RemoteCall: 2, State: "encrypted", TxPackets: 1000 + n}}}
}
func (d *countingDaemon) AddRoute(netip.Addr) error { return nil }
func (d *countingDaemon) DelRoute(netip.Addr) error { return nil }

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStatusWatch: --watch clears the screen and redraws the table with
// fresh data until its context ends.
func TestStatusWatch(t *testing.T) {
	path := startControl(t, &countingDaemon{})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchStatus(ctx, control.Client{Path: path}, 10*time.Millisecond, &out)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), clearScreen) < 3 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("fewer than 3 redraws in 10s:\n%q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop when its context ended")
	}
	screens := strings.Split(out.String(), clearScreen)[1:]
	for i, s := range screens[:2] {
		if !strings.Contains(s, "identity fp-self") || !strings.Contains(s, "192.0.2.7:4569") {
			t.Errorf("screen %d lacks the table:\n%s", i, s)
		}
		if want := fmt.Sprint(1001 + i); !strings.Contains(s, want) {
			t.Errorf("screen %d lacks TX %s (fresh data per redraw):\n%s", i, want, s)
		}
	}
}

// TestStatusWatchFlags: --watch with --json, or a zero interval, is a
// usage error; a missing daemon shows on screen instead of ending it.
func TestStatusWatchFlags(t *testing.T) {
	if code, _, stderr := runArgs("status", "--watch", "--json"); code != exitUsage || !strings.Contains(stderr, "--json") {
		t.Errorf("--watch --json: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runArgs("status", "--watch", "--interval", "0s"); code != exitUsage || !strings.Contains(stderr, "--interval") {
		t.Errorf("--interval 0s: exit %d, %q", code, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out syncBuffer
	watchStatus(ctx, control.Client{Path: t.TempDir() + "/none.sock"}, 10*time.Millisecond, &out)
	if s := out.String(); !strings.Contains(s, "iaxcrypt up") || strings.Count(s, clearScreen) < 1 {
		t.Errorf("no daemon: screen %q, want the error with its fix", s)
	}
}
