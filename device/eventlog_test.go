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
	l.Handle(engine.Event{Kind: engine.EventWarning, Peer: peer, LocalCall: 7, Warning: engine.WarnIdentityChanged, Reason: "the peer presents another identity"})
	l.Handle(engine.Event{Kind: engine.EventEncrypted, Peer: peer, LocalCall: 7, RemoteCall: 8, Cipher: crypt.CipherAES256GCM,
		SAS: crypt.SAS{9, 8, 7, 6}, Warning: engine.WarnIdentityChanged})
	l.Handle(engine.Event{Kind: engine.EventCleartext, Peer: peer, LocalCall: 9, Warning: engine.WarnDowngradeSuspected})
	l.Close()
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg="call encrypted" peer=10.0.0.2:4569 local_call=1 remote_call=2 direction=outgoing cipher=chacha20-poly1305 sas="` + crypt.SAS{1, 2, 3, 4}.String() + `"`,
		"call refused", "encryption required: no answer",
		"call in cleartext", "err=boom",
		"packet dropped", "why=replay",
		`level=WARN msg="call warning" peer=10.0.0.2:4569 local_call=7 remote_call=0 direction=incoming warning=identity_changed why="the peer presents another identity"`,
		`level=WARN msg="call encrypted, with a warning: compare the SAS" peer=10.0.0.2:4569 local_call=7 remote_call=8 direction=incoming warning=identity_changed cipher=aes-256-gcm sas="` + crypt.SAS{9, 8, 7, 6}.String() + `"`,
		`msg="call in cleartext" peer=10.0.0.2:4569 local_call=9 remote_call=0 direction=incoming warning=downgrade_suspected`,
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
