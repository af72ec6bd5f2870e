package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Handler does what requests ask; the daemon implements it.
type Handler interface {
	// Status returns the daemon's identity and calls.
	Status() Status
	// AddRoute routes the application's traffic to peer through the daemon.
	AddRoute(peer netip.Addr) error
	// DelRoute undoes AddRoute.
	DelRoute(peer netip.Addr) error
}

// InfoHandler is a Handler that also says how the daemon is set up (the
// info request of "iaxcrypt doctor").
type InfoHandler interface {
	Info() Info
}

const (
	// maxConns bounds the connections served at once; more are closed.
	maxConns = 16
	// maxLine bounds one request line.
	maxLine = 4096
	// idleTimeout closes a connection that sends nothing for this long.
	idleTimeout = 30 * time.Second
)

// Server answers requests on the control socket.
type Server struct {
	ln   net.Listener
	path string
	h    Handler
	log  *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Listen creates the control socket at path and starts serving it: the
// directory is created mode 0755, the socket mode 0600. A stale socket
// left by a daemon that died is replaced; a live one is ErrInUse.
func Listen(path string, h Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create control socket directory %s: %w (run as root or pass --control)", filepath.Dir(path), err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict control socket %s to root: %w", path, err)
	}
	s := &Server{ln: ln, path: path, h: h, log: log, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.RoutineAccept()
	return s, nil
}

// removeStale removes a socket file nobody answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check control socket %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("control socket path %s exists and is not a socket: remove it or pass another --control", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%w at %s: stop it first (iaxcrypt is already running?)", ErrInUse, path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale control socket %s: %w", path, err)
	}
	return nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// RoutineAccept accepts connections until Close.
func (s *Server) RoutineAccept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("control socket accept failed", "err", err)
			continue
		}
		s.mu.Lock()
		if s.closed || len(s.conns) >= maxConns {
			s.mu.Unlock()
			c.Close() // bounded: refuse the extra client
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.RoutineServe(c)
	}
}

// RoutineServe answers the requests of one connection, one per line.
func (s *Server) RoutineServe(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 512), maxLine)
	enc := json.NewEncoder(c)
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		if !sc.Scan() {
			if errors.Is(sc.Err(), bufio.ErrTooLong) {
				enc.Encode(errorResponse{Error: fmt.Sprintf("request longer than %d bytes", maxLine)})
			}
			return
		}
		c.SetWriteDeadline(time.Now().Add(idleTimeout))
		if err := enc.Encode(s.handle(sc.Bytes())); err != nil {
			return
		}
	}
}

// handle answers one request line.
func (s *Server) handle(line []byte) any {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return errorResponse{Error: "request is not a JSON object: " + err.Error()}
	}
	switch req.Op {
	case OpStatus:
		st := s.h.Status()
		if st.Calls == nil {
			st.Calls = []CallStatus{} // "calls": [] rather than null
		}
		return st
	case OpRouteAdd, OpRouteDel:
		peer, err := netip.ParseAddr(req.Peer)
		if err != nil {
			return errorResponse{Error: fmt.Sprintf("peer %q is not an IP address: give the peer's IPv4 or IPv6 address", req.Peer)}
		}
		if req.Op == OpRouteAdd {
			err = s.h.AddRoute(peer)
		} else {
			err = s.h.DelRoute(peer)
		}
		if err != nil {
			return errorResponse{Error: err.Error()}
		}
		s.log.Info("route changed over control socket", "op", req.Op, "peer", peer)
		return okResponse{}
	case OpInfo:
		ih, ok := s.h.(InfoHandler)
		if !ok {
			return errorResponse{Error: "this daemon does not answer info requests"}
		}
		in := ih.Info()
		if in.Peers == nil {
			in.Peers = []string{}
		}
		return in
	case OpPeersList, OpPeersVerify, OpPeersForget:
		return s.handlePeers(req)
	case OpProbe:
		return s.handleProbe(req)
	default:
		return errorResponse{Error: fmt.Sprintf("unknown op %q: use status, info, probe, route-add, route-del or peers-list|verify|forget", req.Op)}
	}
}

// Close stops serving, closes every connection, removes the socket file
// and returns once all routines ended.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	// net's unix listener unlinks the socket on Close; make sure.
	if rmErr := os.Remove(s.path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
		err = rmErr
	}
	return err
}
