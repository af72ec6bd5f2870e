package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strings"
	"time"
)

// httpIdleTimeout closes a kept-alive connection to the debug or metrics
// endpoint that has been idle this long: each holds a goroutine, and a
// client that never closes its connections (one per request) would
// otherwise add one for good every time. A scraper polling every 15 or 30
// s keeps its connection.
var httpIdleTimeout = 60 * time.Second

// debugServer serves Go's runtime profiles (net/http/pprof) for profiling
// the daemon at load. It is off unless --debug-addr is given: the
// profiles show the daemon's internals (never keys: heap profiles hold
// sample stacks, not memory contents), so the address should be a
// loopback one or a unix socket only root can reach.
type debugServer struct {
	srv  *http.Server
	ln   net.Listener
	path string // unix socket to remove at close
}

// startDebug listens on addr ("unix:/path" or "host:port") and serves
// /debug/pprof/, /debug/goroutines (the number of goroutines) and
// /debug/heap (the live heap in bytes, after a collection) until close. It must run before privileges are dropped.
func startDebug(addr string, log *slog.Logger) (*debugServer, error) {
	network, where := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, where = "unix", p
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("debug endpoint: remove old socket %s: %w", p, err)
		}
	}
	ln, err := net.Listen(network, where)
	if err != nil {
		return nil, fmt.Errorf("debug endpoint on %s: %w (give --debug-addr 127.0.0.1:PORT or unix:/PATH)", addr, err)
	}
	if network == "unix" {
		if err := os.Chmod(where, 0o600); err != nil {
			ln.Close()
			return nil, fmt.Errorf("debug endpoint: restrict %s to root: %w", where, err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/goroutines", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, runtime.NumGoroutine())
	})
	mux.HandleFunc("/debug/heap", func(w http.ResponseWriter, _ *http.Request) {
		// The live heap: what the daemon holds, without the garbage a
		// collection would free (which RSS includes).
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintln(w, m.HeapAlloc)
	})
	d := &debugServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: httpIdleTimeout}, ln: ln}
	if network == "unix" {
		d.path = where
	}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug endpoint stopped", "err", err)
		}
	}()
	log.Info("debug endpoint (pprof) listening", "addr", addr)
	return d, nil
}

func (d *debugServer) close() {
	d.srv.Close()
	if d.path != "" {
		os.Remove(d.path)
	}
}
