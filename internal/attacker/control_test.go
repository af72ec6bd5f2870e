package attacker

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestControlRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{})
	done := make(chan error, 1)
	go func() { done <- Serve(l, a) }()
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Set(Settings{Mode: ModeReplay, DupEvery: 3})
	if err != nil || got.Mode != ModeReplay {
		t.Fatalf("set: %+v, %v", got, err)
	}
	if _, err := c.Set(Settings{Mode: "nonsense"}); err == nil || !strings.Contains(err.Error(), "unknown mode") {
		t.Fatalf("bad mode: %v", err)
	}
	// The connection survives an error.
	got, err = c.Counters()
	if err != nil || got.Mode != ModeReplay {
		t.Fatalf("counters: %+v, %v", got, err)
	}
	c.Close()
	l.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
