package bench

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func level(calls int, loss, p99 float64) Level {
	return Level{Calls: calls, Answered: uint64(calls), Sent: uint64(calls) * 1000, LossPct: loss, P99Ms: p99, PPS: float64(calls) * 100}
}

func TestCapacity(t *testing.T) {
	for _, tt := range []struct {
		name   string
		levels []Level
		want   int
		ok     bool
	}{
		{"all carried", []Level{level(100, 0, 1), level(200, 0.05, 4.9)}, 200, true},
		{"loss at the limit is carried", []Level{level(100, 0.1, 1), level(200, 0.11, 1)}, 100, true},
		{"latency over", []Level{level(100, 0, 1), level(200, 0, 5.1), level(300, 0, 1)}, 100, true},
		{"a call not set up", []Level{level(100, 0, 1), func() Level { l := level(200, 0, 1); l.Answered = 199; return l }()}, 100, true},
		{"a failed call", []Level{func() Level { l := level(100, 0, 1); l.Failed = 1; return l }()}, 0, false},
		{"an error", []Level{{Calls: 100, Err: "daemon died"}}, 0, false},
		{"nothing sent", []Level{{Calls: 100, Answered: 100}}, 0, false},
	} {
		c, ok := Path{Levels: tt.levels}.Capacity()
		if ok != tt.ok || c.Calls != tt.want {
			t.Errorf("%s: capacity %d, %v; want %d, %v", tt.name, c.Calls, ok, tt.want, tt.ok)
		}
	}
}

func TestSplice(t *testing.T) {
	got := Splice("", "bench", "A\n")
	if got != BeginMarker("bench")+"\nA\n"+EndMarker("bench")+"\n" {
		t.Fatalf("new doc: %q", got)
	}
	doc := "# Title\n\nintro\n\n" + Splice("", "bench", "old\n") + "\n## Profiles\nkept\n"
	doc = Splice(doc, "soak", "soak section\n")
	got = Splice(doc, "bench", "new\n")
	if !strings.Contains(got, "intro") || !strings.Contains(got, "## Profiles\nkept") || strings.Contains(got, "old") || !strings.Contains(got, "new") {
		t.Fatalf("spliced: %q", got)
	}
	if Splice(got, "bench", "new\n") != got || !strings.Contains(got, "soak section") {
		t.Fatal("splicing the same section twice changed the document, or lost the other section")
	}
}

func sampleRun() *Run {
	return &Run{
		Machine: Machine{Date: "2026-11-30", CPUs: 2, CPUModel: "AMD EPYC", Kernel: "6.18", GoVersion: "go1.26", Commit: "abc"},
		HoldS:   10,
		Paths: []Path{
			{Name: "direct", Title: "direct", Levels: []Level{level(100, 0, 0.5), level(500, 0, 0.6), level(1000, 0, 0.9)}},
			{Name: "off", Title: "daemons, --policy off", Levels: []Level{level(100, 0, 1), level(500, 0, 2), level(1000, 2, 40)}},
			{Name: "encrypted", Title: "daemons, encrypting", Levels: []Level{level(100, 0, 1), level(500, 0, 1.2), level(1000, 3, 60)}},
			{Name: "wireguard", Title: "wireguard-go", Levels: []Level{level(100, 0, 2), level(500, 8, 300), {Calls: 1000, Err: "not run: the path failed at 500"}}},
		},
		Memory: &Memory{Calls: 10000, Answered: 10000, BaseRSS: 20 << 20, PeakRSS: 35 << 20, PerCallBytes: 1572},
		Setup:  &Setup{Calls: 1000, Rate: 1000, Answered: 1000, AllUpMs: 1001},
	}
}

func TestSectionAndTargets(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSection(&b, sampleRun(), "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"| daemons, encrypting | 500 | 50000 |",
		"| wireguard-go | 100 |",
		"| encrypted capacity ≥ 50% of the direct path | 500 of 1000 calls (50%) | yes |",
		"| encrypted capacity ≥ 5× wireguard-go's | 500 vs 100 calls (5.0×) | yes |",
		"| encrypted capacity ≥ 90% of `--policy off` | 500 of 500 calls (100%) | yes |",
		"1.20 − 0.60 = 0.60 ms | yes |",
		"1000 of 1000 up after 1001 ms, 0 failed | no |",
		"1572 bytes",
		"no: loss 3.00%",
		"no: not run: the path failed at 500",
		"2 CPUs (AMD EPYC)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
}

// The plot is well-formed XML with one line per path that has two or more
// measured levels.
func TestPlotIsSVG(t *testing.T) {
	var b bytes.Buffer
	if err := Plot(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(&b)
	lines := 0
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 8 { // 4 paths × 2 panels
		t.Fatalf("%d polylines, want 8", lines)
	}
}

func TestWriteDoc(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "benchmarks.md")
	os.WriteFile(doc, []byte("# Benchmarks\n\nhand-written\n"), 0o644)
	if err := WriteDoc(doc, dir, "benchmarks.svg", sampleRun()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	if !strings.HasPrefix(string(b), "# Benchmarks\n\nhand-written\n") || !strings.Contains(string(b), BeginMarker("bench")) {
		t.Fatalf("doc: %s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "benchmarks.svg")); err != nil {
		t.Fatal(err)
	}
}
