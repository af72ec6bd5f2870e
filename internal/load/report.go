package load

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Report is what one Host saw: its calls' set-up, what it sent, and the
// voice it received (one direction of the calls). Merge puts a caller's
// and a callee's reports together.
type Report struct {
	Role     string  `json:"role"`
	Target   string  `json:"target,omitempty"`
	Trunk    bool    `json:"trunk"`
	Echo     bool    `json:"echo,omitempty"`
	Silent   bool    `json:"silent,omitempty"`
	ElapsedS float64 `json:"elapsed_s"`
	// CPU is the process's own CPU time (user and system), when Run
	// measured it.
	CPUUserS float64 `json:"cpu_user_s"`
	CPUSysS  float64 `json:"cpu_sys_s"`

	Setup    SetupReport    `json:"setup"`
	Sent     SentReport     `json:"sent"`
	Received ReceivedReport `json:"received"`
	// Anomalies that are not voice.
	Foreign      uint64 `json:"foreign"`        // datagrams that are not IAX2 or not iaxload's voice
	UnknownCall  uint64 `json:"unknown_call"`   // frames for no call of this host
	OutOfOrder   uint64 `json:"out_of_order"`   // full frames after a gap (answered with VNAK)
	NoCallNumber uint64 `json:"no_call_number"` // calls not placed or answered: all call numbers in use
	// SendErrors counts datagrams the socket refused; LastSendError says
	// why the last one was.
	SendErrors    uint64 `json:"send_errors"`
	LastSendError string `json:"last_send_error,omitempty"`

	PerCall []CallReport `json:"per_call,omitempty"`
}

// SetupReport counts the calls and times their set-up (a Caller's first
// NEW to the ANSWER).
type SetupReport struct {
	Attempted  uint64  `json:"attempted"`
	Answered   uint64  `json:"answered"`
	Failed     uint64  `json:"failed"`
	Unfinished uint64  `json:"unfinished"` // still in progress when the report was made
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	// AllUpMs is the time from the first NEW to the last ANSWER.
	AllUpMs float64 `json:"all_up_ms"`
}

// SentReport counts what the Host sent.
type SentReport struct {
	Voice       uint64 `json:"voice"` // voice frames (full, mini or trunk entries)
	Full        uint64 `json:"full"`  // full frames, retransmissions not included
	Retransmits uint64 `json:"retransmits"`
	TrunkFrames uint64 `json:"trunk_frames"`
}

// ReceivedReport describes the voice the Host received.
type ReceivedReport struct {
	Frames     uint64        `json:"frames"` // first arrivals
	Expected   uint64        `json:"expected"`
	Lost       uint64        `json:"lost"` // Expected - Frames: frames after the last one received are not seen
	Duplicates uint64        `json:"duplicates"`
	Reordered  uint64        `json:"reordered"`
	Late       uint64        `json:"late"`
	Corrupt    uint64        `json:"corrupt"`
	Misrouted  uint64        `json:"misrouted"`
	Latency    LatencyReport `json:"latency"`
	// JitterMs is the mean and the largest of the calls' RFC 3550 jitter.
	JitterMeanMs float64 `json:"jitter_mean_ms"`
	JitterMaxMs  float64 `json:"jitter_max_ms"`
	// EchoForward is, for a Caller whose callee echoes, the latency of
	// the way there (Latency is then the way back).
	EchoForward *LatencyReport `json:"echo_forward,omitempty"`
}

// LatencyReport gives one-way latency percentiles, and the histogram they
// come from so that reports can be merged.
type LatencyReport struct {
	P50Ms  float64       `json:"p50_ms"`
	P99Ms  float64       `json:"p99_ms"`
	P999Ms float64       `json:"p999_ms"`
	MaxMs  float64       `json:"max_ms"`
	MeanMs float64       `json:"mean_ms"`
	Hist   HistogramJSON `json:"hist"`
}

// CallReport is one call, as the Host saw it.
type CallReport struct {
	Index       uint32  `json:"index"`
	Local       uint16  `json:"local"`
	Remote      uint16  `json:"remote"`
	State       string  `json:"state"`
	Reason      string  `json:"reason,omitempty"`
	SetupMs     float64 `json:"setup_ms,omitempty"`
	Sent        uint64  `json:"sent"`
	Received    uint64  `json:"received"`
	Expected    uint64  `json:"expected"`
	Duplicates  uint64  `json:"duplicates,omitempty"`
	Reordered   uint64  `json:"reordered,omitempty"`
	Corrupt     uint64  `json:"corrupt,omitempty"`
	Misrouted   uint64  `json:"misrouted,omitempty"`
	Retransmits uint64  `json:"retransmits,omitempty"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	P999Ms      float64 `json:"p999_ms"`
	MaxMs       float64 `json:"max_ms"`
	JitterMs    float64 `json:"jitter_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func latency(h *Histogram) LatencyReport {
	return LatencyReport{P50Ms: ms(h.Quantile(0.5)), P99Ms: ms(h.Quantile(0.99)), P999Ms: ms(h.Quantile(0.999)),
		MaxMs: ms(h.Max()), MeanMs: ms(h.Mean()), Hist: h.JSON()}
}

// fold adds c's figures to the totals, once.
func (h *Host) fold(c *call) {
	if c.counted {
		return
	}
	c.counted = true
	foldInto(&h.totals, c)
}

