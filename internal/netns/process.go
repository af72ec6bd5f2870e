package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a background command running inside a namespace. Its combined
// output is kept; the test's cleanup stops it and, if the test failed, logs
// the end of its output.
type Process struct {
	// Name labels the process in messages.
	Name string
	// Cmd is the running command; do not Wait on it (use Wait or Done).
	Cmd *exec.Cmd

	out  *lockedBuffer
	done chan struct{}
	err  error // valid after done is closed
}

// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
const StopGrace = 3 * time.Second

// Start starts name with args in the namespace as a background process,
// killed at test cleanup. label names it in messages (the program name if
// empty). The process gets its own process group, so Stop ends anything it
// started and nothing else. The test fails if it cannot be started.
func (h *Host) Start(label, name string, args ...string) *Process {
	h.t.Helper()
	p, err := h.StartCmd(label, h.Command(context.Background(), name, args...))
	if err != nil {
		h.t.Fatalf("%v", err)
	}
	return p
}

// StartCmd starts cmd, which should come from h.Command (its Stdout and
// Stderr are replaced), as a background process killed at test cleanup.
func (h *Host) StartCmd(label string, cmd *exec.Cmd) (*Process, error) {
	if label == "" && len(cmd.Args) > 4 {
		label = cmd.Args[4]
	}
	p := &Process{Name: fmt.Sprintf("%s[%s]", label, h.Name), Cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("netns %s: starting %s: %w", h.Name, strings.Join(cmd.Args, " "), err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t := h.t
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Logf("%s: stop: %v", p.Name, err)
		}
		if t.Failed() {
			t.Logf("%s output (last 4 KiB):\n%s", p.Name, tail(p.Output(), 4096))
		}
	})
	return p, nil
}

// Output returns everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode returns the process's exit status, or -1 if it is still running
// or was ended by a signal.
func (p *Process) ExitCode() int {
	if !p.Exited() || p.Cmd.ProcessState == nil {
		return -1
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Wait waits for the process to exit or ctx to end, and returns its exit
// error (an *exec.ExitError for a non-zero status) or ctx's error.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", p.Name, ctx.Err())
	}
}

// Signal sends sig to the process's group.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	if err := syscall.Kill(-p.Cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s: signal %v: %w", p.Name, sig, err)
	}
	return nil
}

// Stop ends the process: SIGTERM to its group, SIGKILL after StopGrace.
// It returns once the process has exited; stopping a stopped process is a
// no-op.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(StopGrace):
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(StopGrace):
		return fmt.Errorf("%s: still running after SIGKILL", p.Name)
	}
}

// WaitOutput waits until the process's output contains s, failing the test
// after timeout or if the process exits first.
func (p *Process) WaitOutput(t testing.TB, timeout time.Duration, s string) {
	t.Helper()
	WaitFor(t, timeout, func() (bool, string) {
		if strings.Contains(p.Output(), s) {
			return true, ""
		}
		if p.Exited() {
			return false, fmt.Sprintf("%s exited (%v) before printing %q; output:\n%s", p.Name, p.err, s, tail(p.Output(), 2048))
		}
		return false, fmt.Sprintf("%s has not printed %q; output so far:\n%s", p.Name, s, tail(p.Output(), 2048))
	})
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// command's stdout and stderr and reads from the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
