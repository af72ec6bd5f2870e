package load

import (
	"fmt"
	"io"
)

// PathReport is a caller's and a callee's reports put together: both
// directions of the calls with the loss counted against what the other
// side says it sent, and both together.
type PathReport struct {
	Setup    SetupReport `json:"setup"`
	CallerTo Direction   `json:"caller_to_callee"`
	CalleeTo Direction   `json:"callee_to_caller"`
	Both     Direction   `json:"both"`
	// CPUS is the CPU time of the two load processes.
	CPUS float64 `json:"load_cpu_s"`
}

// Direction is the voice of one direction (or both) of the calls.
type Direction struct {
	Sent       uint64        `json:"sent"`
	Received   uint64        `json:"received"`
	Lost       uint64        `json:"lost"`
	LossPct    float64       `json:"loss_pct"`
	Duplicates uint64        `json:"duplicates"`
	Reordered  uint64        `json:"reordered"`
	Corrupt    uint64        `json:"corrupt"`
	Misrouted  uint64        `json:"misrouted"`
	Latency    LatencyReport `json:"latency"`
	JitterMs   float64       `json:"jitter_mean_ms"`
}

func direction(from, to *Report) Direction {
	d := Direction{Sent: from.Sent.Voice, Received: to.Received.Frames, Duplicates: to.Received.Duplicates,
		Reordered: to.Received.Reordered, Corrupt: to.Received.Corrupt, Misrouted: to.Received.Misrouted,
		Latency: to.Received.Latency, JitterMs: to.Received.JitterMeanMs}
	if d.Sent > d.Received {
		d.Lost = d.Sent - d.Received
	}
	d.LossPct = pct(d.Lost, d.Sent)
	return d
}

// Merge puts a caller's and a callee's reports of the same run together.
// With an echoing callee the caller's report holds both ways of the
// echoed frames; its loss then counts the round trip.
func Merge(caller, callee *Report) (*PathReport, error) {
	if caller.Role != Caller.String() || callee.Role != Callee.String() {
		return nil, fmt.Errorf("%w: merge wants a caller's and a callee's report, got %s and %s", ErrConfig, caller.Role, callee.Role)
	}
	p := &PathReport{Setup: caller.Setup, CallerTo: direction(caller, callee), CalleeTo: direction(callee, caller),
		CPUS: caller.CPUUserS + caller.CPUSysS + callee.CPUUserS + callee.CPUSysS}
	if callee.Echo {
		// The callee's "sent" are echoes of what it received.
		p.CalleeTo.Sent = callee.Sent.Voice
	}
	a, b := p.CallerTo, p.CalleeTo
	hist := HistogramFromJSON(a.Latency.Hist)
	hist.Merge(HistogramFromJSON(b.Latency.Hist))
	p.Both = Direction{Sent: a.Sent + b.Sent, Received: a.Received + b.Received, Lost: a.Lost + b.Lost,
		Duplicates: a.Duplicates + b.Duplicates, Reordered: a.Reordered + b.Reordered, Corrupt: a.Corrupt + b.Corrupt,
		Misrouted: a.Misrouted + b.Misrouted, Latency: latency(hist), JitterMs: (a.JitterMs + b.JitterMs) / 2}
	p.Both.LossPct = pct(p.Both.Lost, p.Both.Sent)
	return p, nil
}

// WriteText writes a short human-readable summary of p.
func (p *PathReport) WriteText(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "%d calls attempted, %d answered, %d failed, %d unfinished; all up after %.0f ms (set-up p99 %.1f ms)\n",
		p.Setup.Attempted, p.Setup.Answered, p.Setup.Failed, p.Setup.Unfinished, p.Setup.AllUpMs, p.Setup.P99Ms); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		d    Direction
	}{{"caller to callee", p.CallerTo}, {"callee to caller", p.CalleeTo}, {"both ways", p.Both}} {
		if _, err := fmt.Fprintf(w, "  %-16s sent %d, received %d, lost %d (%.3f%%), %d duplicates, %d reordered, %d corrupt; p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, jitter %.3f ms\n",
			d.name, d.d.Sent, d.d.Received, d.d.Lost, d.d.LossPct, d.d.Duplicates, d.d.Reordered, d.d.Corrupt,
			d.d.Latency.P50Ms, d.d.Latency.P99Ms, d.d.Latency.P999Ms, d.d.Latency.MaxMs, d.d.JitterMs); err != nil {
			return err
		}
	}
	return nil
}
