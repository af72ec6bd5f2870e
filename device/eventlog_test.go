package device

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

func TestEventLogWritesEvents(t *testing.T) {
	var buf bytes.Buffer
	l := NewEventLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	peer := netip.MustParseAddrPort("10.0.0.2:4569")
	l.Handle(engine.Event{Kind: engine.EventEncrypted, Peer: peer, LocalCall: 1, RemoteCall: 2, Outgoing: true,
		Cipher: crypt.CipherChaCha20Poly1305, SAS: crypt.SAS{1, 2, 3, 4}})
	l.Handle(engine.Event{Kind: engine.EventFailed, Peer: peer, Reason: "encryption required: no answer"})
	l.Handle(engine.Event{Kind: engine.EventCleartext, Peer: peer, Reason: "no offer", Err: errors.New("boom")})
	l.Handle(engine.Event{Kind: engine.EventDrop, Peer: peer, Drop: engine.DropReplay})
	l.Close()
	out := buf.String()
	for _, want := range []string{
		"call encrypted", "cipher=chacha20-poly1305", "sas=", "direction=outgoing",
		"call refused", "encryption required: no answer",
		"call in cleartext", "err=boom",
		"packet dropped", "why=replay",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestEventLogNeverBlocks(t *testing.T) {
	l := &EventLog{log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), queue: make(chan engine.Event, 2), done: make(chan struct{})}
	// No routine drains the queue: Handle must still return.
	for range 10 {
		l.Handle(engine.Event{Kind: engine.EventDrop})
	}
	if l.Lost() != 8 {
		t.Fatalf("lost %d, want 8", l.Lost())
	}
	go l.RoutineLogEvents()
	l.Close()
}
