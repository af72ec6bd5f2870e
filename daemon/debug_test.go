package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The debug endpoint on a unix socket: root-only, answers the goroutine
// count and the pprof index, and is gone after close.
func TestDebugEndpointUnix(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "debug.sock")
	d, err := startDebug("unix:"+sock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v, %v: want mode 0600", fi, err)
	}
	c := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	get := func(path string) string {
		resp, err := c.Get("http://debug" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		return string(b)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(get("/debug/heap"))); err != nil || n < 1<<10 {
		t.Fatalf("/debug/heap = %d, %v: want the live heap in bytes", n, err)
	}
	if n, err := strconv.Atoi(strings.TrimSpace(get("/debug/goroutines"))); err != nil || n < 1 {
		t.Fatalf("goroutines %d, %v", n, err)
	}
	if !strings.Contains(get("/debug/pprof/"), "goroutine") {
		t.Fatal("no pprof index")
	}
	d.close()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left after close: %v", err)
	}
}

func TestDebugEndpointBadAddress(t *testing.T) {
	if _, err := startDebug("256.0.0.1:1", slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "--debug-addr") {
		t.Fatalf("error %v, want one naming --debug-addr", err)
	}
}

// Connections a client leaves open are closed once idle, so they do not
// pile up goroutines in the daemon (the soak polls /debug/goroutines with
// a new client every time).
func TestDebugEndpointClosesIdleConnections(t *testing.T) {
	old := httpIdleTimeout
	httpIdleTimeout = 200 * time.Millisecond
	defer func() { httpIdleTimeout = old }()
	sock := filepath.Join(t.TempDir(), "debug.sock")
	d, err := startDebug("unix:"+sock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	base := runtime.NumGoroutine()
	const clients = 20
	for range clients {
		c := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
		resp, err := c.Get("http://debug/debug/goroutines")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	// Each kept-alive connection holds a goroutine in the server and two
	// in the client's transport until the server closes it.
	if n := runtime.NumGoroutine(); n < base+clients {
		t.Fatalf("%d goroutines with %d connections open, %d before: the test sees no kept-alive connections", n, clients, base)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+clients/2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the %d connections", runtime.NumGoroutine(), base, clients)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
