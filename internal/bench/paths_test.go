//go:build netbench && linux

package bench

import (
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	flagLevels   = flag.String("levels", "100,200,300,500,1000,1500,2000", "numbers of calls to ramp through")
	flagHold     = flag.Duration("hold", 10*time.Second, "how long all the calls of a level are up together")
	flagRate     = flag.Float64("setup-rate", 100, "calls set up per second in the ramp")
	flagPaths    = flag.String("paths", "direct,off,encrypted,wireguard", "paths to measure, in order")
	flagDoc      = flag.String("doc", "", "splice the results into this Markdown file (docs/benchmarks.md); the plot goes next to it")
	flagMemCalls = flag.Int("mem-calls", 10000, "silent calls held for the memory measurement (0: skip)")
	flagLock     = flag.String("lock", "/tmp/iaxcrypt-e2e.lock", "the team's lock for heavy tests, taken for each path")
)

var pathTitles = map[string]string{
	"direct":    "direct (no daemon)",
	"off":       "two iaxcrypt daemons, `--policy off`",
	"encrypted": "two iaxcrypt daemons, encrypting",
	"wireguard": "two wireguard-go peers",
}

// TestBenchPaths is `make bench`'s side-by-side run: the same load through
// every path, ramping the calls, then a set-up burst and the call table's
// memory through encrypting daemons. It takes the team lock for one path
// at a time.
func TestBenchPaths(t *testing.T) {
	var levels []int
	for _, s := range strings.Split(*flagLevels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			t.Fatalf("-levels %q: %q is not a number of calls", *flagLevels, s)
		}
		levels = append(levels, n)
	}
	buildBinaries(t)
	run := &Run{Machine: machine(), HoldS: flagHold.Seconds(), SetupRate: *flagRate}
	for _, name := range strings.Split(*flagPaths, ",") {
		t.Run(name, func(t *testing.T) {
			defer teamLock(t, *flagLock)()
			run.Paths = append(run.Paths, benchPath(t, name, levels))
		})
	}
	if *flagMemCalls > 0 {
		t.Run("setup-and-memory", func(t *testing.T) {
			defer teamLock(t, *flagLock)()
			run.Setup, run.Memory = benchSetupAndMemory(t, *flagMemCalls)
		})
	}
	if *flagDoc != "" {
		if err := WriteDoc(*flagDoc, dirOf(*flagDoc), "benchmarks.svg", run); err != nil {
			t.Fatal(err)
		}
		js, _ := json.MarshalIndent(run, "", "  ")
		if err := os.WriteFile(strings.TrimSuffix(*flagDoc, ".md")+".json", append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", *flagDoc)
	}
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return "."
}

// benchPath ramps one path through the levels. Once a level loses more
// than 10% or fails more than a tenth of its calls, the bigger ones are
// not run (they would only take the lock longer).
func benchPath(t *testing.T, name string, levels []int) Path {
	p := Path{Name: name, Title: pathTitles[name]}
	r := newRig(t, name)
	var stop string
	for _, n := range levels {
		if stop != "" {
			p.Levels = append(p.Levels, Level{Calls: n, Err: stop})
			continue
		}
		l := benchLevel(t, r, n)
		p.Levels = append(p.Levels, l)
		t.Logf("%s %d calls: set up %d/%d, loss %.3f%%, p50 %.2f ms, p99 %.2f ms, %.0f frames/s, daemon CPU %.2f s (%.2f s/Mframe), RSS %s, load CPU %.1f s",
			name, n, l.Answered, n, l.LossPct, l.P50Ms, l.P99Ms, l.PPS, l.DaemonCPUS, l.CPUPerMpkt, mib(l.DaemonRSS), l.LoadCPUS)
		if l.LossPct > 10 || float64(l.Failed+l.Unfinished) > 0.1*float64(n) {
			stop = "not run: the path broke down at " + strconv.Itoa(n) + " calls"
		}
	}
	return p
}

