// Package notify shows the SAS of encrypted calls, and the warnings of
// suspicious ones, as desktop notifications for the person at the host:
// notify-send on Linux, osascript on macOS, run as the logged-in user.
// Handle only queues: the engine calls it with its lock held, and the
// commands run in RoutineNotify, away from the packet path.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iaxcrypt/iaxcrypt/engine"
)

// Queue is how many notifications may wait; more are dropped and counted.
const Queue = 16

// commandTimeout bounds one notification command.
const commandTimeout = 5 * time.Second

// Message is one notification.
type Message struct {
	Title, Body string
	Urgent      bool
}

// MessageOf returns the notification for an event, if it deserves one:
// an encrypted call (its SAS), a call in clear or refused with a warning.
func MessageOf(ev engine.Event) (Message, bool) {
	warn := ""
	switch ev.Warning {
	case engine.WarnNone:
	case engine.WarnIdentityChanged:
		warn = "WARNING: the peer's identity key changed (a man in the middle, or a reinstalled peer): compare the SAS. "
	case engine.WarnDowngradeSuspected:
		warn = "WARNING: this peer encrypted its calls before; this one is not (someone may have stripped the encryption). "
	default:
		warn = "WARNING: " + string(ev.Warning) + ". "
	}
	switch ev.Kind {
	case engine.EventEncrypted:
		return Message{
			Title:  "iaxcrypt: call with " + ev.Peer.Addr().String() + " encrypted",
			Body:   warn + "SAS " + ev.SAS.String() + ": read it aloud; the other side must see the same.",
			Urgent: warn != "",
		}, true
	case engine.EventCleartext, engine.EventFailed:
		if warn == "" {
			return Message{}, false
		}
		what := "in clear"
		if ev.Kind == engine.EventFailed {
			what = "refused"
		}
		return Message{Title: "iaxcrypt: call with " + ev.Peer.Addr().String() + " " + what, Body: warn + ev.Reason, Urgent: true}, true
	}
	return Message{}, false
}

// Runner runs a notification command; tests replace it.
type Runner func(ctx context.Context, cmd *exec.Cmd) error

func runCommand(_ context.Context, cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) > 0 {
		return fmt.Errorf("%w: %s", err, out)
	}
	return err
}

// Notifier sends notifications. It is safe for concurrent use.
type Notifier struct {
	log     *slog.Logger
	run     Runner
	users   func() []User
	enabled atomic.Bool
	lost    atomic.Uint64
	queue   chan Message
	done    chan struct{}
	once    sync.Once
}

// Config sets up a Notifier.
type Config struct {
	Enabled bool
	Log     *slog.Logger
	// Run and Users replace the real commands and the discovery of
	// logged-in users (tests).
	Run   Runner
	Users func() []User
}

// New starts a Notifier; Close stops it.
func New(c Config) *Notifier {
	n := &Notifier{log: c.Log, run: c.Run, users: c.Users, queue: make(chan Message, Queue), done: make(chan struct{})}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.run == nil {
		n.run = runCommand
	}
	if n.users == nil {
		n.users = LoggedInUsers
	}
	n.enabled.Store(c.Enabled)
	go n.RoutineNotify()
	return n
}

// SetEnabled turns notifications on or off (a configuration reload).
func (n *Notifier) SetEnabled(on bool) { n.enabled.Store(on) }

// Handle queues the notification of an event; it never blocks. It is an
// engine OnEvent handler.
func (n *Notifier) Handle(ev engine.Event) {
	if !n.enabled.Load() {
		return
	}
	m, ok := MessageOf(ev)
	if !ok {
		return
	}
	select {
	case n.queue <- m:
	default:
		n.lost.Add(1)
	}
}

// Lost returns how many notifications a full queue dropped.
func (n *Notifier) Lost() uint64 { return n.lost.Load() }

// Close stops the routine once the queued notifications are sent.
func (n *Notifier) Close() {
	n.once.Do(func() { close(n.queue) })
	<-n.done
}

// RoutineNotify shows queued notifications to every logged-in user, one
// command at a time, each bounded by a timeout. Without a user to show
// them to, or without the command, it skips them with a debug log.
func (n *Notifier) RoutineNotify() {
	defer close(n.done)
	for m := range n.queue {
		users := n.users()
		if len(users) == 0 {
			n.log.Debug("notification skipped: nobody is logged in to a desktop session", "title", m.Title)
			continue
		}
		for _, u := range users {
			ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
			cmd, err := commandFor(ctx, u, m)
			if err == nil {
				err = n.run(ctx, cmd)
			}
			cancel()
			if err != nil {
				n.log.Debug("notification skipped", "user", u.Name, "uid", u.UID, "err", err)
			}
		}
	}
}

// User is a person logged in to a desktop session.
type User struct {
	Name     string
	UID, GID uint32
	Home     string
	// RuntimeDir is the session's runtime directory (Linux:
	// /run/user/UID, holding the session bus).
	RuntimeDir string
}
