package bench

import "fmt"

// Capacity rule: a level of calls is carried when every call was set up
// and ended, at most MaxLossPct of the voice frames were lost and the p99
// one-way latency stayed at or below MaxP99Ms.
const (
	MaxLossPct = 0.1
	MaxP99Ms   = 5.0
)

// Level is one step of a ramp on one path: N calls for the hold time.
type Level struct {
	Calls      int     `json:"calls"`
	Answered   uint64  `json:"answered"`
	Failed     uint64  `json:"failed"`
	Unfinished uint64  `json:"unfinished"`
	AllUpMs    float64 `json:"all_up_ms"` // first NEW to last ANSWER
	Sent       uint64  `json:"sent"`      // voice frames, both ways
	Received   uint64  `json:"received"`
	Lost       uint64  `json:"lost"`
	LossPct    float64 `json:"loss_pct"`
	Duplicates uint64  `json:"duplicates"`
	Corrupt    uint64  `json:"corrupt"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	P999Ms     float64 `json:"p999_ms"`
	MaxMs      float64 `json:"max_ms"`
	JitterMs   float64 `json:"jitter_ms"`
	// PPS is voice frames delivered per second of the run, both ways.
	PPS float64 `json:"pps"`
	// DaemonCPUS is the CPU time of both daemons (or wireguard-go peers)
	// during the level; CPUPerMpkt divides it by the voice frames
	// delivered, in millions.
	DaemonCPUS float64 `json:"daemon_cpu_s"`
	CPUPerMpkt float64 `json:"cpu_s_per_mpkt"`
	// DaemonRSS is the larger daemon's resident memory at the end of the
	// hold, in bytes.
	DaemonRSS uint64 `json:"daemon_rss"`
	// LoadCPUS is the CPU time of the two load-generator processes.
	LoadCPUS float64 `json:"load_cpu_s"`
	// Err says why the level could not be measured.
	Err string `json:"err,omitempty"`
}

// Carried says whether the level meets the capacity rule.
func (l Level) Carried() bool {
	return l.Err == "" && l.Calls > 0 && l.Answered == uint64(l.Calls) && l.Failed == 0 && l.Unfinished == 0 &&
		l.Sent > 0 && l.LossPct <= MaxLossPct && l.P99Ms <= MaxP99Ms
}

// Why says in a few words why a level was not carried ("" if it was).
func (l Level) Why() string {
	switch {
	case l.Err != "":
		return l.Err
	case l.Answered < uint64(l.Calls) || l.Failed > 0 || l.Unfinished > 0:
		return fmt.Sprintf("%d of %d calls not set up or ended", uint64(l.Calls)-min(l.Answered, uint64(l.Calls))+l.Failed+l.Unfinished, l.Calls)
	case l.LossPct > MaxLossPct:
		return fmt.Sprintf("loss %.2f%%", l.LossPct)
	case l.P99Ms > MaxP99Ms:
		return fmt.Sprintf("p99 %.1f ms", l.P99Ms)
	}
	return ""
}

// Path is one data path's ramp.
type Path struct {
	Name   string  `json:"name"`  // direct, off, encrypted, wireguard
	Title  string  `json:"title"` // for the table
	Levels []Level `json:"levels"`
}

// Capacity is the largest level the path carried whose every smaller
// level was carried too, and whether there is one.
func (p Path) Capacity() (Level, bool) {
	var best Level
	ok := false
	for _, l := range p.Levels {
		if !l.Carried() {
			break
		}
		best, ok = l, true
	}
	return best, ok
}

// At returns the level with n calls.
func (p Path) At(n int) (Level, bool) {
	for _, l := range p.Levels {
		if l.Calls == n {
			return l, true
		}
	}
	return Level{}, false
}

// Machine is where the benchmark ran.
type Machine struct {
	Date      string `json:"date"`
	CPUs      int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go"`
	LoadAvg   string `json:"loadavg"` // /proc/loadavg when the run started
	Commit    string `json:"commit"`
}

// Memory is the call-table measurement: many silent calls held through
// two encrypting daemons.
type Memory struct {
	Calls        int     `json:"calls"`
	Answered     uint64  `json:"answered"`
	BaseRSS      uint64  `json:"base_rss"`       // before the calls (larger daemon)
	PeakRSS      uint64  `json:"peak_rss"`       // all calls up (larger daemon)
	PerCallBytes float64 `json:"per_call_bytes"` // (peak - base) / calls
	// The live heap after a collection (the daemon's /debug/heap), the
	// larger daemon's: what the daemon holds per call, without the
	// garbage and the Go runtime's headroom that RSS includes.
	BaseHeap         uint64  `json:"base_heap"`
	PeakHeap         uint64  `json:"peak_heap"`
	PerCallHeapBytes float64 `json:"per_call_heap_bytes"`
}

// Setup is a burst of call set-ups through two encrypting daemons.
type Setup struct {
	Calls    int     `json:"calls"`
	Rate     float64 `json:"offered_per_s"`
	Answered uint64  `json:"answered"`
	Failed   uint64  `json:"failed"`
	AllUpMs  float64 `json:"all_up_ms"`
	P99Ms    float64 `json:"p99_ms"`
}

// Run is everything one benchmark run measured.
type Run struct {
	Machine Machine `json:"machine"`
	// HoldS is how long all the calls of a level were up together;
	// SetupRate how many were set up per second before.
	HoldS     float64 `json:"hold_s"`
	SetupRate float64 `json:"setup_rate"`
	Paths     []Path  `json:"paths"`
	Memory    *Memory `json:"memory,omitempty"`
	Setup     *Setup  `json:"setup,omitempty"`
}

// Path returns the path called name.
func (r *Run) Path(name string) (Path, bool) {
	for _, p := range r.Paths {
		if p.Name == name {
			return p, true
		}
	}
	return Path{}, false
}
