package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iaxcrypt/iaxcrypt/internal/bench"
	"github.com/iaxcrypt/iaxcrypt/internal/impair"
	"github.com/iaxcrypt/iaxcrypt/internal/load"
	"github.com/iaxcrypt/iaxcrypt/internal/netns"
)

var soakFor = flag.Duration("soak", 0, "run TestSoak for this long (make soak: 30m); 0 skips it")

// impairedRun is one load run through two encrypting daemons with the
// impairment relay between them (A — M — B).
type impairedRun struct {
	calls  int
	hold   time.Duration
	runFor time.Duration // soak: replace calls until then
	rate   float64
	rates  impair.Rates
	// sample, if set, is called every interval while the caller runs.
	sample   func(elapsed time.Duration, daemons [2]*daemon, debugSocks [2]string)
	interval time.Duration
}

// impairedResult is what an impaired run measured.
type impairedResult struct {
	path           *load.PathReport
	caller, callee *load.Report
	relay          impair.Report
	status         [2]loadStatus // A's and B's daemons at the end
}

// loadStatus is `iaxcrypt status --json` with the fields these tests read.
type loadStatus struct {
	Calls []struct {
		Peer    string            `json:"peer"`
		State   string            `json:"state"`
		Cipher  string            `json:"cipher"`
		Warning string            `json:"warning"`
		Reason  string            `json:"reason"`
		Drops   map[string]uint64 `json:"drops"`
	} `json:"calls"`
}

// The test programs of the impairment test.
var tools = map[string]*goBinary{
	"iaxload":   {pkg: "../cmd/iaxload", name: "iaxload"},
	"iaximpair": {pkg: "../internal/impair/iaximpair", name: "iaximpair"},
}

// toolBinary builds one of the test programs (iaxload, iaximpair) once.
func toolBinary(t *testing.T, name string) string {
	t.Helper()
	b, ok := tools[name]
	if !ok {
		t.Fatalf("no test program %q", name)
	}
	return b.get(t)
}

func (d *daemon) loadStatus(t *testing.T) loadStatus {
	t.Helper()
	out, err := exec.Command(d.bin, "status", "--json", "--control", d.control).Output()
	if err != nil {
		t.Fatalf("iaxcrypt status: %v", err)
	}
	var s loadStatus
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("iaxcrypt status --json: %v: %s", err, out)
	}
	return s
}

