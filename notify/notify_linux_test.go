package notify

import (
	"context"
	"log/slog"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
)

var peer = netip.MustParseAddrPort("192.0.2.7:4569")

func TestMessageOf(t *testing.T) {
	sas := crypt.SAS{1, 2, 3, 4}
	tests := []struct {
		name   string
		ev     engine.Event
		ok     bool
		urgent bool
		want   []string
	}{
		{"encrypted", engine.Event{Kind: engine.EventEncrypted, Peer: peer, SAS: sas}, true, false,
			[]string{"192.0.2.7 encrypted", "SAS " + sas.String()}},
		{"encrypted, key changed", engine.Event{Kind: engine.EventEncrypted, Peer: peer, SAS: sas, Warning: engine.WarnIdentityChanged}, true, true,
			[]string{"identity key changed", sas.Base32()}},
		{"clear, downgrade", engine.Event{Kind: engine.EventCleartext, Peer: peer, Warning: engine.WarnDowngradeSuspected, Reason: "no answer"}, true, true,
			[]string{"in clear", "encrypted its calls before", "no answer"}},
		{"refused, key changed", engine.Event{Kind: engine.EventFailed, Peer: peer, Warning: engine.WarnIdentityChanged}, true, true,
			[]string{"refused", "identity key changed"}},
		{"clear, no warning", engine.Event{Kind: engine.EventCleartext, Peer: peer}, false, false, nil},
		{"warning event alone", engine.Event{Kind: engine.EventWarning, Peer: peer, Warning: engine.WarnIdentityChanged}, false, false, nil},
		{"drop", engine.Event{Kind: engine.EventDrop, Peer: peer}, false, false, nil},
	}
	for _, tt := range tests {
		m, ok := MessageOf(tt.ev)
		if ok != tt.ok || m.Urgent != tt.urgent {
			t.Errorf("%s: ok %v urgent %v, want %v %v", tt.name, ok, m.Urgent, tt.ok, tt.urgent)
		}
		for _, w := range tt.want {
			if !strings.Contains(m.Title+" "+m.Body, w) {
				t.Errorf("%s: %q lacks %q", tt.name, m.Title+" / "+m.Body, w)
			}
		}
	}
}

type recorder struct {
	mu    sync.Mutex
	cmds  []*exec.Cmd
	block chan struct{}
}

func (r *recorder) run(ctx context.Context, cmd *exec.Cmd) error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, cmd)
	return nil
}

func TestNotifierRunsAsEachUser(t *testing.T) {
	old := lookPath
	lookPath = func(string) (string, error) { return "/usr/bin/notify-send", nil }
	defer func() { lookPath = old }()
	rec := &recorder{}
	users := []User{{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice", RuntimeDir: "/run/user/1000"},
		{Name: "bob", UID: 1001, GID: 100, RuntimeDir: "/run/user/1001"}}
	n := New(Config{Log: slog.New(slog.DiscardHandler), Run: rec.run, Users: func() []User { return users }})
	n.Handle(engine.Event{Kind: engine.EventEncrypted, Peer: peer, SAS: crypt.SAS{9, 9, 9, 9}})
	n.Close()
	if len(rec.cmds) != 0 {
		t.Fatalf("a disabled notifier ran %d commands", len(rec.cmds))
	}
	rec = &recorder{}
	n = New(Config{Enabled: true, Log: slog.New(slog.DiscardHandler), Run: rec.run, Users: func() []User { return users }})
	n.Handle(engine.Event{Kind: engine.EventEncrypted, Peer: peer, SAS: crypt.SAS{9, 9, 9, 9}})
	n.Handle(engine.Event{Kind: engine.EventDrop, Peer: peer})
	n.Close()
	if len(rec.cmds) != 2 {
		t.Fatalf("%d commands, want one per user", len(rec.cmds))
	}
	for i, c := range rec.cmds {
		u := users[i]
		cred := c.SysProcAttr.Credential
		if cred == nil || cred.Uid != u.UID || cred.Gid != u.GID {
			t.Errorf("command %d runs as %+v, want uid %d gid %d", i, cred, u.UID, u.GID)
		}
		env := strings.Join(c.Env, " ")
		if !strings.Contains(env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+u.RuntimeDir+"/bus") {
			t.Errorf("command %d env %q lacks the user's bus", i, env)
		}
		args := strings.Join(c.Args, "|")
		if !strings.Contains(args, "SAS "+crypt.SAS{9, 9, 9, 9}.String()) || !strings.Contains(args, "--urgency=normal") {
			t.Errorf("command %d args %q", i, args)
		}
	}
}

// TestHandleNeverBlocks: with the command stuck, Handle still returns at
// once and counts what the full queue drops.
func TestHandleNeverBlocks(t *testing.T) {
	rec := &recorder{block: make(chan struct{})}
	n := New(Config{Enabled: true, Log: slog.New(slog.DiscardHandler), Run: rec.run,
		Users: func() []User { return []User{{UID: 1000, RuntimeDir: "/run/user/1000"}} }})
	start := time.Now()
	for range Queue + 10 {
		n.Handle(engine.Event{Kind: engine.EventEncrypted, Peer: peer})
	}
	if time.Since(start) > time.Second {
		t.Fatal("Handle blocked")
	}
	if n.Lost() < 9 {
		t.Fatalf("lost %d, want at least 9 (one may be in the routine)", n.Lost())
	}
	close(rec.block)
	n.Close()
}
