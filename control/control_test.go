package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeHandler struct {
	mu     sync.Mutex
	routes map[netip.Addr]bool
	status Status
}

func (h *fakeHandler) Status() Status { return h.status }

func (h *fakeHandler) AddRoute(p netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.IsLoopback() {
		return fmt.Errorf("cannot route loopback address %v", p)
	}
	h.routes[p] = true
	return nil
}

func (h *fakeHandler) DelRoute(p netip.Addr) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.routes[p] {
		return fmt.Errorf("no route to %v", p)
	}
	delete(h.routes, p)
	return nil
}

func start(t *testing.T, h Handler) (*Server, string) {
	t.Helper()
	before := runtime.NumGoroutine()
	path := filepath.Join(t.TempDir(), "run", "control.sock")
	s, err := Listen(path, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file left after Close: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Errorf("goroutines leaked: %d > %d", runtime.NumGoroutine(), before)
				return
			}
			runtime.Gosched()
		}
	})
	return s, path
}

func TestStatusJSON(t *testing.T) {
	h := &fakeHandler{status: Status{Identity: "abcd-efgh", Calls: []CallStatus{{
		Peer: "192.0.2.7:4569", LocalCall: 1, RemoteCall: 2, State: "encrypted", Cipher: "chacha20-poly1305",
		SAS: "ybnd", PeerIdentity: "wxyz", TxPackets: 10, RxPackets: 11, Dropped: 1}}}}
	_, path := start(t, h)
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, `{"op":"status"}`)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	want := `{"identity":"abcd-efgh","calls":[{"peer":"192.0.2.7:4569","local_call":1,"remote_call":2,"state":"encrypted","cipher":"chacha20-poly1305","sas":"ybnd","peer_identity":"wxyz","tx_packets":10,"rx_packets":11,"dropped":1}]}` + "\n"
	if line != want {
		t.Fatalf("got  %s\nwant %s", line, want)
	}
	st, err := Client{Path: path}.Status(context.Background())
	if err != nil || st.Identity != "abcd-efgh" || len(st.Calls) != 1 || !reflect.DeepEqual(st.Calls[0], h.status.Calls[0]) {
		t.Fatalf("client got %+v, %v", st, err)
	}
}

func TestStatusNoCalls(t *testing.T) {
	_, path := start(t, &fakeHandler{status: Status{Identity: "id"}})
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, `{"op":"status"}`)
	line, _ := bufio.NewReader(c).ReadString('\n')
	if line != `{"identity":"id","calls":[]}`+"\n" {
		t.Fatalf("got %q", line)
	}
}

func TestSocketMode(t *testing.T) {
	_, path := start(t, &fakeHandler{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %#o, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(path))
	if di.Mode().Perm() != 0o755 {
		t.Fatalf("directory mode %#o, want 0755", di.Mode().Perm())
	}
}

func TestRequests(t *testing.T) {
	h := &fakeHandler{routes: map[netip.Addr]bool{}}
	_, path := start(t, h)
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	tests := []struct {
		req       string
		wantError string // substring; empty for success
	}{
		{`{"op":"route-add","peer":"192.0.2.7"}`, ""},
		{`{"op":"route-add","peer":"2001:db8::7"}`, ""},
		{`{"op":"route-del","peer":"192.0.2.7"}`, ""},
		{`{"op":"route-del","peer":"192.0.2.7"}`, "no route to 192.0.2.7"},
		{`{"op":"route-add","peer":"127.0.0.1"}`, "cannot route loopback"},
		{`{"op":"route-add","peer":"not-an-ip"}`, "is not an IP address"},
		{`{"op":"route-add"}`, "is not an IP address"},
		{`{"op":"reboot"}`, "unknown op"},
		{`not json`, "not a JSON object"},
		{`[]`, "not a JSON object"},
	}
	for _, tt := range tests {
		fmt.Fprintln(c, tt.req)
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", tt.req, err)
		}
		var resp map[string]any
		if err := json.Unmarshal([]byte(line), &resp); err != nil {
			t.Fatalf("%s: response %q is not JSON", tt.req, line)
		}
		msg, _ := resp["error"].(string)
		if tt.wantError == "" && msg != "" || !strings.Contains(msg, tt.wantError) {
			t.Errorf("%s: error %q, want %q", tt.req, msg, tt.wantError)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.routes) != 1 || !h.routes[netip.MustParseAddr("2001:db8::7")] {
		t.Fatalf("routes %v, want only 2001:db8::7", h.routes)
	}
}

func TestClientRoutes(t *testing.T) {
	h := &fakeHandler{routes: map[netip.Addr]bool{}}
	_, path := start(t, h)
	cl := Client{Path: path}
	ctx := context.Background()
	p := netip.MustParseAddr("198.51.100.1")
	if err := cl.RouteAdd(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := cl.RouteDel(ctx, p); err != nil {
		t.Fatal(err)
	}
	err := cl.RouteDel(ctx, p)
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "no route") {
		t.Fatalf("got %v, want the daemon's error", err)
	}
}

func TestClientNoDaemon(t *testing.T) {
	_, err := Client{Path: filepath.Join(t.TempDir(), "none.sock")}.Status(context.Background())
	if !errors.Is(err, ErrNoDaemon) || !strings.Contains(err.Error(), "iaxcrypt up") {
		t.Fatalf("got %v, want ErrNoDaemon saying what to do", err)
	}
}

func TestListenInUseAndStale(t *testing.T) {
	_, path := start(t, &fakeHandler{})
	if _, err := Listen(path, &fakeHandler{}, nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen: %v, want ErrInUse", err)
	}
	// A stale socket (nobody listening) is replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	s, err := Listen(stale, &fakeHandler{}, nil)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	s.Close()
	// A regular file is not removed.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Listen(file, &fakeHandler{}, nil); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen over a file: %v", err)
	}
}

func TestTooLongLine(t *testing.T) {
	_, path := start(t, &fakeHandler{})
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go fmt.Fprintln(c, `{"op":"`+strings.Repeat("x", 2*maxLine)+`"}`)
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.Contains(line, "longer than") {
		t.Fatalf("got %q", line)
	}
}

func TestCloseWithOpenClient(t *testing.T) {
	s, path := start(t, &fakeHandler{})
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Make sure the server has the connection before closing.
	fmt.Fprintln(c, `{"op":"status"}`)
	bufio.NewReader(c).ReadString('\n')
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked by an idle client")
	}
}
