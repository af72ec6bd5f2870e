package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Client sends requests to a daemon's control socket.
type Client struct {
	// Path is the socket; DefaultPath when empty.
	Path string
}

// Status asks the daemon for its identity and calls.
func (c Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, Request{Op: OpStatus}, &st)
	return st, err
}

// Info asks the daemon how it is set up.
func (c Client) Info(ctx context.Context) (Info, error) {
	var in Info
	err := c.do(ctx, Request{Op: OpInfo}, &in)
	return in, err
}

// RouteAdd asks the daemon to route the application's traffic to peer
// through it.
func (c Client) RouteAdd(ctx context.Context, peer netip.Addr) error {
	return c.do(ctx, Request{Op: OpRouteAdd, Peer: peer.String()}, nil)
}

// RouteDel asks the daemon to stop routing peer.
func (c Client) RouteDel(ctx context.Context, peer netip.Addr) error {
	return c.do(ctx, Request{Op: OpRouteDel, Peer: peer.String()}, nil)
}

// do sends one request and decodes the response into out (when not nil).
func (c Client) do(ctx context.Context, req Request, out any) error {
	path := c.Path
	if path == "" {
		path = DefaultPath
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Errorf("%w at %s: start it with `iaxcrypt up` or pass --control", ErrNoDaemon, path)
		case errors.Is(err, fs.ErrPermission):
			return fmt.Errorf("connect to control socket %s: %w (run as root)", path, err)
		}
		return fmt.Errorf("connect to control socket %s: %w", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	line, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", req.Op, err)
	}
	if _, err := conn.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("send %s request to %s: %w", req.Op, path, err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), 64<<20)
	if !sc.Scan() {
		err := sc.Err()
		if err == nil {
			err = errors.New("connection closed without an answer")
		}
		return fmt.Errorf("read %s response from %s: %w", req.Op, path, err)
	}
	var e errorResponse
	if json.Unmarshal(sc.Bytes(), &e) == nil && e.Error != "" {
		return &RemoteError{Op: req.Op, Msg: e.Error}
	}
	if out != nil {
		if err := json.Unmarshal(sc.Bytes(), out); err != nil {
			return fmt.Errorf("decode %s response from %s: %w", req.Op, path, err)
		}
	}
	return nil
}