// debugGet reads a path of a daemon's debug endpoint (a unix socket).
func debugGet(sock, path string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := c.Get("http://daemon" + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// runImpaired sets up the trio, the daemons (serving their debug
// endpoint on unix sockets), the relay and the load, runs it and collects
// the reports.
func runImpaired(t *testing.T, r impairedRun) impairedResult {
	t.Helper()
	tr := netns.NewTrio(t, "impair")
	dir := t.TempDir()
	socks := [2]string{filepath.Join(dir, "debug-a.sock"), filepath.Join(dir, "debug-b.sock")}
	da := newDaemon(t, tr.A, "--log-level", "info", "--debug-addr", "unix:"+socks[0])
	db := newDaemon(t, tr.B, "--log-level", "info", "--debug-addr", "unix:"+socks[1])

	relayA := fmt.Sprintf("%s:%d", tr.MA.Addr.Addr(), daemonPort)
	relayB := fmt.Sprintf("%s:%d", tr.MB.Addr.Addr(), daemonPort)
	relayOut := filepath.Join(dir, "relay.json")
	rr := r.rates
	relay := tr.M.Start("iaximpair", toolBinary(t, "iaximpair"), "--listen-a", relayA, "--listen-b", relayB,
		"--peer-b", fmt.Sprintf("%s:%d", tr.B.IP(), daemonPort), "--loss", fmt.Sprint(rr.Loss),
		"--duplicate", fmt.Sprint(rr.Duplicate), "--reorder", fmt.Sprint(rr.Reorder), "--reorder-delay", rr.ReorderDelay.String(),
		"--delay", rr.Delay.String(), "--out", relayOut)
	relay.WaitOutput(t, 20*time.Second, "iaximpair: ready")

	calleeOut, callerOut := filepath.Join(dir, "callee.json"), filepath.Join(dir, "caller.json")
	callee := tr.B.Start("iaxload-answer", toolBinary(t, "iaxload"), "answer", "--listen", fmt.Sprintf(":%d", appPort),
		"--out", calleeOut, "--retry", "500ms")
	callee.WaitOutput(t, 10*time.Second, "answering on")
	args := []string{"call", "--to", relayA, "--listen", fmt.Sprintf(":%d", appPort), "--calls", fmt.Sprint(r.calls),
		"--hold", r.hold.String(), "--setup-rate", fmt.Sprint(r.rate), "--retry", "500ms", "--out", callerOut}
	if r.runFor > 0 {
		args = append(args, "--run-for", r.runFor.String())
	}
	caller := tr.A.Start("iaxload-call", toolBinary(t, "iaxload"), args...)
	start := time.Now()
	limit := start.Add(r.hold + r.runFor + 2*time.Minute)
	next := start.Add(r.interval)
	for !caller.Exited() {
		if time.Now().After(limit) {
			t.Fatalf("iaxload call still running after %v:\n%s", time.Since(start), caller.Output())
		}
		if r.sample != nil && time.Now().After(next) {
			r.sample(time.Since(start), [2]*daemon{da, db}, socks)
			next = next.Add(r.interval)
		}
		select {
		case <-caller.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if code := caller.ExitCode(); code != 0 {
		t.Fatalf("iaxload call exited %d:\n%s", code, caller.Output())
	}
	var res impairedResult
	res.status = [2]loadStatus{da.loadStatus(t), db.loadStatus(t)}
	for _, p := range []*netns.Process{callee, relay} {
		p.Signal(syscall.SIGTERM)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := p.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s", p.Name, err, p.Output())
		}
	}
	res.caller, res.callee = readLoadReport(t, callerOut), readLoadReport(t, calleeOut)
	var err error
	if res.path, err = load.Merge(res.caller, res.callee); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(relayOut)
	if err == nil {
		err = json.Unmarshal(b, &res.relay)
	}
	if err != nil {
		t.Fatalf("relay report: %v", err)
	}
	return res
}

func readLoadReport(t *testing.T, path string) *load.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("iaxload report: %v", err)
	}
	var r load.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("iaxload report %s: %v", path, err)
	}
	return &r
}

// checkImpaired asserts what every impaired run must show: all calls set
// up and ended, every frame that arrived byte-identical and on its call,
// no duplicate reaching the application, loss no worse than the relay's,
// and no call in clear, failed or flagged on either daemon.
func checkImpaired(t *testing.T, res impairedResult) {
	t.Helper()
	p := res.path
	if p.Setup.Answered != p.Setup.Attempted || p.Setup.Failed != 0 || p.Setup.Unfinished != 0 || p.Setup.Attempted == 0 {
		t.Errorf("calls: %+v", p.Setup)
	}
	for _, d := range []struct {
		name string
		d    load.Direction
		c    impair.Counts
	}{{"caller to callee", p.CallerTo, res.relay.AtoB}, {"callee to caller", p.CalleeTo, res.relay.BtoA}} {
		if d.d.Corrupt != 0 || d.d.Duplicates != 0 {
			t.Errorf("%s: %d frames arrived changed, %d twice", d.name, d.d.Corrupt, d.d.Duplicates)
		}
		if d.d.Received+d.d.Lost != d.d.Sent || d.d.Sent == 0 {
			t.Errorf("%s: sent %d, received %d, lost %d", d.name, d.d.Sent, d.d.Received, d.d.Lost)
		}
		// The daemons lose nothing themselves: what is lost is what the
		// relay dropped (plus a little slack for frames of calls being set up).
		relayLoss := 100 * float64(d.c.Dropped) / float64(max(d.c.In, 1))
		if d.d.LossPct > relayLoss*1.5+0.2 {
			t.Errorf("%s: %.2f%% of the voice lost, the relay dropped %.2f%% of the datagrams", d.name, d.d.LossPct, relayLoss)
		}
	}
	if p.CallerTo.Misrouted+p.CalleeTo.Misrouted != 0 {
		t.Errorf("%d frames arrived on another call", p.CallerTo.Misrouted+p.CalleeTo.Misrouted)
	}
	for i, s := range res.status {
		for _, c := range s.Calls {
			if c.Cipher == "" || (c.State != "encrypted" && c.State != "ended") || c.Warning != "" {
				t.Errorf("daemon %c: call %+v not encrypted throughout", 'A'+i, c)
			}
		}
	}
}

