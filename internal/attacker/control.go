package attacker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// The control protocol: one JSON object a line each way on a unix socket.
// A request is {"op":"set","settings":{...}} or {"op":"counters"}; the
// answer is {"counters":{...}} or {"error":"..."}.

// Request is one line a control client sends.
type Request struct {
	Op       string    `json:"op"`
	Settings *Settings `json:"settings,omitempty"`
}

// Response is the answer to a Request.
type Response struct {
	Error    string    `json:"error,omitempty"`
	Counters *Counters `json:"counters,omitempty"`
}

// Control operations.
const (
	OpSet      = "set"
	OpCounters = "counters"
)

// Serve answers control requests on l until it is closed.
func Serve(l net.Listener, a *Attacker) error {
	for {
		conn, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("attacker: control socket: %w", err)
		}
		go serveConn(conn, a)
	}
}

func serveConn(conn net.Conn, a *Attacker) {
	defer conn.Close()
	sc := bufio.NewScanner(conn)
	enc := json.NewEncoder(conn)
	for sc.Scan() {
		var req Request
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = fmt.Sprintf("bad request %q: %v", sc.Text(), err)
		} else {
			resp = answer(a, req)
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func answer(a *Attacker, req Request) Response {
	switch req.Op {
	case OpSet:
		if req.Settings == nil {
			return Response{Error: "set: no settings"}
		}
		if err := a.Set(*req.Settings); err != nil {
			return Response{Error: err.Error()}
		}
		c := a.Counters(time.Now())
		return Response{Counters: &c}
	case OpCounters:
		c := a.Counters(time.Now())
		return Response{Counters: &c}
	}
	return Response{Error: fmt.Sprintf("unknown op %q: want %q or %q", req.Op, OpSet, OpCounters)}
}

// Client talks to a running attack program.
type Client struct {
	conn net.Conn
	sc   *bufio.Scanner
}

// Dial connects to the control socket at path.
func Dial(path string) (*Client, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("attacker: dial control socket %s: %w", path, err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	return &Client{conn: conn, sc: sc}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) do(req Request) (Counters, error) {
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := json.Marshal(req)
	if err != nil {
		return Counters{}, err
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return Counters{}, fmt.Errorf("attacker: control request %s: %w", req.Op, err)
	}
	if !c.sc.Scan() {
		err := c.sc.Err()
		if err == nil {
			err = errors.New("connection closed")
		}
		return Counters{}, fmt.Errorf("attacker: control answer to %s: %w", req.Op, err)
	}
	var resp Response
	if err := json.Unmarshal(c.sc.Bytes(), &resp); err != nil {
		return Counters{}, fmt.Errorf("attacker: control answer %q: %w", c.sc.Text(), err)
	}
	if resp.Error != "" {
		return Counters{}, fmt.Errorf("attacker: %s: %s", req.Op, resp.Error)
	}
	if resp.Counters == nil {
		return Counters{}, fmt.Errorf("attacker: %s: answer without counters", req.Op)
	}
	return *resp.Counters, nil
}

// Set switches the attacker's mode and returns its fresh counters.
func (c *Client) Set(s Settings) (Counters, error) {
	return c.do(Request{Op: OpSet, Settings: &s})
}

// Counters returns the attacker's counters.
func (c *Client) Counters() (Counters, error) {
	return c.do(Request{Op: OpCounters})
}