func foldInto(t *totals, c *call) {
	t.rx.Unique += c.rx.Unique
	t.rx.Duplicates += c.rx.Duplicates
	t.rx.Reordered += c.rx.Reordered
	t.rx.Late += c.rx.Late
	t.rxExpected += c.rx.Expected()
	t.rxLatency.Merge(&c.rx.Latency)
	t.corrupt += c.corrupt
	t.misrouted += c.misrouted
	if c.rx.Unique > 1 {
		t.jitterSum += c.rx.JitterNs()
		t.jitterMax = max(t.jitterMax, c.rx.JitterNs())
		t.jitterCalls++
	}
}

func (h *Host) callReport(c *call) CallReport {
	state := c.phase.String()
	r := CallReport{Index: c.index, Local: c.local, Remote: c.remote, State: state, Reason: c.reason,
		Sent: c.txVoice, Received: c.rx.Unique, Expected: c.rx.Expected(), Duplicates: c.rx.Duplicates,
		Reordered: c.rx.Reordered, Corrupt: c.corrupt, Misrouted: c.misrouted, Retransmits: c.retransmits,
		P50Ms: ms(c.rx.Latency.Quantile(0.5)), P99Ms: ms(c.rx.Latency.Quantile(0.99)), P999Ms: ms(c.rx.Latency.Quantile(0.999)),
		MaxMs: ms(c.rx.Latency.Max()), JitterMs: c.rx.JitterNs() / 1e6}
	if c.answered > 0 && h.cfg.Role == Caller {
		r.SetupMs = float64(c.answered-c.start) / 1e6
	}
	return r
}

// Report describes everything so far: calls freed and calls still held.
// It does not change the Host.
func (h *Host) Report(now int64) *Report {
	t := h.totals // a copy: calls still held are folded into it only
	t.rxLatency = Histogram{}
	t.rxLatency.Merge(&h.totals.rxLatency)
	per := slices.Clone(h.done)
	for _, c := range h.calls {
		if c == nil {
			continue
		}
		if !c.counted {
			foldInto(&t, c)
		}
		if c.live() {
			t.unfinished++
		}
		if h.cfg.PerCall {
			per = append(per, h.callReport(c))
		}
	}
	slices.SortFunc(per, func(a, b CallReport) int { return int(a.Index) - int(b.Index) })
	r := &Report{
		Role: h.cfg.Role.String(), Trunk: h.cfg.Trunk, Echo: h.cfg.Echo, Silent: h.cfg.Silent,
		ElapsedS: float64(now-h.begin) / 1e9,
		Setup: SetupReport{Attempted: t.attempted, Answered: t.answered, Failed: t.failed, Unfinished: t.unfinished,
			P50Ms: ms(t.setup.Quantile(0.5)), P99Ms: ms(t.setup.Quantile(0.99)), MaxMs: ms(t.setup.Max())},
		Sent: SentReport{Voice: t.txVoice, Full: t.txFull, Retransmits: t.retransmits, TrunkFrames: t.txTrunkFrames},
		Received: ReceivedReport{Frames: t.rx.Unique, Expected: t.rxExpected, Duplicates: t.rx.Duplicates,
			Reordered: t.rx.Reordered, Late: t.rx.Late, Corrupt: t.corrupt, Misrouted: t.misrouted,
			Latency: latency(&t.rxLatency), JitterMaxMs: t.jitterMax / 1e6},
		Foreign: t.foreign, UnknownCall: t.unknownCall, OutOfOrder: t.outOfOrder, NoCallNumber: t.noCallNumber,
		PerCall: per,
	}
	if r.Received.Expected > r.Received.Frames {
		r.Received.Lost = r.Received.Expected - r.Received.Frames
	}
	if t.jitterCalls > 0 {
		r.Received.JitterMeanMs = t.jitterSum / float64(t.jitterCalls) / 1e6
	}
	if t.answered > 0 && t.firstNew > 0 {
		r.Setup.AllUpMs = float64(t.lastAnswer-t.firstNew) / 1e6
	}
	if h.cfg.Role == Caller {
		r.Target = h.cfg.Target.String()
		if t.echoForward.Count() > 0 {
			l := latency(&t.echoForward)
			r.Received.EchoForward = &l
		}
	}
	return r
}

// WriteText writes a short human-readable summary of r.
func (r *Report) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, `%s: %d calls attempted, %d answered, %d failed, %d unfinished (set-up p50 %.1f ms, p99 %.1f ms, all up after %.0f ms)
  sent: %d voice frames, %d full frames, %d retransmissions, %d trunk frames
  received: %d voice frames of %d expected (%d lost, %.3f%%), %d duplicates, %d reordered, %d corrupt, %d misrouted
  one-way latency: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms; jitter mean %.3f ms, max %.3f ms
  elapsed %.1f s, CPU %.2f s user + %.2f s system
`, r.Role, r.Setup.Attempted, r.Setup.Answered, r.Setup.Failed, r.Setup.Unfinished, r.Setup.P50Ms, r.Setup.P99Ms, r.Setup.AllUpMs,
		r.Sent.Voice, r.Sent.Full, r.Sent.Retransmits, r.Sent.TrunkFrames,
		r.Received.Frames, r.Received.Expected, r.Received.Lost, pct(r.Received.Lost, r.Received.Expected),
		r.Received.Duplicates, r.Received.Reordered, r.Received.Corrupt, r.Received.Misrouted,
		r.Received.Latency.P50Ms, r.Received.Latency.P99Ms, r.Received.Latency.P999Ms, r.Received.Latency.MaxMs,
		r.Received.JitterMeanMs, r.Received.JitterMaxMs, r.ElapsedS, r.CPUUserS, r.CPUSysS)
	return err
}

func pct(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