// TestImpairedCallsStayEncrypted runs 30 calls for 20 s through two
// encrypting daemons with 1% loss, 1% reordering and 1% duplication
// between them: every call is set up and ends encrypted, every surviving
// frame arrives byte-identical, and the duplicates are dropped by the
// daemons as replays, never delivered.
func TestImpairedCallsStayEncrypted(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	netns.RequireRoot(t)
	// Reordered datagrams are held 50 ms: later frames of the same call
	// (20 ms apart) overtake them, which the replay window must accept.
	rates := impair.Rates{Loss: 0.01, Reorder: 0.01, ReorderDelay: 50 * time.Millisecond, Duplicate: 0.01, Delay: time.Millisecond}
	res := runImpaired(t, impairedRun{calls: 30, hold: 20 * time.Second, rate: 100, rates: rates})
	checkImpaired(t, res)
	for i, s := range res.status {
		if len(s.Calls) != 30 {
			t.Errorf("daemon %c lists %d calls, want 30", 'A'+i, len(s.Calls))
		}
	}
	// Each duplicate of an encrypted frame is a replay for the receiving
	// daemon. Duplicates of the few cleartext frames (NEW, ACCEPT) are not.
	for i, c := range []impair.Counts{res.relay.AtoB, res.relay.BtoA} {
		var replays uint64
		for _, call := range res.status[1-i].Calls {
			replays += call.Drops["replay"]
		}
		if c.Duplicated == 0 || replays > c.Duplicated || float64(replays) < 0.9*float64(c.Duplicated) {
			t.Errorf("daemon %c dropped %d replays; the relay duplicated %d datagrams toward it", 'B'-i, replays, c.Duplicated)
		}
	}
	if p := res.path; p.CallerTo.Reordered+p.CalleeTo.Reordered == 0 {
		t.Errorf("no voice frame arrived after a later one of its call: the reordering was not exercised")
	}
	for _, d := range []struct {
		name string
		d    load.Direction
	}{{"caller→callee", res.path.CallerTo}, {"callee→caller", res.path.CalleeTo}} {
		t.Logf("%s: sent %d, received %d, lost %d (%.2f%%), reordered %d, p99 %.2f ms", d.name, d.d.Sent, d.d.Received,
			d.d.Lost, d.d.LossPct, d.d.Reordered, d.d.Latency.P99Ms)
	}
	t.Logf("relay: %+v", res.relay)
}

// soakSample is one reading of the daemons during a soak.
type soakSample struct {
	At         time.Duration
	RSS        [2]uint64
	Goroutines [2]int
	Calls      [2]int
}

