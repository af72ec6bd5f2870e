package load

import (
	"context"
	"syscall"
	"time"
)

// drainAfterDone is how long a Caller keeps receiving after its last call
// ended, for frames still on their way.
const drainAfterDone = 300 * time.Millisecond

// maxDatagram is the largest datagram Run reads.
const maxDatagram = 4096

// now is the clock of the load: Unix nanoseconds, the clock of the
// kernel's receive timestamps, which every process of the host shares.
func now() int64 { return time.Now().UnixNano() }

// Run plays cfg's role over conn until a Caller is done or ctx ends, and
// returns the report. One goroutine does all the work, once every Tick:
// it reads what arrived (recvmmsg until the socket is empty), hands it to
// the Host, runs the Host's schedule, and sends everything the Host made
// in one sendmmsg. Latency is measured to the kernel's receive timestamp
// of each datagram where the socket gives one, so the wait for the next
// tick is not counted. Run closes conn.
func Run(ctx context.Context, cfg Config, conn BatchConn) (*Report, error) {
	defer conn.Close()
	user0, sys0 := cpuTimes()
	h, err := NewHost(cfg, now())
	if err != nil {
		return nil, err
	}
	cfg = h.Config()
	ds := make([]Datagram, batchMax)
	bufs := make([][]byte, batchMax)
	for i := range bufs {
		bufs[i] = make([]byte, maxDatagram)
	}
	var (
		out        Outbox
		sendErrors uint64
		lastErr    error
		runErr     error
		doneAt     int64
	)
	ticker := time.NewTicker(cfg.Tick)
	defer ticker.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-ticker.C:
		}
		t := now()
		for {
			for i := range ds {
				ds[i] = Datagram{Buf: bufs[i]}
			}
			n, err := conn.ReadBatch(ds)
			if err != nil {
				runErr = err
				break loop
			}
			for _, d := range ds[:n] {
				at := d.Stamp
				if at == 0 {
					at = t
				}
				h.Handle(at, d.Addr, d.Buf[:d.N], &out)
			}
			if n < len(ds) {
				break
			}
		}
		t = now()
		h.Tick(t, &out)
		if len(out.Datagrams) > 0 {
			n, err := conn.WriteBatch(out.Datagrams)
			if n < len(out.Datagrams) {
				sendErrors += uint64(len(out.Datagrams) - n)
				if err != nil {
					lastErr = err
				}
			}
			out.Reset()
		}
		if doneAt == 0 && h.Done(t) {
			doneAt = t
		}
		if doneAt > 0 && t-doneAt >= int64(drainAfterDone) {
			break
		}
	}
	r := h.Report(now())
	user1, sys1 := cpuTimes()
	r.CPUUserS, r.CPUSysS = user1-user0, sys1-sys0
	r.SendErrors = sendErrors
	if lastErr != nil {
		r.LastSendError = lastErr.Error()
	}
	return r, runErr
}

// cpuTimes returns the process's user and system CPU time in seconds.
func cpuTimes() (user, sys float64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return float64(ru.Utime.Nano()) / 1e9, float64(ru.Stime.Nano()) / 1e9
}
