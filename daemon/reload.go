package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/iaxcrypt/iaxcrypt/trust"
)

// reloader re-reads the configuration on SIGHUP and applies what can
// change while calls go on: the policy, the per-peer sections (swapped at
// once; calls in progress keep the policy they started with), the log
// level, desktop notifications and the SAS in the audio. Other settings need a restart; a
// reload that changes them says so.
type reloader struct {
	hup      chan os.Signal
	running  Config
	trust    *trust.Trust
	notify   func(bool)
	sasAudio func(bool)
	log      *slog.Logger
}

// watchHangup starts catching SIGHUP, first thing in Run: its default
// action would end the daemon.
func watchHangup() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// RoutineReload applies a reload for each SIGHUP until ctx is done.
func (r *reloader) RoutineReload(ctx context.Context) {
	defer signal.Stop(r.hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.hup:
			r.reload()
		}
	}
}

func (r *reloader) reload() {
	if r.running.Reload == nil || r.running.ConfigFile == "" {
		r.log.Info("SIGHUP: no --config file to reload")
		return
	}
	next, err := r.running.Reload()
	if err != nil {
		r.log.Error("SIGHUP: configuration not reloaded, the running one stays", "file", r.running.ConfigFile, "err", err)
		return
	}
	for _, what := range restartOnly(r.running, next) {
		r.log.Warn("SIGHUP: this change needs a restart of iaxcrypt up", "setting", what)
	}
	r.trust.SetRules(trust.Rules{Policy: next.Policy, Peers: next.PeerRules})
	if r.running.LogLevel != nil {
		r.running.LogLevel.Set(next.Level)
	}
	if r.notify != nil {
		r.notify(next.Notify)
	}
	if r.sasAudio != nil {
		r.sasAudio(next.SASAudio)
	}
	r.running.Policy, r.running.PeerRules, r.running.Level = next.Policy, next.PeerRules, next.Level
	r.running.Notify, r.running.SASAudio = next.Notify, next.SASAudio
	r.log.Info("configuration reloaded", "file", r.running.ConfigFile, "policy", next.Policy, "peer_sections", len(next.PeerRules),
		"log_level", next.Level, "notify", next.Notify, "sas_audio", next.SASAudio)
}

// restartOnly lists the settings that differ and that a reload cannot
// apply.
func restartOnly(a, b Config) []string {
	var out []string
	add := func(name string, differ bool, from, to any) {
		if differ {
			out = append(out, fmt.Sprintf("%s: %v -> %v", name, from, to))
		}
	}
	add("tun", a.TUN != b.TUN, a.TUN, b.TUN)
	add("app-port", a.AppPort != b.AppPort, a.AppPort, b.AppPort)
	add("listen", a.Listen != b.Listen, a.Listen, b.Listen)
	add("state-dir", a.StateDir != b.StateDir, a.StateDir, b.StateDir)
	add("control", a.Control != b.Control, a.Control, b.Control)
	add("routed peers", !slices.Equal(a.Peers, b.Peers), a.Peers, b.Peers)
	// Notifications run as the desktop user with capabilities the daemon
	// keeps only when started with --notify.
	add("notify", !a.Notify && b.Notify, a.Notify, b.Notify)
	return out
}
