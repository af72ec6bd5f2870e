package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// BeginMarker and EndMarker surround the part of docs/benchmarks.md that
// `make name` writes (name is bench or soak); the rest of the file
// (profiles, analysis) is kept as it is.
func BeginMarker(name string) string {
	return "<!-- " + name + ":begin (written by make " + name + "; edits between these markers are lost) -->"
}

// EndMarker: see BeginMarker.
func EndMarker(name string) string { return "<!-- " + name + ":end -->" }

// Splice replaces what lies between name's markers in doc with section,
// or appends the markers and section when doc has none.
func Splice(doc, name, section string) string {
	begin, end := BeginMarker(name), EndMarker(name)
	block := begin + "\n" + section + end + "\n"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		return doc + block
	}
	return doc[:i] + block + strings.TrimPrefix(doc[j+len(end):], "\n")
}

// SpliceFile splices section into the file at path (created if missing).
func SpliceFile(path, name, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(Splice(string(old), name, section)), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteDoc splices r's section into the Markdown file at path (created if
// missing) and writes the plot next to it as svgName.
func WriteDoc(path, svgDir, svgName string, r *Run) error {
	var sec bytes.Buffer
	if err := WriteSection(&sec, r, svgName); err != nil {
		return err
	}
	if err := SpliceFile(path, "bench", sec.String()); err != nil {
		return err
	}
	var svg bytes.Buffer
	if err := Plot(&svg, r); err != nil {
		return err
	}
	if err := os.WriteFile(svgDir+"/"+svgName, svg.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the plot: %w", err)
	}
	return nil
}

func mib(b uint64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func msOr(l Level, ok bool) string {
	if !ok || l.Err != "" || l.Sent == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", l.P99Ms)
}

// WriteSection writes the generated Markdown: machine, summary table,
// plot, every level, and the targets with what was met.
func WriteSection(w io.Writer, r *Run, svgName string) error {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "### Results of %s\n\n", m.Date)
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), Linux %s, %s, commit %s; load average when the run started: %s.\n",
		m.CPUs, m.CPUModel, m.Kernel, m.GoVersion, m.Commit, m.LoadAvg)
	b.WriteString("This machine is shared with other engineers' builds and tests: absolute figures move from run to run; " +
		"compare the paths **within one run** (ratios), which all ran under the same conditions one after the other.\n\n")
	fmt.Fprintf(&b, "Load: G.711 calls from `iaxload` (160-byte voice every 20 ms in both directions: a full voice frame, then mini frames), "+
		"set up at %.0f calls/s and held so that all the calls of a level are up together for %.0f s; a burst of set-ups is measured on its own (Targets). "+
		"One-way latency from the send time in each frame to the kernel's receive timestamp at the other end, over the whole level. "+
		"Capacity: the most calls with every call set up, loss ≤ %.1f%% and p99 ≤ %.0f ms (every smaller level too). "+
		"CPU: utime+stime of both daemons (or both wireguard-go peers) from /proc/PID/stat, per million voice frames delivered.\n\n",
		r.SetupRate, r.HoldS, MaxLossPct, MaxP99Ms)

	b.WriteString("| path | capacity (calls) | voice frames/s at capacity | daemon CPU s per million frames (at capacity) | p99 at 100 calls | p99 at 500 calls | daemon RSS (largest) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, p := range r.Paths {
		c, ok := p.Capacity()
		capS, pps, cpu := "below the first level", "–", "–"
		if ok {
			capS = fmt.Sprint(c.Calls)
			pps = fmt.Sprintf("%.0f", c.PPS)
			if c.DaemonCPUS > 0 {
				cpu = fmt.Sprintf("%.2f", c.CPUPerMpkt)
			}
		}
		var rss uint64
		for _, l := range p.Levels {
			rss = max(rss, l.DaemonRSS)
		}
		l100, ok100 := p.At(100)
		l500, ok500 := p.At(500)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", p.Title, capS, pps, cpu, msOr(l100, ok100), msOr(l500, ok500), mib(rss))
	}
	fmt.Fprintf(&b, "\n![p99 one-way latency and loss against the number of calls, per path](%s)\n\n", svgName)

	b.WriteString("#### Every level\n\n")
	b.WriteString("| path | calls | set up (all up after) | sent | loss | dup | p50 | p99 | p99.9 | max | jitter | frames/s | daemon CPU s (s/Mframe) | daemon RSS | load CPU s | carried |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Paths {
		for _, l := range p.Levels {
			if l.Err != "" && l.Sent == 0 {
				fmt.Fprintf(&b, "| %s | %d | – | – | – | – | – | – | – | – | – | – | – | – | – | no: %s |\n", p.Title, l.Calls, l.Err)
				continue
			}
			carried := "yes"
			if !l.Carried() {
				carried = "no: " + l.Why()
			}
			cpu := "–"
			if l.DaemonCPUS > 0 {
				cpu = fmt.Sprintf("%.2f (%.2f)", l.DaemonCPUS, l.CPUPerMpkt)
			}
			fmt.Fprintf(&b, "| %s | %d | %d/%d (%.0f ms) | %d | %.3f%% | %d | %.2f | %.2f | %.2f | %.1f | %.2f | %.0f | %s | %s | %.1f | %s |\n",
				p.Title, l.Calls, l.Answered, l.Calls, l.AllUpMs, l.Sent, l.LossPct, l.Duplicates, l.P50Ms, l.P99Ms, l.P999Ms, l.MaxMs, l.JitterMs,
				l.PPS, cpu, mib(l.DaemonRSS), l.LoadCPUS, carried)
		}
	}
	b.WriteString("\nLatencies in ms.\n\n")
	writeTargets(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTargets compares the run with the targets.
func writeTargets(b *strings.Builder, r *Run) {
	b.WriteString("#### Targets\n\n| target | this run | met |\n|---|---|---|\n")
	row := func(target, got string, met bool, known bool) {
		m := "no"
		switch {
		case !known:
			m = "not measured"
		case met:
			m = "yes"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", target, got, m)
	}
	capOf := func(name string) (int, bool) {
		p, ok := r.Path(name)
		if !ok {
			return 0, false
		}
		c, _ := p.Capacity()
		return c.Calls, true
	}
	enc, okE := capOf("encrypted")
	dir, okD := capOf("direct")
	off, okO := capOf("off")
	wg, okW := capOf("wireguard")
	ratio := func(a, b int) string {
		if b == 0 {
			return "∞"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
	}
	row("encrypted capacity ≥ 50% of the direct path", fmt.Sprintf("%d of %d calls (%s)", enc, dir, ratio(enc, dir)), 2*enc >= dir && enc > 0, okE && okD)
	wgX := "∞"
	if wg > 0 {
		wgX = fmt.Sprintf("%.1f×", float64(enc)/float64(wg))
	}
	row("encrypted capacity ≥ 5× wireguard-go's", fmt.Sprintf("%d vs %d calls (%s)", enc, wg, wgX), enc > 0 && enc >= 5*wg, okE && okW)
	row("encrypted capacity ≥ 90% of `--policy off`", fmt.Sprintf("%d of %d calls (%s)", enc, off, ratio(enc, off)), enc > 0 && 10*enc >= 9*off, okE && okO)
	pe, _ := r.Path("encrypted")
	pd, _ := r.Path("direct")
	le, okle := pe.At(500)
	ld, okld := pd.At(500)
	known := okle && okld && le.Sent > 0 && ld.Sent > 0
	added := le.P99Ms - ld.P99Ms
	row("p99 added one-way latency < 1 ms at 500 calls (encrypted p99 − direct p99)",
		fmt.Sprintf("%.2f − %.2f = %.2f ms", le.P99Ms, ld.P99Ms, added), known && added < 1, known)
	if s := r.Setup; s != nil {
		row(fmt.Sprintf("%d calls set up within one second, all succeed (offered at %.0f/s)", s.Calls, s.Rate),
			fmt.Sprintf("%d of %d up after %.0f ms, %d failed", s.Answered, s.Calls, s.AllUpMs, s.Failed),
			s.Answered == uint64(s.Calls) && s.Failed == 0 && s.AllUpMs <= 1000, true)
	} else {
		row("1,000 calls set up within one second, all succeed", "–", false, false)
	}
	if m := r.Memory; m != nil {
		row(fmt.Sprintf("memory per tracked call < 2 KiB (%d calls; the daemon's live heap after a collection)", m.Calls),
			fmt.Sprintf("%.0f bytes (%d calls up; live heap %s → %s)", m.PerCallHeapBytes, m.Answered, mib(m.BaseHeap), mib(m.PeakHeap)),
			m.PerCallHeapBytes > 0 && m.PerCallHeapBytes < 2048 && m.Answered == uint64(m.Calls), m.PeakHeap > 0)
		row(fmt.Sprintf("the same in resident memory (%d calls; with the Go heap's garbage and headroom)", m.Calls),
			fmt.Sprintf("%.0f bytes (RSS %s → %s)", m.PerCallBytes, mib(m.BaseRSS), mib(m.PeakRSS)),
			m.PerCallBytes < 2048 && m.Answered == uint64(m.Calls), true)
		row(fmt.Sprintf("RSS < 100 MiB at %d tracked calls", m.Calls), mib(m.PeakRSS), m.PeakRSS < 100<<20 && m.Answered == uint64(m.Calls), true)
	} else {
		row("memory per tracked call < 2 KiB, RSS < 100 MiB at 10,000 tracked calls", "–", false, false)
	}
	b.WriteString("\n")
}
