package daemon

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/iaxcrypt/iaxcrypt/config"
	"github.com/iaxcrypt/iaxcrypt/crypt"
	"github.com/iaxcrypt/iaxcrypt/engine"
	"github.com/iaxcrypt/iaxcrypt/sasaudio"
	"github.com/iaxcrypt/iaxcrypt/trust"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestReload(t *testing.T) {
	peer := netip.MustParseAddrPort("10.1.2.3:4569")
	f, err := config.Parse("c.toml", []byte("[[peer]]\nmatch = \"10.0.0.0/8\"\npolicy = \"require\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
	running := Config{TUN: "iax0", AppPort: 4571, Listen: ":4569", Policy: engine.PolicyOpportunistic, ConfigFile: "c.toml", LogLevel: level}
	next := running
	next.Policy, next.PeerRules, next.Level, next.Notify, next.SASAudio = engine.PolicyOff, f.Peers, slog.LevelDebug, true, true
	next.Listen = ":4570"
	var reloadErr error
	running.Reload = func() (Config, error) { return next, reloadErr }
	tr := trust.New(nil, trust.Rules{Policy: running.Policy})
	var notify, audio []bool
	r := &reloader{running: running, trust: tr, log: log,
		notify: func(on bool) { notify = append(notify, on) }, sasAudio: func(on bool) { audio = append(audio, on) }}

	r.reload()
	if p, _, _ := tr.PeerPolicy(peer, ""); p != engine.PolicyRequire {
		t.Fatalf("peer policy after reload %v, want the section's require", p)
	}
	if p, _, _ := tr.PeerPolicy(netip.MustParseAddrPort("192.0.2.1:4569"), ""); p != engine.PolicyOff {
		t.Fatalf("the daemon's policy after reload %v, want off", p)
	}
	if level.Level() != slog.LevelDebug || len(notify) != 1 || !notify[0] || len(audio) != 1 || !audio[0] {
		t.Fatalf("level %v, notify %v, sas audio %v", level.Level(), notify, audio)
	}
	out := logs.String()
	for _, want := range []string{"configuration reloaded", `setting="listen: :4569 -> :4570"`, `setting="notify: false -> true"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// A file with mistakes: nothing changes.
	reloadErr = errors.New("c.toml:1: policy: unknown policy")
	next.Policy, next.PeerRules = engine.PolicyRequire, nil
	r.reload()
	if p, _, _ := tr.PeerPolicy(peer, ""); p != engine.PolicyRequire || tr.Rules().Policy != engine.PolicyOff {
		t.Fatalf("a failed reload changed the rules: %+v", tr.Rules())
	}
	if !strings.Contains(logs.String(), "configuration not reloaded") || !strings.Contains(logs.String(), "c.toml:1: policy") {
		t.Fatalf("the failed reload is not logged with its line:\n%s", logs.String())
	}
	// Without --config, SIGHUP only says so.
	r2 := &reloader{running: Config{}, trust: tr, log: log}
	r2.reload()
	if !strings.Contains(logs.String(), "no --config file to reload") {
		t.Fatal("SIGHUP without a file is not explained")
	}
}

func TestSASAudioFrames(t *testing.T) {
	s := newSASAudio(false)
	sas := crypt.SAS{1, 2, 3, 4}
	if s.Frames(sas, engine.CodecULaw) != nil {
		t.Fatal("frames while off")
	}
	s.SetEnabled(true)
	for _, tc := range []struct {
		codec engine.Codec
		law   sasaudio.Codec
	}{{engine.CodecULaw, sasaudio.ULaw}, {engine.CodecALaw, sasaudio.ALaw}} {
		frames := s.Frames(sas, tc.codec)
		var stream []byte
		for _, f := range frames {
			if len(f) != 160 {
				t.Fatalf("frame of %d bytes", len(f))
			}
			stream = append(stream, f...)
		}
		d, err := sasaudio.DecodeG711(stream, tc.law)
		if err != nil || d.Base32() != sas.Base32() {
			t.Fatalf("codec %v: decoded %v %v", tc.codec, d.Base32(), err)
		}
	}
	if s.Frames(sas, engine.Codec(0)) != nil {
		t.Fatal("frames for an unknown codec")
	}
}