// TestSoak (make soak) keeps 300 calls up for -soak (30 minutes), each
// held 5 minutes and replaced when it ends, through two encrypting daemons
// with the same impairments as TestImpairedCallsStayEncrypted, and checks
// that the daemons' memory and goroutines stay flat. It writes its
// samples into docs/benchmarks.md.
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("soak not requested (make soak, or -args -soak 30m)")
	}
	netns.RequireRoot(t)
	rates := impair.Rates{Loss: 0.01, Reorder: 0.01, ReorderDelay: 5 * time.Millisecond, Duplicate: 0.01, Delay: time.Millisecond}
	var samples []soakSample
	hold := min(5*time.Minute, *soakFor/3)
	run := impairedRun{calls: 300, hold: hold, runFor: *soakFor, rate: 50, rates: rates, interval: 30 * time.Second}
	run.sample = func(at time.Duration, daemons [2]*daemon, socks [2]string) {
		s := soakSample{At: at.Round(time.Second)}
		for i, d := range daemons {
			s.RSS[i], _ = bench.ProcRSS(d.proc.Cmd.Process.Pid)
			out, err := debugGet(socks[i], "/debug/goroutines")
			if err != nil {
				t.Errorf("goroutines of daemon %c: %v", 'A'+i, err)
				return
			}
			s.Goroutines[i], _ = strconv.Atoi(strings.TrimSpace(out))
			for _, c := range d.loadStatus(t).Calls {
				if c.State == "encrypted" {
					s.Calls[i]++
				}
				// A call being set up as the sample is taken (the held
				// calls are replaced as they end) is still negotiating;
				// the end of the run checks that every call got its keys.
				if c.State == "negotiating" && c.Warning == "" {
					continue
				}
				if c.Cipher == "" || c.Warning != "" || (c.State != "encrypted" && c.State != "ended") {
					t.Errorf("daemon %c at %v: call %+v not encrypted throughout", 'A'+i, at, c)
				}
			}
		}
		t.Logf("%v: RSS %.1f / %.1f MiB, goroutines %d / %d, encrypted calls %d / %d", s.At,
			float64(s.RSS[0])/(1<<20), float64(s.RSS[1])/(1<<20), s.Goroutines[0], s.Goroutines[1], s.Calls[0], s.Calls[1])
		samples = append(samples, s)
	}
	res := runImpaired(t, run)
	checkImpaired(t, res)
	checkFlat(t, samples)
	if err := bench.SpliceFile("../docs/benchmarks.md", "soak", soakSection(samples, res, *soakFor, hold)); err != nil {
		t.Fatal(err)
	}
}

// checkFlat fails the soak if the daemons' memory or goroutines grew from
// the middle third of the run to the last: a leak per call or per packet
// would show there, once the table and buffers reached their working size.
func checkFlat(t *testing.T, samples []soakSample) {
	t.Helper()
	if len(samples) < 6 {
		t.Fatalf("%d samples: too few to judge", len(samples))
	}
	third := len(samples) / 3
	mid, last := samples[third:2*third], samples[2*third:]
	for i := range 2 {
		var rssMid, rssLast uint64
		var gMid, gLast int
		for _, s := range mid {
			rssMid, gMid = max(rssMid, s.RSS[i]), max(gMid, s.Goroutines[i])
		}
		for _, s := range last {
			rssLast, gLast = max(rssLast, s.RSS[i]), max(gLast, s.Goroutines[i])
		}
		if float64(rssLast) > 1.2*float64(rssMid)+2<<20 {
			t.Errorf("daemon %c: RSS grew from %.1f MiB (middle third) to %.1f MiB (last third)", 'A'+i, float64(rssMid)/(1<<20), float64(rssLast)/(1<<20))
		}
		if gLast > gMid+5 {
			t.Errorf("daemon %c: goroutines grew from %d (middle third) to %d (last third)", 'A'+i, gMid, gLast)
		}
	}
}

// soakSection is the soak's part of docs/benchmarks.md.
func soakSection(samples []soakSample, res impairedResult, dur, hold time.Duration) string {
	var b strings.Builder
	p := res.path
	fmt.Fprintf(&b, "### Soak of %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "`make soak`: 300 calls up at once for %v through two encrypting daemons, each call held %v and replaced when it ends; "+
		"the impairment relay between them drops, reorders and duplicates 1%% of the datagrams each. "+
		"%d calls placed, %d answered, %d failed; voice both ways: %d sent, %d lost (%.2f%%), %d duplicates delivered, %d corrupt; p99 %.2f ms.\n\n",
		dur, hold, p.Setup.Attempted, p.Setup.Answered, p.Setup.Failed, p.Both.Sent, p.Both.Lost, p.Both.LossPct, p.Both.Duplicates, p.Both.Corrupt, p.Both.Latency.P99Ms)
	b.WriteString("| time | RSS A | RSS B | goroutines A | goroutines B | encrypted calls A | encrypted calls B |\n|---|---|---|---|---|---|---|\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "| %v | %.1f MiB | %.1f MiB | %d | %d | %d | %d |\n", s.At, float64(s.RSS[0])/(1<<20), float64(s.RSS[1])/(1<<20),
			s.Goroutines[0], s.Goroutines[1], s.Calls[0], s.Calls[1])
	}
	b.WriteString("\n")
	return b.String()
}