// benchLevel runs one level: calls set up at -setup-rate, each held long
// enough for all of them to be up together for -hold (a burst of set-ups
// is measured on its own, in benchSetupAndMemory).
func benchLevel(t *testing.T, r *rig, calls int) Level {
	hold := *flagHold + time.Duration(float64(calls) / *flagRate * float64(time.Second))
	cpu0 := r.cpu(t)
	var rss uint64
	pr, ra, rb := r.run(t, loadRun{calls: calls, hold: hold, rate: *flagRate, sampleFn: func() { rss = max(rss, r.rss()) }})
	cpu := r.cpu(t) - cpu0
	r.checkAlive(t)
	b := pr.Both
	l := Level{
		Calls: calls, Answered: pr.Setup.Answered, Failed: pr.Setup.Failed, Unfinished: pr.Setup.Unfinished,
		AllUpMs: pr.Setup.AllUpMs, Sent: b.Sent, Received: b.Received, Lost: b.Lost, LossPct: b.LossPct,
		Duplicates: b.Duplicates, Corrupt: b.Corrupt, P50Ms: b.Latency.P50Ms, P99Ms: b.Latency.P99Ms,
		P999Ms: b.Latency.P999Ms, MaxMs: b.Latency.MaxMs, JitterMs: b.JitterMs,
		PPS: float64(b.Received) / hold.Seconds(), DaemonCPUS: cpu.Seconds(), DaemonRSS: rss,
		LoadCPUS: ra.CPUUserS + ra.CPUSysS + rb.CPUUserS + rb.CPUSysS,
	}
	if b.Received > 0 {
		l.CPUPerMpkt = l.DaemonCPUS / (float64(b.Received) / 1e6)
	}
	return l
}

// benchSetupAndMemory measures, through two encrypting daemons, a burst
// of 1,000 set-ups offered within 200 ms, and the resident memory of the
// call table with memCalls silent calls held.
func benchSetupAndMemory(t *testing.T, memCalls int) (*Setup, *Memory) {
	r := newRig(t, "encrypted")
	const burst, burstRate = 1000, 5000
	pr, _, _ := r.run(t, loadRun{calls: burst, hold: 2 * time.Second, rate: burstRate, silent: true})
	s := &Setup{Calls: burst, Rate: burstRate, Answered: pr.Setup.Answered, Failed: pr.Setup.Failed + pr.Setup.Unfinished,
		AllUpMs: pr.Setup.AllUpMs, P99Ms: pr.Setup.P99Ms}
	t.Logf("set-up burst: %d of %d calls up after %.0f ms (p99 %.1f ms), %d failed", s.Answered, burst, s.AllUpMs, s.P99Ms, s.Failed)
	r.checkAlive(t)

	// The table's memory: a fresh pair of daemons, so the burst's ended
	// calls do not count.
	r = newRig(t, "encrypted")
	time.Sleep(time.Second) // let the daemons settle after start-up before the baseline
	m := &Memory{Calls: memCalls, BaseRSS: r.rss(), BaseHeap: r.heap()}
	samples := 0
	pr, _, _ = r.run(t, loadRun{calls: memCalls, hold: 20 * time.Second, rate: 2000, silent: true,
		sampleFn: func() {
			m.PeakRSS = max(m.PeakRSS, r.rss())
			// The live heap costs the daemons a collection: every 2 s.
			if samples++; samples%8 == 0 {
				m.PeakHeap = max(m.PeakHeap, r.heap())
			}
		}})
	r.checkAlive(t)
	m.Answered = pr.Setup.Answered
	if m.PeakRSS > m.BaseRSS {
		m.PerCallBytes = float64(m.PeakRSS-m.BaseRSS) / float64(memCalls)
	}
	if m.PeakHeap > m.BaseHeap {
		m.PerCallHeapBytes = float64(m.PeakHeap-m.BaseHeap) / float64(memCalls)
	}
	t.Logf("memory: %d of %d calls up, RSS %s → %s (%.0f bytes per call), live heap %s → %s (%.0f bytes per call)", m.Answered, memCalls,
		mib(m.BaseRSS), mib(m.PeakRSS), m.PerCallBytes, mib(m.BaseHeap), mib(m.PeakHeap), m.PerCallHeapBytes)
	return s, m
}
