package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
